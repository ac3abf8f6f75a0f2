import MeshAgents
public import MeshCore

/// What a simulated run ended with.
public struct SimulationOutcome: Sendable {
    /// Counters of what happened.
    public struct Statistics: Sendable, Equatable {
        /// Events processed.
        public var events = 0
        /// The physical (simulated monotonic) time the run took.
        public var elapsed: Duration = .zero
        /// Messages sent (one per receiver), lost and duplicated by the network.
        public var messages = 0
        public var dropped = 0
        public var duplicated = 0
        /// Faults injected and restarts the supervisor made.
        public var agentCrashes = 0
        public var agentRestarts = 0
        public var coordinatorCrashes = 0
        public var coordinatorRestarts = 0
        public var pauses = 0
        public var cuts = 0
        /// Times the supervisor ran out of restart budget and stopped the mesh (then resumed it from the journal).
        public var supervisorGaveUp = 0
        /// Awards after a task's first, and results fenced off as stale, summed over coordinator incarnations.
        public var reawards = 0
        public var staleResults = 0
        /// Results handed to the orchestrator (including those a crash then lost before commit).
        public var applications = 0

        /// All zero.
        public init() {}
    }

    /// The scenario run.
    public var scenario: SimulationScenario
    /// Whether the workflow finished.
    public var finished: Bool
    /// Every invariant that broke, each with the physical time it broke at; empty when all held.
    public var violations: [String]
    /// A fingerprint of every event processed, in order: the same seed must give the same trace.
    public var trace: UInt64
    /// The logical journal's digest, and the digest `Orchestrator.runLocally` gives for the same workflow.
    public var digest: String
    /// See ``digest``.
    public var referenceDigest: String
    /// The logical journal.
    public var records: [LogicalRecord]
    /// `task.failed` records in the journal.
    public var failedTasks: Int
    /// What happened, counted.
    public var statistics: Statistics

    /// Whether every invariant held.
    public var passed: Bool { self.violations.isEmpty }

    /// How to run just this seed again.
    public var rerun: String {
        "MESHWORK_SIM_SEED=\(self.scenario.seed) swift test --filter DeterministicSimulationTests"
    }

    /// The failure report: the seed, how to rerun it, the scenario, what broke.
    public var report: String {
        var lines = ["simulation seed \(self.scenario.seed) failed; rerun just it with: \(self.rerun)", "scenario: \(self.scenario.summary)"]
        lines += self.violations.map { "  - " + $0 }
        lines.append("statistics: \(self.statistics)")
        return lines.joined(separator: "\n")
    }
}

/// A deterministic simulation of a whole mesh — one coordinator, agents of several roles, the
/// supervisor — in one thread, over a simulated monotonic clock and a seeded network that drops,
/// duplicates, delays and reorders messages, with agent crashes and pauses, network cuts and
/// coordinator crashes (restored from the journal). The coordinator and agents are the MeshCore
/// state machines composed as the actors compose them (``SimulatedCoordinator``, ``SimulatedAgent``).
///
/// While it runs it checks that reliable streams deliver what they acknowledge exactly once and
/// that the orchestrator never gets a result twice for a task; at the end, that the workflow
/// finished, that every task was committed once (done or failed), that the journal equals the one
/// `Orchestrator.runLocally` gives, and that the workflow's own audit passes.
///
/// ```swift
/// let outcome = Simulation.run(.generated(seed: 42, workload: .relay(tokens: 30)))
/// #expect(outcome.passed, "\(outcome.report)")
/// ```
public enum Simulation {
    /// Runs `scenario` to its end (or to its horizon) and reports.
    public static func run(_ scenario: SimulationScenario) -> SimulationOutcome {
        switch scenario.workload {
        case .relay(let tokens):
            let work = SimulationWork(
                canDo: { $0 == RelayWorkflow.work },
                perform: { _, task, input in .done(RelayWork.output(input: input, task: task)) })
            return SimulationWorld(scenario: scenario, work: work) { RelayWorkflow(tokens: tokens, seed: scenario.seed) }.run()
        case .fanIn(let jobs):
            let work = SimulationWork(
                canDo: { $0 == FanInWorkflow.work },
                perform: { work, task, input in FanInWorkflow.perform(work: work, task: task, input: input) ?? .failed("cannot do \(work)") })
            return SimulationWorld(scenario: scenario, work: work) { FanInWorkflow(jobs: jobs, seed: scenario.seed) }.run()
        }
    }
}

