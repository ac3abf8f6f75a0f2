/// One logical record as stored: its position, the record, and the running digest after it.
public struct JournalEntry: Sendable, Equatable {
    /// The record's position in the journal, from 0.
    public var index: UInt64
    /// The record.
    public var record: LogicalRecord
    /// The running digest after folding the record in.
    public var digest: [UInt8]
    /// A `task.done` record's output (whose SHA-256 the record holds), kept so a restarted
    /// coordinator can feed it back to the workflow; nil for other records.
    public var payload: [UInt8]?

    public init(index: UInt64, record: LogicalRecord, digest: [UInt8], payload: [UInt8]? = nil) {
        self.index = index
        self.record = record
        self.digest = digest
        self.payload = payload
    }
}

/// A physical fact: which process did what, retries, deaths, restarts. Never part of the digest.
public struct PhysicalEvent: Sendable, Equatable, Codable {
    /// What happened, such as `award`, `joined`, `departed`, `stale-result`.
    public var kind: String
    /// The agent concerned (`id#incarnation`), or empty.
    public var agent: String
    /// The task concerned, or empty.
    public var task: String
    /// Free-form details.
    public var detail: String
    /// The coordinator's monotonic time, in nanoseconds.
    public var monotonicNanoseconds: UInt64

    public init(kind: String, agent: String = "", task: String = "", detail: String = "", at time: MonotonicTime) {
        self.kind = kind
        self.agent = agent
        self.task = task
        self.detail = detail
        self.monotonicNanoseconds = time.nanoseconds
    }
}

/// Where the coordinator's journals go (the port; MeshStore implements it on SQLite, tests in memory).
///
/// The coordinator calls it from one thread at a time (its journal writer's, or its actor's when
/// nothing is queued), in commit order, and only then acts on what the records decided ("journal
/// before acting"); a throw stops the coordinator, because acting on an unrecorded decision could
/// apply it twice after a restart.
public protocol JournalSink: Sendable {
    /// Appends logical entries, in order; durable when it returns.
    func appendLogical(_ entries: [JournalEntry]) throws
    /// Appends physical events (best effort for ordering; never part of the digest).
    func appendPhysical(_ events: [PhysicalEvent]) throws
    /// Appends logical entries and then physical events, as one unit where the sink can (one
    /// transaction: the coordinator calls this once per inbound batch, so one commit covers the
    /// batch); durable when it returns. The default calls the two methods above in turn.
    func append(logical entries: [JournalEntry], physical events: [PhysicalEvent]) throws
}

extension JournalSink {
    public func append(logical entries: [JournalEntry], physical events: [PhysicalEvent]) throws {
        if !entries.isEmpty { try self.appendLogical(entries) }
        if !events.isEmpty { try self.appendPhysical(events) }
    }
}
