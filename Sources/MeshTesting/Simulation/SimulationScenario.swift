public import MeshCore

/// A deliberately broken variant of the coordinator, to show the simulation's checks can fail.
public enum SimulationFlaw: Sendable, Equatable {
    /// The coordinator takes every result as the current one, whatever award it names (no
    /// fencing): a re-awarded task whose old awardee also answers is applied twice.
    case forgetsFencing
    /// Agents as they were before the simulation found the bug: a late message of an earlier
    /// coordinator incarnation makes an agent leave its coordinator, and an agent that lost its
    /// coordinator joins again as the same incarnation — so the coordinator keeps a link that
    /// counts the old stream, and it acknowledges and drops the new one's messages.
    case rejoinsAsTheSameIncarnation
}

/// What the agents' workers do, as plain functions: whether a kind of work can be done, and its outcome.
public struct SimulationWork: Sendable {
    /// Whether an agent bids for this kind of work (it declines otherwise).
    public var canDo: @Sendable (String) -> Bool
    /// The outcome of a task: kind of work, task, input.
    public var perform: @Sendable (String, TaskID, [UInt8]) -> TaskResult.Outcome

    /// Makes the work from its two functions.
    public init(canDo: @escaping @Sendable (String) -> Bool, perform: @escaping @Sendable (String, TaskID, [UInt8]) -> TaskResult.Outcome) {
        self.canDo = canDo
        self.perform = perform
    }
}

/// The workflow a simulation runs.
public enum SimulationWorkload: Sendable, Equatable, CustomStringConvertible {
    /// ``RelayWorkflow`` with this many tokens (six negotiated hand-offs each).
    case relay(tokens: Int)
    /// ``FanInWorkflow`` with this many jobs (dependent steps, some failing on purpose).
    case fanIn(jobs: Int)

    public var description: String {
        switch self {
        case .relay(let tokens): "relay(\(tokens) tokens)"
        case .fanIn(let jobs): "fan-in(\(jobs) jobs)"
        }
    }
}

/// One agent of the simulated mesh.
public struct SimulatedAgentSpec: Sendable, Equatable {
    /// The agent's id, such as `data-2`.
    public var id: AgentID
    /// Its role.
    public var role: Role
    /// Tasks it runs at once.
    public var capacity: Int

    /// Makes the spec of one agent.
    public init(id: AgentID, role: Role, capacity: Int) {
        self.id = id
        self.role = role
        self.capacity = capacity
    }
}

/// A fault injected at a physical time after the start.
public struct SimulationFault: Sendable, Equatable, CustomStringConvertible {
    /// What the fault does.
    public enum Action: Sendable, Equatable {
        /// SIGKILL the agent at this index: its state is lost; the supervisor restarts it (new
        /// incarnation) after a delay if the restart budget allows.
        case crashAgent(Int)
        /// SIGSTOP the agent for a while: it handles nothing, then everything that arrived meanwhile.
        case pauseAgent(Int, Duration)
        /// Drop every message between the agent and the coordinator, in the directions given, for a while.
        case cut(Int, toCoordinator: Bool, fromCoordinator: Bool, Duration)
        /// SIGKILL the coordinator: the supervisor restarts it from the journal if the budget allows.
        case crashCoordinator
        /// SIGSTOP the coordinator for a while: agents may lose it and rejoin; it handles everything on resume.
        case pauseCoordinator(Duration)
    }

    /// When, after the start.
    public var at: Duration
    /// What.
    public var action: Action

    /// Makes a fault that happens `at` after the start.
    public init(at: Duration, _ action: Action) {
        self.at = at
        self.action = action
    }

    public var description: String { "\(self.action) at \(self.at)" }
}

/// Everything a simulated run depends on; ``generated(seed:workload:)`` derives one from a seed.
public struct SimulationScenario: Sendable {
    /// The seed of the workflow and of every random choice of the world (network, work times).
    public var seed: UInt64
    /// The workflow run.
    public var workload: SimulationWorkload
    /// The agents; the coordinator waits for all of them before it starts the workflow.
    public var agents: [SimulatedAgentSpec]
    /// Percent of messages lost, and duplicated, per receiver.
    public var dropPercent: Int
    /// See ``dropPercent``.
    public var duplicatePercent: Int
    /// The network delay of a message, in microseconds; uniform, so messages overtake each other.
    public var delay: ClosedRange<Int>
    /// Percent of messages held back much longer (`lateDelay`, microseconds): heavy reordering.
    public var latePercent: Int
    /// See ``latePercent``.
    public var lateDelay: ClosedRange<Int>
    /// How long a task takes physically, in microseconds.
    public var workTime: ClosedRange<Int>
    /// How long a process takes to start, in microseconds.
    public var restartDelay: ClosedRange<Int>
    /// The supervisor's restart intensity (``RestartBudget``), shared by every process as in `meshwork up`.
    public var maxRestarts: Int
    /// The window of ``maxRestarts``.
    public var restartWindow: Duration
    /// The faults injected, in time order.
    public var faults: [SimulationFault]
    /// A broken variant of the protocol to run instead of the real one (tests of the checks).
    public var flaw: SimulationFlaw?
    /// The physical time by which the run must have finished; past it the run is a livelock.
    public var horizon: Duration
    /// At most this many events; past it the run is a livelock.
    public var maxEvents: Int