/// A process of the simulated mesh.
enum SimulationNode: Hashable {
    case coordinator
    case agent(Int)
}

/// What happens at an event of the simulation (outside the generic world, so that debug builds
/// do not look up generic metadata at every event).
enum SimulationEventKind {
    case deliver(SimulationNode, Topic, Envelope, epoch: Int)
    case tick(SimulationNode, generation: Int)
    case workDone(Int, generation: Int, Award, SimTime)
    case fault(SimulationFault.Action)
    case restartAgent(Int, epoch: Int)
    case restartCoordinator(epoch: Int)
    case unpause(Int, generation: Int)
    case resumeMesh(epoch: Int)
}

/// One event, ordered by time and then by the order it was scheduled in.
struct SimulationEvent: Comparable {
    var time: MonotonicTime
    var order: UInt64
    var kind: SimulationEventKind
    static func < (lhs: SimulationEvent, rhs: SimulationEvent) -> Bool { (lhs.time, lhs.order) < (rhs.time, rhs.order) }
    static func == (lhs: SimulationEvent, rhs: SimulationEvent) -> Bool { (lhs.time, lhs.order) == (rhs.time, rhs.order) }
}

/// The world: processes, network, supervisor and faults, as one discrete-event loop.
final class SimulationWorld<W: Workflow> {
    typealias Node = SimulationNode
    typealias Kind = SimulationEventKind
    typealias Event = SimulationEvent

    static var tickInterval: UInt64 { 5_000_000 }

    let scenario: SimulationScenario
    let work: SimulationWork
    let makeWorkflow: () -> W
    let probe = SimulationProbe()
    let store = SimulatedRunStore()
    let policy = Negotiation.Policy()

    var rng: SeededRandom
    var now = MonotonicTime.zero
    var queue = SimulationHeap<Event>()
    var order: UInt64 = 0
    var coordinator: SimulatedCoordinator<W>?
    var coordinatorGeneration = 0
    var agents: [SimulatedAgent?]
    var generations: [Int]
    var epoch = 0
    var budget: RestartBudget
    var pausedUntil: [Int: MonotonicTime] = [:]
    var deferred: [Int: [Event]] = [:]
    var cuts: [Int: (toCoordinator: Bool, fromCoordinator: Bool, until: MonotonicTime)] = [:]
    var scheduledTick: [Node: MonotonicTime] = [:]
    var statistics = SimulationOutcome.Statistics()
    var lastIncarnation: UInt64 = 0

    init(scenario: SimulationScenario, work: SimulationWork, makeWorkflow: @escaping () -> W) {
        self.scenario = scenario
        self.work = work
        self.makeWorkflow = makeWorkflow
        self.rng = SeededRandom(seed: scenario.seed, key: "simulation/world")
        self.agents = Array(repeating: nil, count: scenario.agents.count)
        self.generations = Array(repeating: 0, count: scenario.agents.count)
        self.budget = RestartBudget(maxRestarts: scenario.maxRestarts, window: scenario.restartWindow)
    }

    // MARK: - The loop

