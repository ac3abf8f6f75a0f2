internal import DequeModule
import Dispatch
import Foundation
import Logging
import MeshCore
import Synchronization

/// Writes the coordinator's journal on a thread of its own, and sends each batch's messages only
/// once that batch's records are committed: write-ahead, off the coordinator's actor.
///
/// The coordinator's actor decides, hands what a batch decided over with ``submit(_:)``, and goes
/// on with the next inbound batch while the sink commits this one. The thread takes every batch
/// queued meanwhile and appends their records in one call to the sink (group commit), in
/// submission order; once that call returns, it goes through the batches in order and, for each,
/// sends its messages, then runs its `afterCommit`. So no message leaves before the records of its
/// own batch and of every batch submitted before it are durable, and messages leave in the order
/// the actor produced them (the reliable streams' sequence numbers stay in order on the wire).
///
/// When the sink throws, nothing more is sent: the messages of the failed group and of every batch
/// behind it are dropped, `onFailure` gets the error once, and every later ``submit(_:)`` throws
/// it. The records that were not committed are lost as in a crash before their commit, and as
/// there, none of their messages went out: a restarted coordinator re-derives them from the
/// journal it finds.
///
/// ```swift
/// let writer = JournalWriter(sink: journal, transport: transport, clock: clock, logger: logger)
/// writer.start(onFailure: { error in … })      // the thread
/// try writer.submit(JournalWriter.Batch(logical: entries, messages: outbox))
/// await writer.close()                         // commits and sends what is queued, ends the thread
/// ```
final class JournalWriter: Sendable {
    /// What one coordinator flush decided: records to commit, and what may happen only after.
    struct Batch: Sendable {
        /// Logical records, in journal order.
        var logical: [JournalEntry] = []
        /// Physical events (never part of the digest).
        var physical: [PhysicalEvent] = []
        /// Messages to send once the batch is committed, in order.
        var messages: [WireMessage] = []
        /// Call-for-proposals times of the tasks whose ends the batch journals: the hand-off
        /// latency of each is recorded at its commit.
        var ended: [MonotonicTime] = []
        /// A last physical event built from the hand-off latencies of every batch committed before
        /// this one (the batch is committed in a group of its own start for that).
        var latencySummary: (@Sendable (LatencyHistogram) -> PhysicalEvent?)?
        /// Runs on the writer's thread after the batch is committed and its messages are sent.
        var afterCommit: (@Sendable () -> Void)?

        /// Logical entries and physical events, the measure of the queue's size.
        var records: Int { self.logical.count + self.physical.count }

        /// Whether the batch asks for nothing at all.
        var isEmpty: Bool {
            self.logical.isEmpty && self.physical.isEmpty && self.messages.isEmpty && self.ended.isEmpty
                && self.latencySummary == nil && self.afterCommit == nil
        }
    }

    private struct State: ~Copyable {
        var queue: Deque<Batch> = []
        /// Records queued and not yet committed (including the group in progress).
        var queuedRecords = 0
        /// The thread is between taking a group and finishing its sends.
        var busy = false
        /// The thread waits on ``JournalWriter/wake``.
        var sleeping = false
        var started = false
        var closing = false
        /// The thread has ended: later batches are written on the caller's thread.
        var exited = false
        var failure: (any Error)?
        var onFailure: (@Sendable (any Error) -> Void)?
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Records queued beyond which ``waitForRoom()`` suspends the producer.
    let queueLimit: Int
    private let sink: any JournalSink
    private let transport: any MeshTransport
    private let clock: any PhysicalClock
    private let logger: Logger
    private let state = Mutex(State())
    private let histogram = Mutex(LatencyHistogram())
    private let wake = DispatchSemaphore(value: 0)

    /// A writer appending to `sink` and sending on `transport`; ``start(onFailure:)`` starts its thread.
    init(
        sink: any JournalSink, transport: any MeshTransport, clock: any PhysicalClock, logger: Logger,
        queueLimit: Int = 32_768
    ) {
        self.sink = sink
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.queueLimit = queueLimit
    }

    /// Physical time from each ended task's call for proposals to the commit of its end, in nanoseconds.
    var latency: LatencyHistogram { self.histogram.withLock { $0 } }

