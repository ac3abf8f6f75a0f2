internal import DequeModule
internal import HeapModule
public import Logging
public import MeshCore
public import ServiceLifecycle

/// The coordinator: admits agents, negotiates every hand-off, owns simulated time and journals
/// every decision before acting on it. A swift-service-lifecycle `Service`.
///
/// It waits until every expected agent has joined, then starts the workflow. Each task the
/// ``Orchestrator`` dispatches becomes a ``Negotiation`` with the live instances of its role;
/// results flow back through the orchestrator, which commits them in simulated-time order to the
/// ``JournalSink`` — and only after that append are acks and follow-up calls sent. The appends run
/// on a thread of the coordinator's own (a `JournalWriter`), which sends a batch's messages once
/// the batch is committed, while the actor goes on with the next batch.
///
/// ```swift
/// let coordinator = Coordinator(configuration: config, workflow: RelayWorkflow(tokens: 100, seed: 1),
///                               transport: transport, journal: sink, clock: SystemClock(), logger: logger)
/// try await coordinator.run()          // returns when the workflow has finished
/// let report = await coordinator.report
/// ```
public actor Coordinator<W: Workflow>: Service {
    /// The coordinator's logger (metadata `mesh.agent`).
    public nonisolated let logger: Logger

    let configuration: CoordinatorConfiguration
    let transport: any MeshTransport
    let journal: any JournalSink
    /// Commits each flush's records on its own thread, then sends the flush's messages.
    let writer: JournalWriter
    let clock: any PhysicalClock
    let blobStore: (any BlobStorePort)?
    let onProgress: @Sendable (RunProgress) -> Void
    let onFinished: @Sendable (RunReport) -> Void

    var roster: Roster
    var links: [AgentID: ReliableLink] = [:]
    /// Every open task: its negotiation and the bookkeeping beside it, one entry per task so an
    /// event hashes the task id once.
    var openTasks: [TaskID: OpenTask] = [:]
    var backlog: Deque<(TaskSpec, SimTime)> = []
    /// At most one pending entry per open task (``OpenTask/armed``): later deadlines wait behind it.
    var timers = Heap<CoordinatorTimer>()
    var orchestrator: Orchestrator<W>
    var digest = JournalDigest()
    var pendingEntries: [JournalEntry] = []
    var pendingPhysical: [PhysicalEvent] = []
    var outbox: [WireMessage] = []
    var linkActions: [ReliableLink.Action] = []
    var committed: Set<TaskID> = []
    var started = false
    var stopping = false
    var stopWaiter: CheckedContinuation<Void, Never>?
    var lastProgress = MonotonicTime.zero
    var processes: Set<String> = []
    var counters = Counters()
    var failure: (any Error)?

    struct Counters {
        var reawards = 0
        var staleResults = 0
        var rejected = 0
        var departures = 0
        var duplicateCommits = 0
        var failedTasks = 0
        var blobChunksServed = 0
    }

    var awardFloor: [TaskID: UInt64] = [:]
    var agentLoad: [AgentID: Int] = [:]
    var directory: [String: String] = [:]
    var pendingRestore: [(TaskSpec, SimTime)] = []
    /// Start times of tasks ended in this batch, recorded once their commit is journaled.
    var endedStarts: [MonotonicTime] = []
    /// The next flush's summary of the hand-off latency (the run's last physical event).
    var pendingLatencySummary: (@Sendable (LatencyHistogram) -> PhysicalEvent?)?
    /// Wall-clock pacing: when the workflow started, and the dispatches waiting for their time.
    var pacingOrigin: MonotonicTime?
    var paced = Heap<PacedDispatch>()
    var pacedOrder = 0

    /// Makes a coordinator for `workflow`; ``run()`` starts it.
    ///
    /// `restored`, when given, is the state rebuilt from the run's journal by a restarted
    /// coordinator: the workflow goes on from there without waiting for every agent, and the
    /// tasks that were in flight are negotiated again with award numbers above `awardFloor`'s
    /// (the highest award each task had before), so results of the old awards are fenced.
    ///
    /// `blobStore` holds the run's artifacts, served in chunks to any member that asks
    /// (docs/WIRE.md, "Blobs"); without it every blob request is answered `blobMissing`.
    public init(
        configuration: CoordinatorConfiguration,
        workflow: W,
        transport: any MeshTransport,
        journal: any JournalSink,
        clock: any PhysicalClock,
        logger: Logger,
        restored: RestoredOrchestrator<W>? = nil,
        awardFloor: [TaskID: UInt64] = [:],
        blobStore: (any BlobStorePort)? = nil,
        onProgress: @escaping @Sendable (RunProgress) -> Void = { _ in },
        onFinished: @escaping @Sendable (RunReport) -> Void = { _ in }
    ) {
        var logger = logger
        logger[metadataKey: "mesh.agent"] = "coordinator"
        self.logger = logger
        self.configuration = configuration
        self.transport = transport
        self.journal = journal
        self.writer = JournalWriter(sink: journal, transport: transport, clock: clock, logger: logger)
        self.clock = clock
        self.blobStore = blobStore
        self.onProgress = onProgress
        self.onFinished = onFinished
        self.roster = Roster(configuration: configuration.liveness)
        self.orchestrator = Orchestrator(workflow: workflow)
        self.processes.insert("\(configuration.host)/\(configuration.pid)")
        if let restored {
            self.orchestrator = restored.orchestrator
            self.digest = restored.digest
            self.started = true
            self.pendingRestore = restored.inFlight.map { ($0.spec, $0.start) }
            self.awardFloor = awardFloor
            self.committed = Set(restored.committedTasks)
        }
    }

    /// Physical time from each committed task's first call for proposals to the journal append of
    /// its result (negotiation, the agent's work, and the journal write), in nanoseconds.
    public var handoffLatency: LatencyHistogram { self.writer.latency }

    /// The workflow as it ended (or is now), for audits.
    public var workflow: W { self.orchestrator.currentWorkflow }

    /// Whether the workflow has finished.
    public var isFinished: Bool { self.orchestrator.isFinished }

    /// The run's figures so far.
    public var report: RunReport {
        RunReport(
            digest: self.digest.text,
            records: self.digest.count,
            handoffs: self.orchestrator.committedTasks,
            distinctTasks: self.committed.count,
            failedTasks: self.counters.failedTasks,
            reawards: self.counters.reawards,
            staleResults: self.counters.staleResults,
            rejectedMessages: self.counters.rejected,
            processes: self.processes.sorted(),
            departures: self.counters.departures,
            simMicroseconds: self.orchestrator.now.microseconds,
            audit: self.orchestrator.currentWorkflow.audit()
        )
    }

    /// Serves until the workflow finishes (then tells every agent the run is over) or a graceful shutdown.
    ///
    /// Throws when the journal cannot be written: acting on an unrecorded decision is never safe.
    public func run() async throws {
        try self.transport.subscribe(.agent(.coordinator))
        self.writer.start { [weak self] error in
            guard let self else { return }
            Task { await self.journalFailed(error) }
        }
        self.performRoster(self.roster.start(at: self.clock.now()), at: self.clock.now())
        if !self.pendingRestore.isEmpty || self.orchestrator.isFinished {
            self.resumeRestored()
        }
        self.maybeStartWorkflow()
        try self.flush()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.receiveLoop() }
            group.addTask { await self.timerLoop() }
            if self.configuration.wallClockPacing { group.addTask { await self.pacingLoop() } }
            await withGracefulShutdownHandler {
                await self.waitForStop()
            } onGracefulShutdown: {
                Task { await self.stop() }
            }
            // What is queued is committed and sent before the transport closes.
            await self.writer.close()
            await self.transport.shutdown()
        }
        if let failure = self.failure { throw failure }
    }

    /// Ends ``run()``.
    public func stop() {
        guard !self.stopping else { return }
        self.stopping = true
        self.stopWaiter?.resume()
        self.stopWaiter = nil
    }

    private func waitForStop() async {
        guard !self.stopping else { return }
        await withCheckedContinuation { self.stopWaiter = $0 }
    }

    private func receiveLoop() async {
        while let batch = await self.transport.inbound.next() {
            guard !self.stopping else { continue }
            self.handle(batch)
            // What queued up meanwhile joins this flush (group commit): one journal transaction and
            // one send for all of it, still before anything it decided goes out. The transport's
            // inbound limit bounds how much that is.
            for more in self.transport.inbound.drain() where !self.stopping {
                self.handle(more)
            }
            self.flushOrFail()
            // The writer commits while the next batch is handled; past its limit, wait for it.
            await self.writer.waitForRoom()
        }
    }

    private func timerLoop() async {
        while !self.stopping {
            do {
                try await self.clock.sleep(until: self.clock.now().adding(self.configuration.tickInterval))
            } catch {
                return
            }
            guard !self.stopping else { return }
            self.tick()
            self.flushOrFail()
        }
    }

    /// Releases paced dispatches when their time comes (`wallClockPacing`), checking at least every millisecond.
    private func pacingLoop() async {
        while !self.stopping {
            let now = self.clock.now()
            let soon = now.adding(.milliseconds(1))
            let deadline = self.paced.min.map { min($0.due, soon) } ?? soon
            do {
                try await self.clock.sleep(until: deadline)
            } catch {
                return
            }
            guard !self.stopping else { return }
            let woke = self.clock.now()
            guard let first = self.paced.min, first.due <= woke else { continue }
            while let next = self.paced.min, next.due <= woke {
                _ = self.paced.removeMin()
                self.perform([.dispatch(next.spec, at: next.at)], at: woke)
            }
            self.flushOrFail()
        }
    }

    // MARK: - Timers

    private func tick() {
        let now = self.clock.now()
        self.performRoster(self.roster.tick(at: now), at: now)
        for id in self.links.keys.sorted() {
            guard self.links[id] != nil else { continue }
            self.linkActions.removeAll(keepingCapacity: true)
            self.links[id]!.tick(at: now, into: &self.linkActions)
            self.performLinkActions(from: id, at: now)
        }
        while let first = self.timers.min, first.deadline <= now {
            _ = self.timers.removeMin()
            self.timerFired(first, at: now)
        }
        if now.duration(since: self.lastProgress) >= self.configuration.progressInterval {
            self.lastProgress = now
            self.onProgress(self.progress)
        }
    }

    /// The current progress.
    public var progress: RunProgress {
        RunProgress(
            committedTasks: self.orchestrator.committedTasks,
            pendingTasks: self.orchestrator.pendingTasks,
            members: self.roster.members.count,
            simTime: self.orchestrator.now,
            started: self.started,
            services: self.directory
        )
    }

    // MARK: - Output

    func emit(_ envelope: Envelope) {
        self.outbox.append(WireMessage(envelope))
    }

    /// Hands what the batch decided to the journal writer, which sends what it produced once
    /// that is committed: journal before acting. `afterCommit` runs after the commit and the sends
    /// (on the writer's thread, or on the actor when it commits the batch itself). Throws if a
    /// commit failed; then nothing of this batch is written or sent.
    func flush(afterCommit: (@Sendable () -> Void)? = nil) throws {
        var batch = JournalWriter.Batch()
        // Swapped out rather than copied: the arrays keep no second reference on the actor.
        swap(&batch.logical, &self.pendingEntries)
        swap(&batch.physical, &self.pendingPhysical)
        swap(&batch.messages, &self.outbox)
        swap(&batch.ended, &self.endedStarts)
        // The next batch is about as large: one allocation each instead of growing from empty.
        self.pendingEntries.reserveCapacity(batch.logical.count)
        self.pendingPhysical.reserveCapacity(batch.physical.count)
        self.outbox.reserveCapacity(batch.messages.count)
        batch.latencySummary = self.pendingLatencySummary
        batch.afterCommit = afterCommit
        self.pendingLatencySummary = nil
        // With no inbound batch waiting, the actor would only wait for the next one: it commits
        // this batch itself (when nothing is queued before it), which saves the hop to the
        // writer's thread. With batches waiting, the writer commits while the actor handles them.
        // The run's last flush (the one with `afterCommit`) is committed here whenever it can be,
        // so the report goes out as soon as before.
        try self.writer.submit(batch, commitHere: afterCommit != nil || self.transport.inbound.depth == 0)
    }

    func flushOrFail(afterCommit: (@Sendable () -> Void)? = nil) {
        do {
            try self.flush(afterCommit: afterCommit)
        } catch {
            self.journalFailed(error)
        }
    }

    /// A commit failed (on the writer's thread, or reported at a later flush): stop, sending nothing more.
    func journalFailed(_ error: any Error) {
        guard self.failure == nil else { return }
        self.logger.critical("cannot write the journal; stopping", metadata: ["mesh.error": "\(error)"])
        self.failure = error
        self.outbox.removeAll()
        self.stop()
    }

    func reject(_ reason: String) {
        self.counters.rejected += 1
        if self.counters.rejected <= 20 || self.counters.rejected % 1000 == 0 {
            self.logger.warning("rejected a message", metadata: ["mesh.reason": "\(reason)", "mesh.count": "\(self.counters.rejected)"])
        }
    }

    func physical(_ kind: String, agent: String = "", task: String = "", detail: String = "", at now: MonotonicTime) {
        self.pendingPhysical.append(PhysicalEvent(kind: kind, agent: agent, task: task, detail: detail, at: now))
    }
}