    /// A calm scenario: a fast network that loses nothing, no faults; set what the test needs.
    public init(seed: UInt64, workload: SimulationWorkload) {
        self.seed = seed
        self.workload = workload
        self.agents = SimulationScenario.standardAgents(capacities: [1, 2, 1, 2, 1, 1, 1, 1, 2])
        self.dropPercent = 0
        self.duplicatePercent = 0
        self.delay = 100...1_000
        self.latePercent = 0
        self.lateDelay = 20_000...200_000
        self.workTime = 1_000...10_000
        self.restartDelay = 20_000...200_000
        self.maxRestarts = 10
        self.restartWindow = .seconds(10)
        self.faults = []
        self.flaw = nil
        self.horizon = .seconds(900)
        self.maxEvents = 3_000_000
    }

    /// One coordinator's mesh: every agent role of the relay and the fan-in, two instances of
    /// data, model and compute.
    public static func standardAgents(capacities: [Int]) -> [SimulatedAgentSpec] {
        let layout: [(Role, Int)] = [
            (.useCase, 1), (.data, 1), (.data, 2), (.model, 1), (.model, 2), (.pipeline, 1), (.monitoring, 1), (.compute, 1),
            (.compute, 2),
        ]
        return layout.enumerated().map { index, entry in
            SimulatedAgentSpec(id: AgentID(role: entry.0, instance: entry.1), role: entry.0, capacity: capacities[index % capacities.count])
        }
    }

    /// A scenario drawn from `seed`: network loss, duplication, delay and reordering always; then,
    /// by the seed, agent crashes and pauses, network cuts, coordinator crashes, and a restart
    /// budget small enough that the supervisor sometimes gives up (and the run is resumed from
    /// its journal, as `meshwork up --resume` does).
    public static func generated(seed: UInt64, workload: SimulationWorkload) -> SimulationScenario {
        var scenario = SimulationScenario(seed: seed, workload: workload)
        var rng = SeededRandom(seed: seed, key: "simulation/plan")
        scenario.agents = standardAgents(capacities: (0..<9).map { _ in rng.next(in: 1...3) })
        scenario.dropPercent = rng.next(in: 0...20)
        scenario.duplicatePercent = rng.next(in: 0...10)
        scenario.delay = 50...rng.next(in: 200...5_000)
        scenario.latePercent = rng.next(in: 0...5)
        scenario.workTime = 500...rng.next(in: 2_000...30_000)
        let mix = rng.next(below: 4)
        let agents = UInt64(scenario.agents.count)
        var faults: [SimulationFault] = []
        func at() -> Duration { .milliseconds(Int64(rng.next(in: 0...1_500))) }
        func agent() -> Int { Int(rng.next(below: agents)) }
        func span() -> Duration { .milliseconds(Int64(rng.next(in: 100...3_000))) }
        if mix >= 1 {
            for _ in 0..<rng.next(in: 1...4) { faults.append(SimulationFault(at: at(), .crashAgent(agent()))) }
            for _ in 0..<rng.next(in: 0...2) { faults.append(SimulationFault(at: at(), .pauseAgent(agent(), span()))) }
        }
        if mix >= 2 {
            for _ in 0..<rng.next(in: 1...2) { faults.append(SimulationFault(at: at(), .crashCoordinator)) }
            for _ in 0..<rng.next(in: 0...1) { faults.append(SimulationFault(at: at(), .pauseCoordinator(span()))) }
        }
        if mix >= 3 {
            for _ in 0..<rng.next(in: 1...3) {
                let direction = rng.next(below: 3)
                faults.append(SimulationFault(at: at(), .cut(agent(), toCoordinator: direction != 1, fromCoordinator: direction != 0, span())))
            }
            scenario.maxRestarts = rng.next(in: 1...3)
        }
        scenario.faults = faults.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        return scenario
    }

    /// A one-line account of the scenario, for failure messages.
    public var summary: String {
        "\(self.workload), drop \(self.dropPercent)%, duplicate \(self.duplicatePercent)%, delay \(self.delay) µs, late \(self.latePercent)%, "
            + "restarts \(self.maxRestarts) per \(self.restartWindow), faults: "
            + (self.faults.isEmpty ? "none" : self.faults.map(\.description).joined(separator: "; "))
            + (self.flaw.map { ", flaw: \($0)" } ?? "")
    }
}