    /// Starts the thread; `onFailure` is called once, on the writer's thread, if a commit fails.
    func start(onFailure: @escaping @Sendable (any Error) -> Void) {
        let first = self.state.withLock { state -> Bool in
            state.onFailure = onFailure
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in
            // Named from inside: a name set before `start()` does not reach the OS thread here,
            // and profiles (`perf report --sort comm`) should tell this thread apart.
            Thread.current.name = "journal-writer"
            self.run()
        }
        thread.start()
    }

    /// Queues `batch` for the thread; throws the error of a commit that failed before (then
    /// nothing of `batch` is written or sent).
    ///
    /// When every batch before it is committed and sent, `batch` needs no queue: without records
    /// it is sent at once, and with `commitHere` it is committed and sent on the caller's thread
    /// before this returns (a caller with nothing else to do saves the hop to the writer's thread
    /// and its latency). After ``close()``, batches are written and sent on the caller's thread.
    /// The caller submits from one isolation domain at a time.
    func submit(_ batch: Batch, commitHere: Bool = false) throws {
        guard !batch.isEmpty else { return }
        enum Route { case queued(wake: Bool), sendNow, here }
        let route = try self.state.withLock { state throws -> Route in
            if let failure = state.failure { throw failure }
            if state.exited { return .here }
            let idle = state.queue.isEmpty && !state.busy
            if idle, batch.records == 0, batch.latencySummary == nil, batch.afterCommit == nil, batch.ended.isEmpty {
                return .sendNow
            }
            if idle, commitHere {
                // Keeps the thread off while the caller writes (it finds the queue empty anyway).
                state.busy = true
                return .here
            }
            state.queue.append(batch)
            state.queuedRecords += batch.records
            guard state.sleeping else { return .queued(wake: false) }
            state.sleeping = false
            return .queued(wake: true)
        }
        switch route {
        case .queued(let wake):
            if wake { self.wake.signal() }
        case .sendNow:
            self.send(batch.messages)
        case .here:
            let error = self.write([batch])
            let (onFailure, waiters) = self.state.withLock { state in
                state.busy = false
                let onFailure = error.flatMap { Self.recordFailure($0, in: &state) }
                let (rooms, exits) = self.releasedWaiters(&state)
                return (onFailure, rooms + exits)
            }
            for waiter in waiters { waiter.resume() }
            if let error {
                onFailure?(error)
                throw error
            }
        }
    }

