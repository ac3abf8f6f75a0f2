public import MeshAgents
public import MeshCore
import Synchronization

/// The agent a process's worker resolves blobs through, set once the agent exists: the worker
/// (and its compute node) is built before the `Agent` that owns it.
///
/// ```swift
/// let late = LateBoundAgent()
/// let worker = AgentProcess.worker(for: .compute, resolveBlob: late.resolver)
/// let agent = Agent(configuration: configuration, transport: transport, worker: worker, clock: clock, logger: logger, blobStore: cache)
/// late.bind(agent)
/// ```
public final class LateBoundAgent: Sendable {
    private let agent = Mutex<Agent?>(nil)

    /// An unbound box: its resolver gives nil until ``bind(_:)``.
    public init() {}

    /// Binds the agent; called once, after it is made.
    public func bind(_ agent: Agent) {
        self.agent.withLock { $0 = agent }
    }

    /// A compute node's resolver: fetches a blob through the agent (from the coordinator) or
    /// gives nil (the node then fails the request as `blobUnavailable`).
    public var resolver: @Sendable (BlobHash) async -> [UInt8]? {
        { [self] hash in
            guard let agent = self.agent.withLock({ $0 }) else { return nil }
            return try? await agent.fetchBlob(hash)
        }
    }
}
