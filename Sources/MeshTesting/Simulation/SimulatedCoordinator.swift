internal import DequeModule
import MeshAgents
import MeshCore

/// What survives a coordinator crash: the run database's logical journal (with task outputs)
/// and the highest award each task was given (the physical journal's `award` events, which
/// `StoredJournal.highestAwards()` reads back for a resumed coordinator's fencing).
final class SimulatedRunStore {
    private(set) var entries: [JournalEntry] = []
    private(set) var highestAwards: [TaskID: UInt64] = [:]

    func appendLogical(_ entries: [JournalEntry]) { self.entries += entries }

    func noteAward(_ task: TaskID, _ award: UInt64) {
        self.highestAwards[task] = max(self.highestAwards[task] ?? 0, award)
    }
}

/// A negotiation's timeout, ordered by deadline then task (the coordinator's timer heap).
struct NegotiationTimer: Comparable {
    var deadline: MonotonicTime
    var task: TaskID
    static func < (lhs: NegotiationTimer, rhs: NegotiationTimer) -> Bool { (lhs.deadline, lhs.task) < (rhs.deadline, rhs.task) }
}

/// The coordinator actor's glue (`Coordinator`, `Coordinator+Session`, `Coordinator+Negotiation`
/// in MeshAgents) re-told without an actor, a transport or a clock: the same MeshCore machines —
/// ``Roster``, one ``ReliableLink`` per member, one ``Negotiation`` per task, the
/// ``Orchestrator`` — composed the same way, event for event, so the simulation exercises the
/// real protocol. Each handler runs at a time the world gives it, then ``flush()`` journals and
/// only then releases the messages it produced (journal before acting).
///
/// What it leaves out is physical only: logging, progress lines, telemetry, blob serving.
final class SimulatedCoordinator<W: Workflow> {
    typealias TimerEntry = NegotiationTimer

    let configuration: CoordinatorConfiguration
    let store: SimulatedRunStore
    let probe: SimulationProbe
    let flaw: SimulationFlaw?

    var roster: Roster
    var links: [AgentID: TrackedLink] = [:]
    var negotiations: [TaskID: Negotiation] = [:]
    var taskSimTime: [TaskID: SimTime] = [:]
    var backlog: Deque<(TaskSpec, SimTime)> = []
    var timers = SimulationHeap<TimerEntry>()
    var orchestrator: Orchestrator<W>
    var digest = JournalDigest()
    var pendingEntries: [JournalEntry] = []
    var pendingAwards: [(TaskID, UInt64)] = []
    var outbox: [Envelope] = []
    var linkActions: [ReliableLink.Action] = []
    var committed: Set<TaskID> = []
    var started = false
    var stopping = false
    var awardFloor: [TaskID: UInt64] = [:]
    var agentLoad: [AgentID: Int] = [:]
    var directory: [String: String] = [:]
    var awardHolder: [TaskID: AgentID] = [:]
    var pendingRestore: [(TaskSpec, SimTime)] = []
    var reawards = 0
    var staleResults = 0
    var rejected = 0

    init(
        configuration: CoordinatorConfiguration, workflow: W, store: SimulatedRunStore, probe: SimulationProbe,
        flaw: SimulationFlaw?, restored: RestoredOrchestrator<W>? = nil, awardFloor: [TaskID: UInt64] = [:]
    ) {
        self.configuration = configuration
        self.store = store
        self.probe = probe
        self.flaw = flaw
        self.roster = Roster(configuration: configuration.liveness)
        self.orchestrator = Orchestrator(workflow: workflow)
        if let restored {
            self.orchestrator = restored.orchestrator
            self.digest = restored.digest
            self.started = true
            self.pendingRestore = restored.inFlight.map { ($0.spec, $0.start) }
            self.awardFloor = awardFloor
            self.committed = Set(restored.committedTasks)
        }
    }

    var incarnation: UInt64 { self.configuration.incarnation }
    var isFinished: Bool { self.orchestrator.isFinished }

    /// `run()` up to its loops.
    func start(at now: MonotonicTime) {
        self.performRoster(self.roster.start(at: now), at: now)
        if !self.pendingRestore.isEmpty || self.orchestrator.isFinished {
            self.resumeRestored(at: now)
        }
        self.maybeStartWorkflow(at: now)
        self.flush()
    }

    /// The earliest time `tick` has work to do.
    var nextDeadline: MonotonicTime? {
        var deadline = self.roster.nextDeadline
        for link in self.links.values {
            if let next = link.nextDeadline { deadline = min(deadline ?? next, next) }
        }
        if let timer = self.timers.min { deadline = min(deadline ?? timer.deadline, timer.deadline) }
        return deadline
    }

    // MARK: - Coordinator.swift