    /// Suspends while more than ``queueLimit`` records wait for their commit (back-pressure on
    /// the producer); returns at once otherwise, and after a failure.
    func waitForRoom() async {
        guard self.state.withLock({ $0.queuedRecords > self.queueLimit && $0.failure == nil }) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.state.withLock { state -> Bool in
                guard state.queuedRecords > self.queueLimit, state.failure == nil, !state.exited else { return true }
                state.roomWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Commits and sends everything queued, then ends the thread; idempotent. Later batches are
    /// written on the caller's thread.
    func close() async {
        enum Step { case done, write([Batch]), wait(wake: Bool) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let step = self.state.withLock { state -> Step in
                state.closing = true
                if state.exited { return .done }
                if !state.started {
                    // No thread ever ran: what is queued is written here.
                    state.exited = true
                    let queued = Array(state.queue)
                    state.queue.removeAll()
                    state.queuedRecords = 0
                    return .write(queued)
                }
                state.exitWaiters.append(continuation)
                guard state.sleeping else { return .wait(wake: false) }
                state.sleeping = false
                return .wait(wake: true)
            }
            switch step {
            case .done:
                continuation.resume()
            case .write(let queued):
                if !queued.isEmpty, let error = self.write(queued) { self.fail(error) }
                continuation.resume()
            case .wait(let wake):
                if wake { self.wake.signal() }
            }
        }
    }

    /// The error of the commit that failed, if one did.
    var failure: (any Error)? { self.state.withLock { $0.failure } }

    // MARK: - The thread

    private func run() {
        while let group = self.nextGroup() {
            if group.isEmpty {
                self.wake.wait()
                continue
            }
            let error = self.write(group)
            // The failure is recorded under the same lock that ends the group: a batch submitted
            // meanwhile must not see an idle writer with no failure and be sent at once.
            let (rooms, exits, onFailure) = self.state.withLock { state in
                state.busy = false
                state.queuedRecords -= group.reduce(0) { $0 + $1.records }
                let onFailure = error.flatMap { Self.recordFailure($0, in: &state) }
                let (rooms, exits) = self.releasedWaiters(&state)
                return (rooms, exits, onFailure)
            }
            for waiter in rooms { waiter.resume() }
            for waiter in exits { waiter.resume() }
            if let error, let onFailure { onFailure(error) }
        }
    }

    /// The next group to write; empty when the thread should sleep, nil when it should end.
    private func nextGroup() -> [Batch]? {
        let (group, exits) = self.state.withLock { state -> ([Batch]?, [CheckedContinuation<Void, Never>]) in
            guard let first = state.queue.popFirst() else {
                if state.closing {
                    state.exited = true
                    let (rooms, exits) = self.releasedWaiters(&state)
                    return (nil, rooms + exits)
                }
                state.sleeping = true
                return ([], [])
            }
            var group = [first]
            // A batch asking for the latency summary starts a group: the summary covers every
            // batch committed before it, and only those.
            while let next = state.queue.first, next.latencySummary == nil {
                group.append(next)
                state.queue.removeFirst()
            }
            state.busy = true
            return (group, [])
        }
        for waiter in exits { waiter.resume() }
        return group
    }

    /// The waiters to resume now: producers when the queue is small again, closers once the thread has ended.
    private func releasedWaiters(
        _ state: inout State
    ) -> (rooms: [CheckedContinuation<Void, Never>], exits: [CheckedContinuation<Void, Never>]) {
        var rooms: [CheckedContinuation<Void, Never>] = []
        if state.queuedRecords <= self.queueLimit / 2 || state.failure != nil || state.exited {
            rooms = state.roomWaiters
            state.roomWaiters = []
        }
        var exits: [CheckedContinuation<Void, Never>] = []
        if state.exited {
            exits = state.exitWaiters
            state.exitWaiters = []
        }
        return (rooms, exits)
    }

    /// Commits `group` in one append, then sends each batch's messages and runs its `afterCommit`,
    /// in order; returns the sink's error instead, having sent nothing.
    private func write(_ group: [Batch]) -> (any Error)? {
        var logical: [JournalEntry] = []
        var physical: [PhysicalEvent] = []
        if group.count == 1 {
            logical = group[0].logical
            physical = group[0].physical
        } else {
            logical.reserveCapacity(group.reduce(0) { $0 + $1.logical.count })
            physical.reserveCapacity(group.reduce(0) { $0 + $1.physical.count })
            for batch in group {
                logical.append(contentsOf: batch.logical)
                physical.append(contentsOf: batch.physical)
            }
        }
        // Only the first batch of a group can ask for the summary (see nextGroup), so its event
        // follows that batch's own events, as the coordinator journaled it before.
        if let summary = group[0].latencySummary, let event = summary(self.latency) {
            physical.insert(event, at: group[0].physical.count)
        }
        if !logical.isEmpty || !physical.isEmpty {
            do {
                try self.sink.append(logical: logical, physical: physical)
            } catch {
                return error
            }
        }
        let committed = self.clock.now()
        if group.contains(where: { !$0.ended.isEmpty }) {
            self.histogram.withLock { histogram in
                for batch in group {
                    for start in batch.ended { histogram.record(committed.duration(since: start)) }
                }
            }
        }
        var messages: [WireMessage] = []
        for batch in group {
            messages.append(contentsOf: batch.messages)
            if let afterCommit = batch.afterCommit {
                self.send(messages)
                messages.removeAll()
                afterCommit()
            }
        }
        self.send(messages)
        return nil
    }

    private func send(_ messages: [WireMessage]) {
        guard !messages.isEmpty else { return }
        do {
            try self.transport.send(messages)
        } catch {
            self.logger.debug("send failed", metadata: ["mesh.error": "\(error)"])
        }
    }

    /// Records the first failure, drops what is queued, and tells the owner once.
    private func fail(_ error: any Error) {
        let (onFailure, waiters) = self.state.withLock { state in
            let onFailure = Self.recordFailure(error, in: &state)
            let (rooms, exits) = self.releasedWaiters(&state)
            return (onFailure, rooms + exits)
        }
        for waiter in waiters { waiter.resume() }
        onFailure?(error)
    }

    /// Keeps `error` as the writer's failure and drops every queued batch; returns whom to tell,
    /// unless a failure was recorded before.
    private static func recordFailure(_ error: any Error, in state: inout State) -> (@Sendable (any Error) -> Void)? {
        guard state.failure == nil else { return nil }
        state.failure = error
        state.queue.removeAll()
        state.queuedRecords = 0
        return state.onFailure
    }
}
