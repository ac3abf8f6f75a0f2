import Foundation
public import Logging
public import MeshAgents
public import MeshCore
import Synchronization

/// The pipeline agent's worker: it owns a model registry served by an ``InferenceServer`` and
/// does `pipeline.deploy` (serve a version under `staging`), `pipeline.test` (accuracy on the
/// hold-out over HTTP, the edge cases, a bounded load test) and `pipeline.promote` (point
/// `production` at a version, atomically).
///
/// The server starts with ``start()`` (the agent advertises its URL as the `inference` service)
/// or, in a run without one, on the first task. Load-test latencies are physical: they go to the
/// task's telemetry, never into its output.
///
/// ```swift
/// let pipeline = PipelineWorker(logger: logger)
/// let url = try await pipeline.start()            // http://127.0.0.1:PORT
/// let worker = CompositeWorker([RelayWorker(), pipeline])
/// ```
public final class PipelineWorker: Worker, Sendable {
    /// The versions served.
    public let registry: ModelRegistry
    /// The HTTP server.
    public let server: InferenceServer
    private let starting = Mutex<Task<String, any Error>?>(nil)
    /// Serving tests run two at a time: each builds megabytes of request bodies (the hold-out as
    /// JSON, the 4,097-row edge case), and a fleet's deploys arrive together, so 64 at once
    /// (the agent's capacity) made the agent's peak memory, not its speed, on 2 cores.
    private let testSlots = AsyncSlots(2)
    private let logger: Logger
    /// Where deployed versions and aliases are kept so a restarted agent serves them again.
    public let stateDirectory: String?
    /// Where deployed versions' weights files are kept (the agent's content-addressed blob
    /// store); nil: versions are held decoded in memory.
    public let weightsStore: (any BlobStorePort)?
    /// The decoded weights of the last few versions used, when versions are kept in
    /// ``weightsStore``: a fleet deploys thousands of versions and serves a few at a time.
    public let decodedWeights: DecodedWeightsCache

    /// A worker whose server will listen on `host:port` (port 0: a free one); with a
    /// `stateDirectory`, what was deployed there before (by an earlier process of this agent) is
    /// served again at once. With a `weightsStore`, each deployed version's weights files go
    /// there and only the last few used are held decoded (`decodedWeights`); without one, every
    /// version is held decoded.
    public init(
        host: String = "127.0.0.1", port: Int = 0, stateDirectory: String? = nil,
        weightsStore: (any BlobStorePort)? = nil, decodedWeights: DecodedWeightsCache = DecodedWeightsCache(),
        logger: Logger = Logger(label: "meshwork.pipeline")
    ) {
        self.registry = ModelRegistry(defaultAlias: "production")
        self.server = InferenceServer(
            registry: self.registry, configuration: InferenceServer.Configuration(host: host, port: port), logger: logger)
        self.logger = logger
        self.stateDirectory = stateDirectory
        self.weightsStore = weightsStore
        self.decodedWeights = decodedWeights
        if let stateDirectory { self.restore(from: stateDirectory) }
    }

    /// Starts the server once; returns its URL.
    @discardableResult
    public func start() async throws -> String {
        let task = self.starting.withLock { task in
            if let task { return task }
            let server = self.server
            let started = Task<String, any Error> {
                try await server.start()
                return server.url ?? ""
            }
            task = started
            return started
        }
        return try await task.value
    }

    /// Stops the server.
    public func stop() async { await self.server.stop() }

