import Foundation
public import Logging
public import MeshAgents
public import MeshCore
import MeshCompute
import MeshServer
import MeshStore
import MeshZeroMQ
import ServiceLifecycle
import UnixSignals

/// Runs one agent as this process: `meshwork agent --role ROLE --connect ENDPOINT`.
public enum AgentProcess {
    /// The worker an agent of `role` runs. Every role does the relay's work; each adds its own:
    /// the use case agent intake and feasibility, the data agent discovery and preparation, the
    /// model agent selection, pruning and registration, the oversight agent the scripted human.
    ///
    /// A compute agent also serves the compute protocol (`compute.*` works) on a ``ComputeNode``
    /// of its own: one executor thread, OpenBLAS at one thread (docs/COMPUTE.md), which resolves
    /// operands given by hash through `resolveBlob` (none: such requests fail as `blobUnavailable`).
    public static func worker(for role: Role, resolveBlob: (@Sendable (BlobHash) async -> [UInt8]?)? = nil) -> any Worker {
        switch role {
        case .compute: CompositeWorker([RelayWorker(), ComputeWorker(port: ComputeNode(resolveBlob: resolveBlob))])
        case .useCase: CompositeWorker([RelayWorker(), RecordWorker.useCase])
        case .data: CompositeWorker([RelayWorker(), DataWorker()])
        case .model: CompositeWorker([RelayWorker(), RecordWorker.model])
        case .oversight: CompositeWorker([RelayWorker(), OversightWorker()])
        case .pipeline: CompositeWorker([RelayWorker(), PipelineWorker()])
        case .monitoring: CompositeWorker([RelayWorker(), MonitoringWorker()])
        case .coordinator: RelayWorker()
        }
    }

    /// The worker of `role` and the services its agent advertises: a pipeline agent starts its
    /// inference API first (on `MESHWORK_INFERENCE_HOST`:`MESHWORK_INFERENCE_PORT`, by default
    /// 127.0.0.1 and a free port) and advertises it as `inference`.
    ///
    /// With a `blobStore`, the pipeline agent keeps its deployed versions' weights there and holds
    /// only the last few used decoded (``PipelineWorker/decodedWeights``).
    public static func makeWorker(
        for role: Role, stateDirectory: String? = nil, blobStore: (any BlobStorePort)? = nil, logger: Logger,
        resolveBlob: (@Sendable (BlobHash) async -> [UInt8]?)? = nil
    ) async throws -> (worker: any Worker, services: [String: String]) {
        guard role == .pipeline else { return (self.worker(for: role, resolveBlob: resolveBlob), [:]) }
        let environment = ProcessInfo.processInfo.environment
        let host = environment["MESHWORK_INFERENCE_HOST"] ?? "127.0.0.1"
        guard let port = Int(environment["MESHWORK_INFERENCE_PORT"] ?? "0"), (0...65_535).contains(port) else {
            throw RuntimeError(.usage, "MESHWORK_INFERENCE_PORT must be a port number, 0 for a free one")
        }
        let pipeline = PipelineWorker(host: host, port: port, stateDirectory: stateDirectory, weightsStore: blobStore, logger: logger)
        let url: String
        do {
            url = try await pipeline.start()
        } catch {
            throw RuntimeError(.transport, "the inference API cannot listen on \(host):\(port): \(error)")
        }
        logger.notice("inference API listening", metadata: ["mesh.inference": "\(url)"])
        return (CompositeWorker([RelayWorker(), pipeline]), ["inference": url])
    }