    func tick(at now: MonotonicTime) {
        guard !self.stopping else { return }
        self.performRoster(self.roster.tick(at: now), at: now)
        for id in self.links.keys.sorted() {
            guard self.links[id] != nil else { continue }
            self.linkActions.removeAll(keepingCapacity: true)
            self.links[id]!.tick(at: now, into: &self.linkActions)
            self.performLinkActions(from: id, at: now)
        }
        while let first = self.timers.min, first.deadline <= now {
            self.timers.removeMin()
            guard self.negotiations[first.task] != nil else { continue }
            let actions = self.negotiations[first.task]!.timeoutFired(at: now)
            self.perform(actions, for: first.task, at: now)
        }
        self.flush()
    }

    func emit(_ envelope: Envelope) { self.outbox.append(envelope) }

    /// Journals what the handler decided, then releases what it produced. The world takes the outbox.
    func flush() {
        if !self.pendingEntries.isEmpty {
            self.store.appendLogical(self.pendingEntries)
            for entry in self.pendingEntries where entry.record.kind == "task.done" || entry.record.kind == "task.failed" {
                self.probe.journalCommitted(TaskID(unchecked: entry.record.subject))
            }
            self.pendingEntries.removeAll(keepingCapacity: true)
        }
        for (task, award) in self.pendingAwards { self.store.noteAward(task, award) }
        self.pendingAwards.removeAll(keepingCapacity: true)
    }

    func takeOutbox() -> [Envelope] {
        defer { self.outbox.removeAll(keepingCapacity: true) }
        return self.outbox
    }

    func reject(_ reason: String) { self.rejected += 1 }

    // MARK: - Coordinator+Session.swift

    func handle(_ envelope: Envelope, topic: Topic, at now: MonotonicTime) {
        guard !self.stopping else { return }
        guard envelope.receiver == topic else { return self.reject("misrouted") }
        guard envelope.sender != .coordinator else { return }
        if envelope.receiverIncarnation != 0, envelope.receiverIncarnation != self.configuration.incarnation { return }
        self.handle(envelope, at: now)
        self.flush()
    }

    private func handle(_ envelope: Envelope, at now: MonotonicTime) {
        let sender = envelope.sender
        switch envelope.kind {
        case .hello:
            guard let hello = try? Hello(decoding: envelope.body) else { return self.reject("malformed hello") }
            self.performRoster(self.roster.helloReceived(hello, from: sender, incarnation: envelope.senderIncarnation, at: now), at: now)
        case .goodbye:
            self.performRoster(self.roster.goodbyeReceived(from: sender, incarnation: envelope.senderIncarnation), at: now)
        case .welcome, .evicted, .shutdown:
            self.reject("agents do not send \(envelope.kind)")
        case .blobRequest, .blobChunk, .blobMissing:
            self.reject("no blobs in the simulation")
        default:
            let heard = self.roster.heard(from: sender, incarnation: envelope.senderIncarnation, at: now)
            guard heard.isEmpty else { return self.performRoster(heard, at: now) }
            guard self.links[sender] != nil else { return }
            self.linkActions.removeAll(keepingCapacity: true)
            self.links[sender]!.receive(envelope, at: now, into: &self.linkActions, probe: self.probe)
            self.performLinkActions(from: sender, at: now)
        }
    }

