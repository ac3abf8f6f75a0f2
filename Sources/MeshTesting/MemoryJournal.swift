public import MeshCore
import Synchronization

/// A journal sink that keeps everything in memory, for tests.
public final class MemoryJournal: JournalSink {
    private let state = Mutex<([JournalEntry], [PhysicalEvent])>(([], []))

    public init() {}

    /// The logical entries appended, in order.
    public var entries: [JournalEntry] { self.state.withLock { $0.0 } }

    /// The physical events appended, in order.
    public var physicalEvents: [PhysicalEvent] { self.state.withLock { $0.1 } }

    public func appendLogical(_ entries: [JournalEntry]) throws {
        self.state.withLock { $0.0.append(contentsOf: entries) }
    }

    public func appendPhysical(_ events: [PhysicalEvent]) throws {
        self.state.withLock { $0.1.append(contentsOf: events) }
    }
}