    func run() -> SimulationOutcome {
        self.startCoordinator(resume: false)
        for index in self.agents.indices {
            self.schedule(.restartAgent(index, epoch: 0), at: self.now.adding(.microseconds(self.draw(self.scenario.restartDelay))))
        }
        for fault in self.scenario.faults { self.schedule(.fault(fault.action), at: MonotonicTime.zero.adding(fault.at)) }
        var finished = false
        let horizon = MonotonicTime.zero.adding(self.scenario.horizon)
        while let event = self.queue.removeMin() {
            self.statistics.events += 1
            if event.time > horizon || self.statistics.events > self.scenario.maxEvents {
                self.probe.violation(
                    "livelock: the workflow had not finished after \(self.statistics.events) events and \(event.time) of physical time"
                        + " (\(self.coordinator?.orchestrator.pendingTasks ?? -1) tasks pending, \(self.coordinator?.negotiations.count ?? -1) negotiations open)")
                break
            }
            self.now = event.time
            self.probe.advance(to: event.time)
            self.process(event)
            if let coordinator = self.coordinator, coordinator.stopping {
                finished = true
                break
            }
        }
        if !finished, self.probe.violations.isEmpty { self.probe.violation("the world ran out of events before the workflow finished") }
        self.statistics.elapsed = self.now.duration(since: .zero)
        return self.outcome(finished: finished)
    }

    private func process(_ event: Event) {
        switch event.kind {
        case .deliver(let node, let topic, let envelope, let epoch):
            guard epoch == self.epoch else { return }
            switch node {
            case .coordinator:
                guard let coordinator = self.coordinator else { return }
                if self.defer(event, for: Self.coordinatorKey) { return }
                self.probe.record(1, event.time.nanoseconds, UInt64(envelope.kind.rawValue), envelope.sequence, envelope.ack)
                coordinator.handle(envelope, topic: topic, at: self.now)
                self.settle(.coordinator)
            case .agent(let index):
                guard let agent = self.agents[index] else { return }
                if self.defer(event, for: index) { return }
                self.probe.record(2, UInt64(index), event.time.nanoseconds, UInt64(envelope.kind.rawValue), envelope.sequence)
                agent.handle(envelope, topic: topic, at: self.now)
                self.settle(.agent(index))
            }
        case .tick(let node, let generation):
            guard self.scheduledTick[node] == event.time else { return }
            switch node {
            case .coordinator:
                guard generation == self.coordinatorGeneration, let coordinator = self.coordinator else { return }
                if self.defer(event, for: Self.coordinatorKey) { return }
                self.scheduledTick[node] = nil
                self.probe.record(3, event.time.nanoseconds)
                coordinator.tick(at: self.now)
                self.settle(.coordinator)
            case .agent(let index):
                guard generation == self.generations[index], let agent = self.agents[index] else { return }
                if self.defer(event, for: index) { return }
                self.scheduledTick[node] = nil
                self.probe.record(4, UInt64(index), event.time.nanoseconds)
                agent.tick(at: self.now)
                self.settle(.agent(index))
            }
        case .workDone(let index, let generation, let award, let simTime):
            guard generation == self.generations[index], let agent = self.agents[index] else { return }
            if self.defer(event, for: index) { return }
            self.probe.record(5, UInt64(index), event.time.nanoseconds, award.award)
            agent.workFinished(award, simTime: simTime, at: self.now)
            self.settle(.agent(index))
        case .fault(let action):
            self.probe.record(6, event.time.nanoseconds)
            self.inject(action)
        case .restartAgent(let index, let epoch):
            guard epoch == self.epoch, self.agents[index] == nil else { return }
            self.startAgent(index)
        case .restartCoordinator(let epoch):
            guard epoch == self.epoch, self.coordinator == nil else { return }
            self.startCoordinator(resume: true)
        case .unpause(let index, let generation):
            let isCoordinator = index == Self.coordinatorKey
            guard generation == (isCoordinator ? self.coordinatorGeneration : self.generations[index]) else { return }
            self.pausedUntil[index] = nil
            for held in self.deferred.removeValue(forKey: index) ?? [] {
                var again = held
                again.time = self.now
                self.order += 1
                again.order = self.order
                if case .tick = held.kind { self.scheduledTick[isCoordinator ? .coordinator : .agent(index)] = self.now }
                self.queue.insert(again)
            }
        case .resumeMesh(let epoch):
            guard epoch == self.epoch else { return }
            self.budget = RestartBudget(maxRestarts: self.scenario.maxRestarts, window: self.scenario.restartWindow)
            self.startCoordinator(resume: true)
            for index in self.agents.indices { self.startAgent(index) }
        }
    }