    func performRoster(_ actions: [Roster.Action], at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .welcome(let member):
                let welcome = self.roster.liveness.welcome(runID: self.configuration.runID)
                self.emit(Envelope(
                    kind: .welcome, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                    receiver: .agent(member.id), receiverIncarnation: member.incarnation, body: welcome.encoded()))
            case .joined(let member):
                self.directory = self.roster.directory
                self.links[member.id] = TrackedLink(ReliableLink(
                    local: .coordinator, localIncarnation: self.configuration.incarnation, peer: member.id,
                    peerIncarnation: member.incarnation, configuration: self.configuration.link))
                self.maybeStartWorkflow(at: now)
                self.membershipChanged(role: member.role, at: now)
            case .departed(let member, _):
                self.directory = self.roster.directory
                if self.links[member.id]?.peerIncarnation == member.incarnation { self.links[member.id] = nil }
                self.membershipChanged(role: member.role, at: now)
            case .evict(let id, let incarnation):
                self.emit(Envelope(
                    kind: .evicted, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
                    receiver: .agent(id), receiverIncarnation: incarnation,
                    body: Notice(reason: "unknown incarnation; join again").encoded()))
            case .broadcastHeartbeat:
                self.emit(Envelope(
                    kind: .heartbeat, sender: .coordinator, senderIncarnation: self.configuration.incarnation, receiver: .broadcast))
            }
        }
    }

    func performLinkActions(from peer: AgentID, at now: MonotonicTime) {
        guard !self.linkActions.isEmpty else { return }
        let actions = self.linkActions
        self.linkActions.removeAll(keepingCapacity: true)
        for action in actions {
            switch action {
            case .transmit(let envelope):
                self.emit(envelope)
            case .deliver(let envelope):
                self.deliver(envelope, from: AgentRef(id: peer, incarnation: envelope.senderIncarnation), at: now)
            case .unreachable:
                guard let member = self.roster.member(peer) else { continue }
                self.performRoster(self.roster.declareDead(peer, incarnation: member.incarnation), at: now)
            }
        }
    }

    func send(_ kind: MessageKind, _ body: [UInt8], to ref: AgentRef, simTime: SimTime, at now: MonotonicTime) {
        guard self.links[ref.id]?.peerIncarnation == ref.incarnation else { return }
        self.linkActions.removeAll(keepingCapacity: true)
        self.links[ref.id]!.send(kind: kind, body: body, simTime: simTime, at: now, into: &self.linkActions)
        self.performLinkActions(from: ref.id, at: now)
    }

    func candidates(of role: Role) -> [AgentRef] {
        self.roster.members(of: role).map { AgentRef(id: $0.id, incarnation: $0.incarnation) }
    }

    func maybeStartWorkflow(at now: MonotonicTime) {
        guard !self.started else { return }
        let present = Set(self.roster.members.map(\.id))
        guard self.configuration.expectedAgents.allSatisfy(present.contains) else { return }
        self.started = true
        self.perform(self.orchestrator.start(), at: now)
    }

    func finishRun() {
        self.flush()
        self.emit(Envelope(
            kind: .shutdown, sender: .coordinator, senderIncarnation: self.configuration.incarnation,
            receiver: .broadcast, body: Notice(reason: "run finished").encoded()))
        self.stopping = true
    }

    // MARK: - Coordinator+Negotiation.swift

    func deliver(_ envelope: Envelope, from sender: AgentRef, at now: MonotonicTime) {
        do {
            switch envelope.kind {
            case .bid:
                let bid = try Bid(decoding: envelope.body)
                self.withNegotiation(bid.task, at: now) { $0.bidReceived(bid, from: sender, at: now) }
            case .decline:
                let refusal = try Refusal(decoding: envelope.body)
                self.withNegotiation(refusal.task, at: now) {
                    $0.declineReceived(round: UInt32(clamping: refusal.number), from: sender, at: now)
                }
            case .accept:
                let reference = try AwardReference(decoding: envelope.body)
                self.withNegotiation(reference.task, at: now) { $0.acceptReceived(award: reference.award, from: sender, at: now) }
            case .refuse:
                let refusal = try Refusal(decoding: envelope.body)
                self.withNegotiation(refusal.task, at: now) { $0.refuseReceived(award: refusal.number, from: sender, at: now) }
            case .result:
                let result = try TaskResult(decoding: envelope.body)
                if self.flaw == .forgetsFencing { return self.applyUnfenced(result, from: sender, simTime: envelope.simTime, at: now) }
                if self.negotiations[result.task] != nil {
                    self.withNegotiation(result.task, at: now) { $0.resultReceived(result, from: sender, at: now) }
                } else {
                    // Already committed (or unknown): acknowledge so the agent stops resending.
                    self.staleResults += 1
                    let reference = AwardReference(task: result.task, award: result.award)
                    self.send(.resultAck, reference.encoded(), to: sender, simTime: envelope.simTime, at: now)
                }
            default:
                self.reject("unexpected \(envelope.kind) on the reliable stream")
            }
        } catch {
            self.reject("malformed \(envelope.kind): \(error)")
        }
    }

    /// The broken variant (``SimulationFlaw/forgetsFencing``): every result is taken as the
    /// current one, whatever award it names, so a re-awarded task's second result is applied too.
    private func applyUnfenced(_ result: TaskResult, from sender: AgentRef, simTime: SimTime, at now: MonotonicTime) {
        var fenced = true
        if self.negotiations[result.task] != nil {
            self.negotiations[result.task]!.agentLoad = self.agentLoad
            let actions = self.negotiations[result.task]!.resultReceived(result, from: sender, at: now)
            fenced = actions.contains { if case .ignoredStaleResult = $0 { true } else { false } }
            self.perform(actions, for: result.task, at: now)
        } else {
            let reference = AwardReference(task: result.task, award: result.award)
            self.send(.resultAck, reference.encoded(), to: sender, simTime: simTime, at: now)
        }
        guard fenced, case .done(let output) = result.outcome else { return }
        self.probe.resultApplied(result.task)
        self.perform(self.orchestrator.resultArrived(result.task, .done(output)), at: now)
    }

    private func withNegotiation(_ task: TaskID, at now: MonotonicTime, _ event: (inout Negotiation) -> [Negotiation.Action]) {
        guard self.negotiations[task] != nil else { return }
        self.negotiations[task]!.agentLoad = self.agentLoad
        self.negotiations[task]!.directory = self.directory
        let actions = event(&self.negotiations[task]!)
        self.perform(actions, for: task, at: now)
    }

    func perform(_ actions: [Negotiation.Action], for task: TaskID, at now: MonotonicTime) {
        let simTime = self.taskSimTime[task] ?? self.orchestrator.now
        for action in actions {
            switch action {
            case .callForProposals(let call, let ref):
                self.send(.callForProposals, call.encoded(), to: ref, simTime: simTime, at: now)
            case .award(let award, let ref):
                if award.award > 1 { self.reawards += 1 }
                self.holdAward(task, by: ref.id)
                self.pendingAwards.append((task, award.award))
                self.send(.award, award.encoded(), to: ref, simTime: simTime, at: now)
            case .scheduleTimeout(let deadline):
                self.timers.insert(TimerEntry(deadline: deadline, task: task))
            case .completed(let output, _, _):
                self.taskEnded(task, .done(output), at: now)
            case .failed(let reason):
                self.taskEnded(task, .failed(reason), at: now)
            case .acknowledgeResult(let reference, let ref):
                self.send(.resultAck, reference.encoded(), to: ref, simTime: simTime, at: now)
            case .ignoredStaleResult:
                self.staleResults += 1
            }
        }
    }

    private func holdAward(_ task: TaskID, by agent: AgentID?) {
        if let previous = self.awardHolder.removeValue(forKey: task) {
            self.agentLoad[previous, default: 1] -= 1
            if self.agentLoad[previous] == 0 { self.agentLoad[previous] = nil }
        }
        guard let agent else { return }
        self.awardHolder[task] = agent
        self.agentLoad[agent, default: 0] += 1
    }

    private func taskEnded(_ task: TaskID, _ outcome: Orchestrator<W>.Outcome, at now: MonotonicTime) {
        self.holdAward(task, by: nil)
        self.negotiations[task] = nil
        self.taskSimTime[task] = nil
        self.probe.resultApplied(task)
        self.perform(self.orchestrator.resultArrived(task, outcome), at: now)
        self.dispatchFromBacklog(at: now)
    }

    func perform(_ actions: [Orchestrator<W>.Action], at now: MonotonicTime) {
        for action in actions {
            switch action {
            case .journal(let record, let payload):
                let index = self.digest.count
                let digest = self.digest.append(record)
                self.pendingEntries.append(JournalEntry(index: index, record: record, digest: digest, payload: payload))
                if record.kind == "task.done" || record.kind == "task.failed" {
                    self.committed.insert(TaskID(unchecked: record.subject))
                }
            case .dispatch(let spec, let at):
                if self.negotiations.count < self.configuration.maxInFlight {
                    self.startNegotiation(spec, at: at, now: now)
                } else {
                    self.backlog.append((spec, at))
                }
            case .finished:
                self.finishRun()
            }
        }
    }

    private func dispatchFromBacklog(at now: MonotonicTime) {
        while self.negotiations.count < self.configuration.maxInFlight, let (spec, at) = self.backlog.popFirst() {
            self.startNegotiation(spec, at: at, now: now)
        }
    }

    func resumeRestored(at now: MonotonicTime) {
        let tasks = self.pendingRestore
        self.pendingRestore = []
        for (spec, at) in tasks { self.perform([.dispatch(spec, at: at)], at: now) }
        if self.orchestrator.isFinished { self.finishRun() }
    }

    private func startNegotiation(_ spec: TaskSpec, at simTime: SimTime, now: MonotonicTime) {
        var negotiation = Negotiation(
            task: spec.id, role: spec.role, work: spec.work, input: spec.input, policy: self.configuration.negotiation,
            firstAward: (self.awardFloor[spec.id] ?? 0) + 1)
        self.taskSimTime[spec.id] = simTime
        negotiation.agentLoad = self.agentLoad
        negotiation.directory = self.directory
        let actions = negotiation.start(candidates: self.candidates(of: spec.role), at: now)
        self.negotiations[spec.id] = negotiation
        self.perform(actions, for: spec.id, at: now)
    }

    func membershipChanged(role: Role, at now: MonotonicTime) {
        let candidates = self.candidates(of: role)
        for task in self.negotiations.keys.sorted() where self.negotiations[task]?.role == role {
            self.withNegotiation(task, at: now) { $0.candidatesChanged(candidates, at: now) }
        }
    }
}
