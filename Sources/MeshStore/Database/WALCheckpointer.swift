import Dispatch
import Foundation
import GRDB
import Synchronization

/// Copies a writer's WAL back into the database file from a thread and a connection of its own,
/// so that the writer's commits do not wait for a checkpoint's two fsyncs.
///
/// With SQLite's automatic checkpoint, the commit that crosses 1,000 WAL pages runs the
/// checkpoint itself: on a loaded machine its `fdatasync` calls took 17-78 ms each (strace of a
/// coordinator during `meshwork bench --only handoffs`), and the coordinator's actor, which
/// commits every batch before it acts, stood still meanwhile. This thread runs a PASSIVE
/// checkpoint every ``interval`` instead: it never blocks the writer or a reader, and it syncs
/// as the writer's own checkpoint would (`synchronous = NORMAL`). The writer keeps an automatic
/// checkpoint only as a backstop at ``RunStore/backstopCheckpointPages`` pages (a WAL that a
/// busy writer never lets the passive checkpoints catch up with is restarted by it).
///
/// Durability is unchanged: a commit is in the WAL when it returns, and a checkpoint only moves
/// committed pages, whichever connection runs it.
final class WALCheckpointer: Sendable {
    /// How often the thread checkpoints.
    static let interval: Duration = .milliseconds(25)

    private let stopRequested = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens a second connection to `path` (a WAL database the caller writes) and starts the thread.
    init(path: String, synchronous: String) throws(StoreError) {
        var configuration = Configuration()
        configuration.label = "meshwork.store.checkpointer"
        // A PASSIVE checkpoint never waits on the busy handler; this only bounds the open.
        configuration.busyMode = .timeout(5)
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
        } catch {
            throw StoreError(error, path: path, doing: "cannot open the checkpoint connection")
        }
        let thread = Thread { [self] in
            // Named from inside, in at most 15 characters (Linux's limit): a name set before
            // `start()` never reached the OS thread, which kept its creator's name in profiles.
            Thread.current.name = "wal-checkpoint"
            self.run(queue)
        }
        thread.start()
    }

    /// Stops the thread after its current checkpoint and closes its connection; idempotent.
    func stop() {
        guard !self.stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.wake.signal()
        self.finished.wait()
    }

    private func run(_ queue: DatabaseQueue) {
        let nanoseconds = UInt64(Self.interval.components.attoseconds / 1_000_000_000)
            + UInt64(Self.interval.components.seconds) * 1_000_000_000
        while !self.stopRequested.load(ordering: .acquiring) {
            _ = self.wake.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
            guard !self.stopRequested.load(ordering: .acquiring) else { break }
            // A failure (the disk full, say) leaves the pages in the WAL, where they are safe; the
            // writer's backstop checkpoint and its own errors report what matters.
            try? queue.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        }
        try? queue.close()
        self.finished.signal()
    }
}