    public func canDo(_ work: String) -> Bool {
        work == ServingWork.deploy || work == ServingWork.test || work == ServingWork.promote
    }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        await self.performReporting(assignment).outcome
    }

    public func performReporting(_ assignment: Assignment) async -> WorkReport {
        do {
            switch assignment.work {
            case ServingWork.deploy: return WorkReport(.done(try self.deploy(DeployRequest(decoding: assignment.input))))
            case ServingWork.promote:
                return WorkReport(.done(try self.promote(PromoteRequest(decoding: assignment.input))))
            case ServingWork.test:
                // Decoded once a slot is free: a waiting test holds only its request's bytes.
                return try await self.testSlots.withSlot { try await self.test(ServingTestRequest(decoding: assignment.input)) }
            default: return WorkReport(.failed("no worker here does \(assignment.work)"))
            }
        } catch let error as WireError {
            return WorkReport(.failed("malformedRequest: \(assignment.work): \(error)"))
        } catch {
            return WorkReport(.failed("\(assignment.work): \(error)"))
        }
    }

    // MARK: - Works

    func deploy(_ request: DeployRequest, keeping: Bool = true) throws -> [UInt8] {
        let head = request.head
        if self.registry.version(head.name, number: head.version) == nil {
            var files: [(bytes: [UInt8], source: String)] = [(request.fp32.bytes, "\(head.name)@v\(head.version).fp32")]
            if let int8 = request.int8 { files.append((int8.bytes, "\(head.name)@v\(head.version).int8")) }
            let precision: ModelVersion.Precision = head.precision == "int8" ? .int8 : .fp32
            let metadata = ModelMetadata(datasetHash: head.dataset)
            let version =
                if let store = self.weightsStore {
                    try ModelVersion(
                        name: head.name, version: head.version, weightsFiles: files, storedIn: store, cache: self.decodedWeights,
                        precision: precision, standardizer: head.standardizer, metadata: metadata)
                } else {
                    try ModelVersion(
                        name: head.name, version: head.version, weightsFiles: files, precision: precision,
                        standardizer: head.standardizer, metadata: metadata)
                }
            try self.registry.deploy(version, alias: head.alias)
            if keeping { self.keep(request) }
        } else {
            // A re-driven deploy: the version is already here.
            try self.registry.deploy(head.name, version: head.version, alias: head.alias)
        }
        if keeping { self.keepAliases(head.name) }
        self.logger.info("deployed", metadata: ["model": "\(head.name)@v\(head.version)", "alias": "\(head.alias)"])
        return CanonicalJSON.encode(DeploymentReport(name: head.name, version: head.version, alias: head.alias, precision: head.precision))
    }

    func promote(_ request: PromoteRequest) throws -> [UInt8] {
        if let deploy = request.deploy, self.registry.version(request.name, number: request.version) == nil {
            _ = try self.deploy(deploy)  // deployed on another pipeline agent: serve it here too
        }
        guard let version = self.registry.version(request.name, number: request.version) else {
            throw RegistryError(.versionNotFound, "model '\(request.name)' has no version \(request.version) here to promote")
        }
        try self.registry.deploy(request.name, version: request.version, alias: request.alias)
        self.keepAliases(request.name)
        self.logger.info("promoted", metadata: ["model": "\(request.name)@v\(request.version)", "alias": "\(request.alias)"])
        return CanonicalJSON.encode(DeploymentReport(
            name: request.name, version: request.version, alias: request.alias, precision: version.precision.rawValue))
    }

    func test(_ request: ServingTestRequest) async throws -> WorkReport {
        let url = try await self.start()
        guard let port = self.server.port else { throw InferenceClientError("the server is not listening") }
        let head = request.head
        if let deploy = request.deploy, self.registry.version(head.name, number: head.version) == nil {
            _ = try self.deploy(deploy)  // deployed on another pipeline agent: serve it here too
        }
        guard self.registry.version(head.name, number: head.version) != nil else {
            return WorkReport(.failed("unknownModel: \(head.name)@v\(head.version) is not deployed here"))
        }
        let client = try await InferenceClient.connect(url: url)
        defer { client.close() }
        let path = "/v2/models/\(head.name)/versions/\(head.version)/infer"
        let predicted = try await client.labels(path: path, rows: request.rows.features)
        let correct = zip(predicted, request.rows.labels).filter { $0 == $1 }.count
        let columns = request.rows.features.columns
        let one = Array(request.rows.features.row(0))
        var edgeCases: [ServingTestReport.EdgeCase] = []
        let cases: [(String, [UInt8])] = [
            ("wrong-shape", Array(InferenceClient.body(shape: [1, columns + 1], values: one + [0]).utf8)),
            ("wrong-type", Array((#"{"inputs":[{"name":"input","shape":[1,\#(columns)],"datatype":"BYTES","data":["#
                + Array(repeating: #""a""#, count: columns).joined(separator: ",") + "]}]}").utf8)),
            ("empty-batch", Array(InferenceClient.body(shape: [0, columns], values: []).utf8)),
            ("huge-batch", InferenceClient.zerosBody(shape: [self.server.configuration.maximumBatchRows + 1, columns])),
            ("not-json", Array("{\"inputs\": [".utf8)),
            ("unknown-model", []),
        ]
        for (name, body) in cases {
            let target = name == "unknown-model" ? "/v2/models/no-such-model/infer" : path
            let response = try await client.connection.request(
                "POST", target, body: body.isEmpty ? Array(InferenceClient.body(shape: [1, columns], values: one).utf8) : body)
            let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            let refused = (400..<500).contains(response.status) && json?["error"] is String
            edgeCases.append(.init(name: name, status: response.status, refused: refused))
        }
        let after = try await client.labels(path: path, rows: TensorFrame(rows: 1, columns: columns, values: one))
        let servingAfter = after.first == predicted.first
        // The load test: its figures are telemetry.
        var telemetry: [String: String] = [:]
        if head.milliseconds > 0 {
            // The server's own address: on a host of a multi-host mesh it listens there, not on loopback.
            let load = try await LoadTest.run(LoadTest.Configuration(
                host: self.server.configuration.host, port: port, path: path, body: Array(InferenceClient.body(shape: [1, columns], values: one).utf8),
                connections: head.connections, duration: .milliseconds(head.milliseconds), warmUp: .milliseconds(100),
                minimumRequests: 20))
            telemetry = [
                "load.requests": String(load.requests), "load.rps": String(Int(load.requestsPerSecond)),
                "load.p50_ms": String(format: "%.3f", load.p50Milliseconds),
                "load.p99_ms": String(format: "%.3f", load.p99Milliseconds), "load.errors": String(load.errors),
                "load.connections": String(head.connections),
            ]
            self.logger.info("staging load test", metadata: ["model": "\(head.name)@v\(head.version)", "result": "\(load.summary)"])
            if load.errors > 0 {
                return WorkReport(.failed("loadTest: \(load.errors) errors in \(load.requests) requests: \(load.summary)"), telemetry: telemetry)
            }
        }
        let report = ServingTestReport(
            name: head.name, version: head.version, rows: request.rows.labels.count, correct: correct, edgeCases: edgeCases,
            servingAfterEdgeCases: servingAfter)
        return WorkReport(.done(CanonicalJSON.encode(report)), telemetry: telemetry)
    }

    // MARK: - State that outlives the process

    /// Writes a deploy request's bytes as `<name>@v<N>.deploy` (written once, atomically).
    private func keep(_ request: DeployRequest) {
        guard let directory = self.stateDirectory else { return }
        let path = "\(directory)/\(request.head.name)@v\(request.head.version).deploy"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(request.encoded()).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            self.logger.warning("cannot keep the deployed version", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// Writes `<name>.aliases` (alias → version, JSON).
    private func keepAliases(_ name: String) {
        guard let directory = self.stateDirectory else { return }
        let path = "\(directory)/\(name).aliases"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(CanonicalJSON.encode(self.registry.aliases(name))).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            self.logger.warning("cannot keep the aliases", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// Serves again what an earlier process of this agent deployed; a damaged file is logged and
    /// skipped (the workflow's next deploy brings that version back).
    private func restore(from directory: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for name in names where name.hasSuffix(".deploy") {
            do {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
                let request = try DeployRequest(decoding: bytes)
                _ = try self.deploy(request, keeping: false)
            } catch {
                self.logger.warning("cannot restore a deployed version", metadata: ["file": "\(name)", "error": "\(error)"])
            }
        }
        for name in names where name.hasSuffix(".aliases") {
            let model = String(name.dropLast(".aliases".count))
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                let aliases = try? CanonicalJSON.decode([String: Int].self, from: [UInt8](data), what: name)
            else { continue }
            for (alias, version) in aliases.sorted(by: { $0.key < $1.key }) {
                try? self.registry.deploy(model, version: version, alias: alias)
            }
        }
        if !names.isEmpty { self.logger.notice("restored deployed models", metadata: ["directory": "\(directory)"]) }
    }
}
