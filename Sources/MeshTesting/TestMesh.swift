public import Logging
public import MeshAgents
public import MeshCore
import Synchronization

/// A whole mesh in one process over the in-memory network: a coordinator and agents, each an
/// actor running as in a real process, for tests of layer 2 (STYLE.md §8).
///
/// ```swift
/// let mesh = TestMesh(workflow: RelayWorkflow(tokens: 50, seed: 1), agents: TestAgents.oneOfEachRole)
/// let report = try await mesh.run(timeout: .seconds(30))
/// ```
public final class TestMesh<W: Workflow>: Sendable {
    /// The in-memory network every participant is on.
    public let network = InMemoryNetwork()
    /// The coordinator's journal.
    public let journal = MemoryJournal()
    /// The coordinator.
    public let coordinator: Coordinator<W>
    private let workers: @Sendable (Role) -> any Worker
    private let clock: any PhysicalClock
    private let logger: Logger
    private let agentConfiguration: @Sendable (AgentID, Role, UInt64) -> AgentConfiguration
    private let blobStore: @Sendable (AgentID) -> (any BlobStorePort)?
    private let running = Mutex<[AgentID: (agent: Agent, incarnation: UInt64)]>([:])
    private let faults = Faults()

    private final class Faults: Sendable {
        let isolated = Mutex<Set<String>>([])
        /// Boxed in a class: a closure kept directly in a `Mutex` is re-abstracted on every
        /// `inout` access and the thunks pile up — each delivery added two until the stack
        /// overflowed (SIGSEGV) in the fault tests.
        let hook = Mutex<HookBox?>(nil)
    }

    private final class HookBox: Sendable {
        let hook: InMemoryNetwork.FaultHook

        init(_ hook: @escaping InMemoryNetwork.FaultHook) {
            self.hook = hook
        }
    }

    /// Makes a mesh; `workers` gives each role its worker (default: `worker` for all), `tune`
    /// adjusts the coordinator's configuration (timeouts, say), `blobStore` gives each agent its
    /// blob store (default: none).
    public init(
        workflow: W,
        agents: [(AgentID, Role)],
        worker: any Worker = RelayWorker(),
        workers: (@Sendable (Role) -> any Worker)? = nil,
        clock: any PhysicalClock = SystemClock(),
        logger: Logger = Logger(label: "test-mesh", factory: { _ in SwiftLogNoOpLogHandler() }),
        tune: (inout CoordinatorConfiguration) -> Void = { _ in },
        agentConfiguration: @escaping @Sendable (AgentID, Role, UInt64) -> AgentConfiguration = { id, role, incarnation in
            AgentConfiguration(id: id, role: role, capacity: 16, incarnation: incarnation, pid: 1, host: "memory")
        },
        blobStore: @escaping @Sendable (AgentID) -> (any BlobStorePort)? = { _ in nil }
    ) {
        var configuration = CoordinatorConfiguration(runID: "test", incarnation: 1, pid: 1, host: "memory")
        configuration.expectedAgents = agents.map(\.0)
        tune(&configuration)
        self.workers = workers ?? { _ in worker }
        self.clock = clock
        self.logger = logger
        self.agentConfiguration = agentConfiguration
        self.blobStore = blobStore
        self.coordinator = Coordinator(
            configuration: configuration, workflow: workflow, transport: self.network.makeTransport(name: "coordinator"),
            journal: self.journal, clock: clock, logger: logger)
        let faults = self.faults
        self.network.faultHook = { delivery in
            let cut = faults.isolated.withLock { $0.contains(delivery.sender) || $0.contains(delivery.receiver) }
            if cut { return .drop }
            return faults.hook.withLock { $0 }?.hook(delivery) ?? .deliver
        }
        for (id, role) in agents { self.start(id, role: role, incarnation: 1) }
    }

    /// A fault hook applied to every delivery not cut by ``isolate(_:)``.
    public func setFaults(_ hook: InMemoryNetwork.FaultHook?) {
        let box = hook.map { HookBox($0) }
        self.faults.hook.withLock { $0 = box }
    }

    /// Starts (or restarts, with a higher incarnation) the agent `id`.
    @discardableResult
    public func start(_ id: AgentID, role: Role, incarnation: UInt64) -> Agent {
        let name = "\(id)#\(incarnation)"
        let agent = Agent(
            configuration: self.agentConfiguration(id, role, incarnation),
            transport: self.network.makeTransport(name: name), worker: self.workers(role), clock: self.clock, logger: self.logger,
            blobStore: self.blobStore(id))
        self.running.withLock { $0[id] = (agent, incarnation) }
        Task { try? await agent.run() }
        return agent
    }

    /// Cuts an agent off the network as a SIGKILL would: nothing it sends arrives, nothing reaches it.
    public func isolate(_ id: AgentID) {
        guard let entry = self.running.withLock({ $0[id] }) else { return }
        self.faults.isolated.withLock { _ = $0.insert("\(id)#\(entry.incarnation)") }
    }

    /// Kills `id` (isolates it) and starts it again with a new incarnation, as the supervisor would.
    public func restart(_ id: AgentID, role: Role) {
        guard let entry = self.running.withLock({ $0[id] }) else { return }
        self.isolate(id)
        self.start(id, role: role, incarnation: entry.incarnation + 1)
    }

    /// The agent running as `id` now.
    public func agent(_ id: AgentID) -> Agent? { self.running.withLock { $0[id]?.agent } }

    /// Runs the coordinator until the workflow finishes, then stops every agent. Throws on timeout
    /// — after stopping the coordinator and the agents: a task group waits for all its children,
    /// and the coordinator's run does not end on cancellation, so a timeout would otherwise hang.
    public func run(timeout: Duration) async throws -> RunReport {
        let coordinator = self.coordinator
        let agents = { self.running.withLock { Array($0.values) } }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await coordinator.run() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    let progress = await coordinator.progress
                    await coordinator.stop()
                    throw TestMeshTimeout(progress: progress)
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            for (agent, _) in agents() { await agent.stop() }
            throw error
        }
        for (agent, _) in agents() { await agent.stop() }
        return await coordinator.report
    }
}

/// A test mesh did not finish in time.
public struct TestMeshTimeout: Error, CustomStringConvertible {
    /// How far it came.
    public var progress: RunProgress
    public var description: String { "the mesh did not finish in time: \(self.progress)" }
}

/// Agent line-ups for test meshes.
public enum TestAgents {
    /// One agent of each agent role, `role-1`.
    public static var oneOfEachRole: [(AgentID, Role)] {
        Role.agentRoles.map { (AgentID(role: $0, instance: 1), $0) }
    }

    /// `count` agents of each agent role.
    public static func instances(_ count: Int) -> [(AgentID, Role)] {
        Role.agentRoles.flatMap { role in (1...count).map { (AgentID(role: role, instance: $0), role) } }
    }
}
