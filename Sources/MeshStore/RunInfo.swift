public import Foundation

/// The identity of a run as its database records it (the `run` table's one row).
public struct RunInfo: Sendable, Equatable, Codable {
    /// The run's id (the name of its directory, `<scenario>-<yyyyMMdd-HHmmss>-<4 hex>`).
    public var id: String
    /// The scenario's name.
    public var scenario: String
    /// The scenario's seed.
    public var seed: UInt64
    /// When the run started (wall clock).
    public var startedAt: Date
    /// When the run finished, or nil while it runs (or if its writer died).
    public var endedAt: Date?
    /// The logical journal's final digest (`sha256:` + hex), set when the run finished.
    public var finalDigest: String?
    /// The schema version the database was created with.
    public var schemaVersion: Int
    /// The process that last opened the run for writing, and its host.
    public var writerPID: Int32?
    /// The host of ``writerPID``.
    public var writerHost: String?

    /// Describes a new run; ``RunStore/create(at:run:options:)`` fills in the rest.
    public init(id: String, scenario: String, seed: UInt64, startedAt: Date = Date()) {
        self.id = id
        self.scenario = scenario
        self.seed = seed
        self.startedAt = startedAt
        self.endedAt = nil
        self.finalDigest = nil
        self.schemaVersion = RunStore.schemaVersion
        self.writerPID = nil
        self.writerHost = nil
    }
}