    /// Joins the mesh at `endpoint` as `id` and serves until SIGTERM/SIGINT or the coordinator's shutdown.
    ///
    /// `cache` is the directory of the agent's blob cache (an artifact store of its own, never
    /// the run directory: no filesystem is assumed shared with the coordinator); blobs it lacks
    /// are fetched from the coordinator over the mesh (docs/WIRE.md, "Blobs"). Without one, the
    /// process uses a fresh directory under the system's temporary directory and removes it
    /// when it ends.
    public static func run(
        id: AgentID, role: Role, endpoint: String, capacity: Int, cache: String?, stateDirectory: String? = nil,
        security: AgentSecurity? = nil, logger: Logger
    ) async throws {
        ProcessEnvironment.prepareChildProcess()
        if role == .compute {
            // The kernel OpenBLAS chose when it loaded; the supervisor sets OPENBLAS_CORETYPE for it.
            logger.info(
                "compute node starting",
                metadata: [
                    "mesh.blas.core": "\(BLAS.coreName)",
                    "mesh.blas.coretype": "\(ProcessInfo.processInfo.environment[BLASKernel.environmentKey] ?? "unset")",
                ])
        }
        if let security, security.identity.id != id {
            throw RuntimeError(.usage, "--secret-key: the key is \(security.identity.id)'s, this agent is \(id)")
        }
        let address: MeshEndpoint
        let transport: ZeroMQTransport
        do {
            address = try MeshEndpoint(endpoint)
            transport = try ZeroMQTransport(
                connectingTo: address, options: ZeroMQTransport.Options(name: id.rawValue, security: try security?.transport()), logger: logger)
        } catch {
            throw RuntimeError(.transport, "cannot connect to \(endpoint): \(error)")
        }
        let directory = cache ?? self.defaultCacheDirectory()
        defer { if cache == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let blobStore = try self.openCache(directory)
        let late = LateBoundAgent()
        let (worker, services) = try await self.makeWorker(
            for: role, stateDirectory: stateDirectory, blobStore: blobStore, logger: logger, resolveBlob: late.resolver())
        let configuration = AgentConfiguration(
            id: id, role: role, capacity: capacity, incarnation: ProcessEnvironment.newIncarnation(),
            pid: ProcessEnvironment.pid, host: ProcessEnvironment.hostName, services: services)
        let agent = Agent(
            configuration: configuration, transport: transport, worker: worker, clock: SystemClock(), logger: logger,
            blobStore: blobStore)
        late.bind(agent)
        let reloading = security.map { security in
            Task { await Self.reloadOnHangup(security, id: id, transport: transport, logger: logger) }
        }
        defer { reloading?.cancel() }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: id.rawValue)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// On each SIGHUP, reads the agent's key file and the server key again; when either changed,
    /// the transport connects again with them (key rotation, docs/MULTI-HOST.md), and the agent
    /// goes on as after any reconnection. A file that does not read keeps the keys in force.
    static func reloadOnHangup(
        _ initial: AgentSecurity, id: AgentID, transport: ZeroMQTransport, logger: Logger
    ) async {
        var current = initial
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            do {
                let next = try AgentSecurity(secretKey: initial.paths.secretKey, serverKey: initial.paths.serverKey)
                guard next.identity.id == id else {
                    throw RuntimeError(
                        .usage, "\(initial.paths.secretKey): the key is \(next.identity.id)'s, this agent is \(id)")
                }
                guard next.identity.keyPair != current.identity.keyPair || next.serverKey != current.serverKey else {
                    logger.notice("SIGHUP: the keys are unchanged")
                    continue
                }
                try transport.rekey(try next.transport())
                logger.notice(
                    "SIGHUP: connecting again with new keys",
                    metadata: ["mesh.key": "\(next.identity.publicKey)", "mesh.serverKey": "\(next.serverKey)"])
                current = next
            } catch {
                logger.error("SIGHUP: keeping the keys in force: \(error)")
            }
        }
    }

    /// An agent's CURVE identity and the coordinator's public key (tcp).
    public struct AgentSecurity: Sendable {
        /// The agent's key file.
        public var identity: MeshKeys.Identity
        /// The coordinator's public key.
        public var serverKey: String
        /// What it was read from: SIGHUP reads them again.
        var paths: (secretKey: String, serverKey: String)

        /// Reads the agent's secret key file; `serverKey` is a public key or a `.pub` file.
        public init(secretKey: String, serverKey: String) throws(RuntimeError) {
            self.identity = try MeshKeys.readSecret(path: secretKey)
            self.serverKey = try MeshKeys.readPublicKey(serverKey)
            self.paths = (secretKey, serverKey)
        }

        func transport() throws -> TransportSecurity {
            try TransportSecurity(keyPair: self.identity.keyPair, serverKey: self.serverKey)
        }
    }

    /// A fresh cache directory for one agent process under the system's temporary directory.
    public static func defaultCacheDirectory() -> String {
        var system = SystemRandomNumberGenerator()
        let suffix = String(UInt32.random(in: 0...UInt32.max, using: &system), radix: 16)
        return NSTemporaryDirectory() + "meshwork-cache-\(ProcessEnvironment.pid)-\(suffix)"
    }

    /// The artifact store at `directory` as a blob port; a runtime error names the directory.
    static func openCache(_ directory: String) throws -> ArtifactBlobStore {
        do {
            return ArtifactBlobStore(try ArtifactStore(root: directory))
        } catch {
            throw RuntimeError(.usage, "--cache \(directory): cannot use it as a blob cache: \(error)")
        }
    }
}
