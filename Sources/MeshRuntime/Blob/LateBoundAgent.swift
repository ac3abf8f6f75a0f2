public import MeshAgents
public import MeshCore
import Synchronization

/// The agent a process's worker resolves blobs through, set once the agent exists: the worker
/// (and its compute node) is built before the `Agent` that owns it.
///
/// ```swift
/// let late = LateBoundAgent()
/// let worker = AgentProcess.worker(for: .compute, resolveBlob: late.resolver())
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
    /// gives nil (the node then fails the request as `blobUnavailable`, for good).
    ///
    /// A fetch that went unanswered is tried again, up to `attempts` times in all: the agent
    /// rejoins a restarted coordinator in between, and a failure would end the task for good.
    /// A blob the coordinator does not have, or bytes with another hash, give nil at once.
    public func resolver(attempts: Int = 3) -> @Sendable (BlobHash) async -> [UInt8]? {
        { [self] hash in
            guard let agent = self.agent.withLock({ $0 }) else { return nil }
            for _ in 0..<max(1, attempts) {
                do {
                    return try await agent.fetchBlob(hash)
                } catch let error as BlobFetchError where error.code == .unanswered {
                    continue
                } catch {
                    return nil
                }
            }
            return nil
        }
    }
}
