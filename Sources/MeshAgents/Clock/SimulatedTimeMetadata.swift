public import Logging
public import MeshCore
import Synchronization

/// The simulated time this process has seen, as log metadata: every log record of a process
/// that bootstraps swift-log with ``provider`` carries `mesh.sim` (ISO 8601 on the simulated
/// clock), so a log line can be placed on the run's timeline beside the journal.
///
/// Agents observe the sim time of every envelope they take, the coordinator the time of the
/// last committed event; the value only moves forward. In one process with many actors
/// (`meshwork run`) it is the latest any of them saw.
///
/// ```swift
/// LoggingSystem.bootstrap({ StreamLogHandler.standardError(label: $0, metadataProvider: $1) },
///                         metadataProvider: SimulatedTimeMetadata.provider)
/// ```
public enum SimulatedTimeMetadata {
    private static let latest = Atomic<UInt64>(0)

    /// Moves the process's simulated time forward to `time` (never back).
    public static func observe(_ time: SimTime) {
        guard time.microseconds > 0 else { return }
        _ = Self.latest.max(time.microseconds, ordering: .relaxed)
    }

    /// The latest simulated time seen.
    public static var current: SimTime { SimTime(microseconds: Self.latest.load(ordering: .relaxed)) }

    /// `mesh.sim` for every log record.
    public static let provider = Logger.MetadataProvider {
        ["mesh.sim": .string(SimClock.iso8601(Self.current))]
    }
}