    /// The key of the coordinator's pause in ``pausedUntil`` and ``deferred`` (agents use their index).
    static var coordinatorKey: Int { -1 }

    /// Holds an event for a paused process until it resumes; `true` when held.
    private func `defer`(_ event: Event, for index: Int) -> Bool {
        guard let until = self.pausedUntil[index], self.now < until else { return false }
        self.deferred[index, default: []].append(event)
        return true
    }

    // MARK: - Output and timers

    /// After a node handled something: send its messages, start its work, schedule its next tick.
    private func settle(_ node: Node) {
        switch node {
        case .coordinator:
            guard let coordinator = self.coordinator else { return }
            for envelope in coordinator.takeOutbox() { self.transmit(envelope, from: node) }
            self.scheduleTick(node, deadline: coordinator.nextDeadline, generation: self.coordinatorGeneration)
        case .agent(let index):
            guard let agent = self.agents[index] else { return }
            for envelope in agent.takeOutbox() { self.transmit(envelope, from: node) }
            for (award, simTime) in agent.startedWork {
                let done = self.now.adding(.microseconds(self.draw(self.scenario.workTime)))
                self.schedule(.workDone(index, generation: self.generations[index], award, simTime), at: done)
            }
            agent.startedWork.removeAll()
            self.scheduleTick(node, deadline: agent.nextDeadline, generation: self.generations[index])
        }
    }

    /// Actors check their machines every 5 ms: the tick comes at the first 5 ms boundary at or after the deadline.
    private func scheduleTick(_ node: Node, deadline: MonotonicTime?, generation: Int) {
        guard let deadline else { return }
        let interval = Self.tickInterval
        let earliest = max(deadline.nanoseconds, self.now.nanoseconds + 1)
        let time = MonotonicTime(nanoseconds: (earliest + interval - 1) / interval * interval)
        if let scheduled = self.scheduledTick[node], scheduled > self.now, scheduled <= time { return }
        self.scheduledTick[node] = time
        self.schedule(.tick(node, generation: generation), at: time)
    }

    private func transmit(_ envelope: Envelope, from source: Node) {
        var destinations: [Node] = []
        if envelope.receiver == .agent(.coordinator) {
            destinations = [.coordinator]
        } else if envelope.receiver == .broadcast {
            destinations = self.scenario.agents.indices.map { .agent($0) }
        } else {
            for (index, spec) in self.scenario.agents.enumerated()
            where envelope.receiver == .agent(spec.id) || envelope.receiver == .role(spec.role) {
                destinations.append(.agent(index))
            }
        }
        for destination in destinations {
            self.statistics.messages += 1
            if self.isCut(from: source, to: destination) || self.rng.next(below: 100) < UInt64(self.scenario.dropPercent) {
                self.statistics.dropped += 1
                continue
            }
            let copies = self.rng.next(below: 100) < UInt64(self.scenario.duplicatePercent) ? 2 : 1
            if copies == 2 { self.statistics.duplicated += 1 }
            for _ in 0..<copies {
                var delay = self.draw(self.scenario.delay)
                if self.rng.next(below: 100) < UInt64(self.scenario.latePercent) { delay += self.draw(self.scenario.lateDelay) }
                self.schedule(.deliver(destination, envelope.receiver, envelope, epoch: self.epoch), at: self.now.adding(.microseconds(delay)))
            }
        }
    }

    private func isCut(from source: Node, to destination: Node) -> Bool {
        switch (source, destination) {
        case (.agent(let index), .coordinator):
            guard let cut = self.cuts[index], self.now < cut.until else { return false }
            return cut.toCoordinator
        case (.coordinator, .agent(let index)):
            guard let cut = self.cuts[index], self.now < cut.until else { return false }
            return cut.fromCoordinator
        default:
            return false
        }
    }

