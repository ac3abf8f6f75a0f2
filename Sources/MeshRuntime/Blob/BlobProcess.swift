import Foundation
public import Logging
import MeshAgents
public import MeshCore
import MeshStore
import MeshZeroMQ
import Synchronization

/// Puts blobs into a run's artifact store and fetches them over the mesh: `meshwork blob put`
/// and `meshwork blob fetch`, the user's way to move a blob between hosts that share no
/// directory (docs/WIRE.md, "Blobs").
public enum BlobProcess {
    /// What a fetch did.
    public struct Fetched: Sendable {
        /// The blob.
        public var hash: BlobHash
        /// Where it is in the cache.
        public var path: String
        /// Its size in bytes.
        public var bytes: Int
        /// How long the fetch took, joining included (zero when it was cached).
        public var duration: Duration
    }

    /// Stores the file at `file` in the artifact store of the run directory `runDirectory` and
    /// returns its hash and path.
    public static func put(file: String, runDirectory: String) throws -> (hash: BlobHash, path: String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RuntimeError(.usage, "\(file): cannot read the file")
        }
        let store: ArtifactBlobStore
        do {
            store = ArtifactBlobStore(try ArtifactStore(runDirectory: runDirectory))
        } catch {
            throw RuntimeError(.runDirectory, "\(runDirectory): cannot open the artifact store: \(error)")
        }
        do {
            let hash = try store.put(Array(data))
            return (hash, store.path(of: hash))
        } catch {
            throw RuntimeError(.runDirectory, "\(runDirectory): cannot store \(file): \(error)")
        }
    }

    /// Joins the mesh at `endpoint` as `id` (role compute, or its key's role; taking no work),
    /// fetches the blob `hash` from the coordinator into the cache directory `cache`, checks it,
    /// leaves, and returns where it is. A blob already in the cache is returned without joining.
    ///
    /// Over `tcp://` it needs `security`, as an agent does (its key file's id must be `id` and its
    /// public key in the coordinator's roster); it then joins with the key's role.
    ///
    /// Throws a ``RuntimeError``: `.blob` when the coordinator does not have it or the bytes are
    /// wrong, `.timeout` when nothing answered within `timeout` (a key outside the roster gets no
    /// answer either: libzmq does not tell a client that ZAP refused it).
    public static func fetch(
        hash: BlobHash,
        endpoint: String,
        cache: String,
        id: AgentID,
        timeout: Duration,
        security: AgentProcess.AgentSecurity? = nil,
        logger: Logger
    ) async throws -> Fetched {
        ProcessEnvironment.prepareChildProcess()
        let store = try AgentProcess.openCache(cache)
        if store.contains(hash), let bytes = try? store.get(hash) {
            return Fetched(hash: hash, path: store.path(of: hash), bytes: bytes.count, duration: .zero)
        }
        let transport: ZeroMQTransport
        do {
            transport = try ZeroMQTransport(
                connectingTo: try MeshEndpoint(endpoint),
                options: ZeroMQTransport.Options(name: id.rawValue, security: try security?.transport()), logger: logger)
        } catch {
            throw RuntimeError(.transport, "cannot connect to \(endpoint): \(error)")
        }
        let configuration = AgentConfiguration(
            id: id, role: security?.identity.role ?? .compute, capacity: 1,
            incarnation: ProcessEnvironment.newIncarnation(),
            pid: ProcessEnvironment.pid, host: ProcessEnvironment.hostName)
        let agent = Agent(
            configuration: configuration, transport: transport, worker: NoWorker(), clock: SystemClock(), logger: logger,
            blobStore: store)
        let started = ContinuousClock.now
        let running = Task { try await agent.run() }
        let timedOut = Atomic(false)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            timedOut.store(true, ordering: .relaxed)
            await agent.stop()
        }
        let outcome: Result<[UInt8], any Error>
        do {
            outcome = .success(try await agent.fetchBlob(hash))
        } catch {
            outcome = .failure(error)
        }
        let duration = ContinuousClock.now - started
        watchdog.cancel()
        await agent.stop()
        _ = try? await running.value
        switch outcome {
        case .success(let bytes):
            guard store.contains(hash) else {
                throw RuntimeError(.blob, "\(hash): fetched but not cached in \(cache)")
            }
            return Fetched(hash: hash, path: store.path(of: hash), bytes: bytes.count, duration: duration)
        case .failure(let error):
            if timedOut.load(ordering: .relaxed) {
                throw RuntimeError(.timeout, "\(hash): no answer from the mesh at \(endpoint) within \(timeout)")
            }
            if let error = error as? BlobFetchError, error.code == .missing {
                throw RuntimeError(.blob, "\(hash): the coordinator at \(endpoint) does not have it (\(error.reason))")
            }
            throw RuntimeError(.blob, "\(hash): cannot fetch it from \(endpoint): \(error)")
        }
    }
}

/// The worker of a participant that only fetches blobs: it declines every call.
struct NoWorker: Worker {
    func canDo(_ work: String) -> Bool { false }

    func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        .failed("this participant only fetches blobs")
    }
}
