import MeshAgents
import MeshCompute
import MeshCore
import Synchronization

/// The agent a process's worker resolves blobs through, set once the agent exists: the worker
/// (and its ``ComputeNode``) is built before the ``Agent`` that owns it.
final class LateBoundAgent: Sendable {
    private let agent = Mutex<Agent?>(nil)

    init() {}

    /// Binds the agent; called once, after it is made.
    func bind(_ agent: Agent) {
        self.agent.withLock { $0 = agent }
    }

    /// A compute node's resolver: fetches a blob through the agent (from the coordinator) or
    /// gives nil (the node then fails the request as `blobUnavailable`).
    var resolver: ComputeNode.BlobResolver {
        { [self] hash in
            guard let agent = self.agent.withLock({ $0 }) else { return nil }
            return try? await agent.fetchBlob(hash)
        }
    }
}