    private func schedule(_ kind: Kind, at time: MonotonicTime) {
        self.order += 1
        self.queue.insert(Event(time: time, order: self.order, kind: kind))
    }

    private func draw(_ range: ClosedRange<Int>) -> Int64 { Int64(self.rng.next(in: range)) }

    // MARK: - Processes and the supervisor

    /// A fresh incarnation, larger than any before (the runtime uses wall-clock microseconds).
    private func newIncarnation() -> UInt64 {
        self.lastIncarnation = max(self.lastIncarnation + 1_000, 1_000_000 + self.now.nanoseconds / 1_000)
        return self.lastIncarnation
    }

    private func startAgent(_ index: Int) {
        let spec = self.scenario.agents[index]
        self.generations[index] += 1
        let configuration = AgentConfiguration(id: spec.id, role: spec.role, capacity: spec.capacity, incarnation: self.newIncarnation())
        let agent = SimulatedAgent(configuration: configuration, work: self.work, probe: self.probe, flaw: self.scenario.flaw)
        self.agents[index] = agent
        self.scheduledTick[.agent(index)] = nil
        agent.start(at: self.now)
        self.settle(.agent(index))
    }

    /// Starts the coordinator as `CoordinatorProcess` does: resumed from the run store's journal
    /// (fencing above the highest awards it recorded) when there is one.
    private func startCoordinator(resume: Bool) {
        self.coordinatorGeneration += 1
        let configuration = CoordinatorConfiguration(
            runID: "sim-\(self.scenario.seed)", incarnation: self.newIncarnation(),
            expectedAgents: self.scenario.agents.map(\.id))
        var restored: RestoredOrchestrator<W>?
        if !self.store.entries.isEmpty {
            do {
                restored = try Orchestrator.restore(self.makeWorkflow(), from: self.store.entries)
            } catch {
                self.probe.violation("the restarted coordinator cannot resume from its journal: \(error)")
            }
        }
        if resume { self.statistics.coordinatorRestarts += 1 }
        self.probe.coordinatorStarted(committed: restored?.committedTasks ?? [])
        let coordinator = SimulatedCoordinator(
            configuration: configuration, workflow: self.makeWorkflow(), store: self.store, probe: self.probe,
            flaw: self.scenario.flaw, restored: restored, awardFloor: resume ? self.store.highestAwards : [:])
        self.coordinator = coordinator
        self.scheduledTick[.coordinator] = nil
        coordinator.start(at: self.now)
        self.settle(.coordinator)
    }

    private func inject(_ action: SimulationFault.Action) {
        switch action {
        case .crashAgent(let index):
            guard self.agents[index] != nil else { return }
            self.statistics.agentCrashes += 1
            self.killAgent(index)
            self.supervise(restart: .restartAgent(index, epoch: self.epoch))
        case .pauseAgent(let index, let duration):
            guard self.agents[index] != nil, self.pausedUntil[index] == nil else { return }
            self.statistics.pauses += 1
            let until = self.now.adding(duration)
            self.pausedUntil[index] = until
            self.schedule(.unpause(index, generation: self.generations[index]), at: until)
        case .cut(let index, let toCoordinator, let fromCoordinator, let duration):
            self.statistics.cuts += 1
            self.cuts[index] = (toCoordinator, fromCoordinator, self.now.adding(duration))
        case .pauseCoordinator(let duration):
            guard self.coordinator != nil, self.pausedUntil[Self.coordinatorKey] == nil else { return }
            self.statistics.pauses += 1
            let until = self.now.adding(duration)
            self.pausedUntil[Self.coordinatorKey] = until
            self.schedule(.unpause(Self.coordinatorKey, generation: self.coordinatorGeneration), at: until)
        case .crashCoordinator:
            guard let coordinator = self.coordinator else { return }
            self.statistics.coordinatorCrashes += 1
            self.collect(coordinator)
            self.killCoordinator()
            self.supervise(restart: .restartCoordinator(epoch: self.epoch))
        }
    }