/// An open task as the coordinator keeps it: its negotiation and what goes with it.
struct OpenTask {
    /// The contract net for the task.
    var negotiation: Negotiation
    /// The task's simulated start time, attached to every message about it.
    var simTime: SimTime
    /// When its call for proposals first went out, for the hand-off latency.
    var started: MonotonicTime
    /// The agent holding its current award (counted in the coordinator's `agentLoad`).
    var holder: AgentID?
    /// The deadline of its pending entry in the timer heap, if any.
    var armed: MonotonicTime?
}

/// A negotiation's entry in the coordinator's timer heap.
///
/// Outside the generic `Coordinator` on purpose: nested in it, the type was generic and every
/// heap operation went through runtime metadata and witness tables (a profile showed it).
struct CoordinatorTimer: Comparable {
    var deadline: MonotonicTime
    var task: TaskID
    static func < (lhs: CoordinatorTimer, rhs: CoordinatorTimer) -> Bool { (lhs.deadline, lhs.task) < (rhs.deadline, rhs.task) }
}

/// A dispatch held back until its wall-clock time (`wallClockPacing`).
struct PacedDispatch: Comparable {
    var due: MonotonicTime
    var order: Int
    var spec: TaskSpec
    var at: SimTime
    static func < (lhs: PacedDispatch, rhs: PacedDispatch) -> Bool { (lhs.due, lhs.order) < (rhs.due, rhs.order) }
    static func == (lhs: PacedDispatch, rhs: PacedDispatch) -> Bool { (lhs.due, lhs.order) == (rhs.due, rhs.order) }
}