    private func killCoordinator() {
        self.coordinator = nil
        self.coordinatorGeneration += 1
        self.pausedUntil[Self.coordinatorKey] = nil
        self.deferred[Self.coordinatorKey] = nil
    }

    private func killAgent(_ index: Int) {
        self.agents[index] = nil
        self.generations[index] += 1
        self.pausedUntil[index] = nil
        self.deferred[index] = nil
    }

    /// The supervisor's answer to a crash: a restart after a process start's delay when the
    /// budget allows; otherwise it stops the whole mesh, which is later resumed from the journal.
    private func supervise(restart: Kind) {
        if self.budget.requestRestart(at: self.now) {
            if case .restartAgent = restart { self.statistics.agentRestarts += 1 }
            self.schedule(restart, at: self.now.adding(.microseconds(self.draw(self.scenario.restartDelay))))
            return
        }
        self.statistics.supervisorGaveUp += 1
        if let coordinator = self.coordinator { self.collect(coordinator) }
        self.killCoordinator()
        for index in self.agents.indices where self.agents[index] != nil { self.killAgent(index) }
        self.epoch += 1
        self.schedule(.resumeMesh(epoch: self.epoch), at: self.now.adding(.seconds(1)))
    }

    private func collect(_ coordinator: SimulatedCoordinator<W>) {
        self.statistics.reawards += coordinator.reawards
        self.statistics.staleResults += coordinator.staleResults
    }

    // MARK: - The end

    private func outcome(finished: Bool) -> SimulationOutcome {
        if let coordinator = self.coordinator { self.collect(coordinator) }
        self.statistics.applications = self.probe.applications
        let records = self.store.entries.map(\.record)
        var digest = JournalDigest()
        for (index, entry) in self.store.entries.enumerated() {
            let expected = digest.append(entry.record)
            if entry.index != UInt64(index) || entry.digest != expected {
                self.probe.violation("journal entry \(index) has index \(entry.index) or a digest that does not chain")
                break
            }
        }
        var seen: Set<String> = []
        for record in records where record.kind == "task.done" || record.kind == "task.failed" {
            if !seen.insert(record.subject).inserted { self.probe.violation("the journal commits \(record.subject) twice") }
        }
        for (earlier, later) in zip(records, records.dropFirst()) where later.time < earlier.time {
            self.probe.violation("the journal goes back in simulated time at \(later.kind) \(later.subject)")
            break
        }
        let reference = Orchestrator.runLocally(self.makeWorkflow()) { spec in
            guard self.work.canDo(spec.work) else {
                return .failed("every \(spec.role.rawValue) agent declined \(spec.id) (\(spec.work)) in \(self.policy.maxRounds) rounds")
            }
            switch self.work.perform(spec.work, spec.id, spec.input) {
            case .done(let output): return .done(output)
            case .failed(let reason): return .failed(reason)
            }
        }
        if finished {
            let common = min(records.count, reference.records.count)
            let differing = (0..<common).first { records[$0] != reference.records[$0] }
            if let index = differing ?? (records.count == reference.records.count ? nil : common) {
                let got = index < records.count ? "\(records[index].kind) \(records[index].subject) \(records[index].fields)" : "nothing"
                let want = index < reference.records.count ? "\(reference.records[index].kind) \(reference.records[index].subject) \(reference.records[index].fields)" : "nothing"
                self.probe.violation("the journal differs from runLocally's at record \(index): \(got), expected \(want)")
            }
            let audit = self.coordinator?.orchestrator.currentWorkflow.audit()
            if let audit, audit.mismatched != 0 {
                self.probe.violation("the workflow's audit found \(audit.mismatched) unit(s) wrong (\(audit.verified) verified)")
            }
        }
        return SimulationOutcome(
            scenario: self.scenario, finished: finished, violations: self.probe.violations, trace: self.probe.trace.value,
            digest: digest.text, referenceDigest: reference.digest.text, records: records,
            failedTasks: records.filter { $0.kind == "task.failed" }.count, statistics: self.statistics)
    }
}
