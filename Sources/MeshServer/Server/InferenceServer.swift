import HummingbirdCore
import NIOPosix
public import Logging
public import MeshCompute
public import NIOCore
public import ServiceLifecycle
import UnixSignals
import Synchronization

/// The inference API: an HTTP/1.1 server in the shape of the Open Inference Protocol (KServe v2)
/// that serves the versions of a ``ModelRegistry`` by alias or number (docs/INFERENCE.md).
///
/// Start it and stop it yourself, or run it as a swift-service-lifecycle `Service` in the
/// process's `ServiceGroup` (graceful shutdown stops it):
///
/// ```swift
/// let registry = ModelRegistry()
/// try registry.deploy(version, alias: "production")
/// let server = InferenceServer(registry: registry, configuration: .init(host: "127.0.0.1", port: 0))
/// let port = try await server.start()          // bound; port 0 asks for an ephemeral port
/// // POST \(server.url!)/v2/models/digits-classifier/infer
/// await server.stop()                          // graceful: requests in flight finish
/// ```
public final class InferenceServer: Service, Sendable {
    /// Where the server listens and what it accepts.
    public struct Configuration: Sendable {
        /// The address to bind (`127.0.0.1` by default; loopback only unless asked).
        public var host: String
        /// The port to bind; 0 asks the system for a free one (read it from ``InferenceServer/port``).
        public var port: Int
        /// The most rows one request may carry (more is answered 413).
        public var maximumBatchRows: Int
        /// The largest request body accepted (more is answered 413).
        public var maximumBodyBytes: Int
        /// Batches of up to this many rows are computed on the request's own task; larger ones go
        /// to the ``ComputeExecutor`` thread so they do not hold a cooperative-pool thread.
        public var inlineRowLimit: Int
        /// The listen backlog.
        public var backlog: Int
        /// Runs each connection's task on its socket's event loop (a task-executor preference)
        /// instead of Swift's cooperative pool; docs/INFERENCE.md compares the two.
        public var runsOnEventLoops: Bool
        /// When set (and no group is passed to the server), the server runs its own event-loop
        /// group of this many threads and shuts it down when it stops; otherwise NIO's singleton
        /// group (one thread per core).
        public var eventLoopThreads: Int?

        /// A configuration; the defaults are documented in docs/INFERENCE.md.
        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            maximumBatchRows: Int = 4096,
            maximumBodyBytes: Int = 16 << 20,
            inlineRowLimit: Int = 32,
            backlog: Int = 1024,
            runsOnEventLoops: Bool = false,
            eventLoopThreads: Int? = nil
        ) {
            self.runsOnEventLoops = runsOnEventLoops
            self.eventLoopThreads = eventLoopThreads.map { max(1, $0) }
            self.host = host
            self.port = port
            self.maximumBatchRows = maximumBatchRows
            self.maximumBodyBytes = maximumBodyBytes
            self.inlineRowLimit = inlineRowLimit
            self.backlog = backlog
        }
    }

    /// The models served.
    public let registry: ModelRegistry
    /// What the server accepts.
    public let configuration: Configuration
    /// The server's logger.
    public let logger: Logger

    private let executor: ComputeExecutor
    private let ownsExecutor: Bool
    private let onListening: (@Sendable (_ url: String) -> Void)?
    private let eventLoopGroup: (any EventLoopGroup)?
    private let ownedEventLoopGroup: MultiThreadedEventLoopGroup?

    private struct State {
        var port: Int?
        var group: ServiceGroup?
        var runner: Task<Void, any Error>?
        var started = false
    }

    private let state = Mutex(State())
    private let inFlight = InFlightCounter()

    /// A server for `registry`; nothing is bound until ``start()`` or ``run()``.
    ///
    /// - Parameters:
    ///   - executor: where large batches run; by default the server makes its own one-thread
    ///     executor (which sets OpenBLAS to one thread) and shuts it down in ``stop()``.
    ///   - eventLoopGroup: NIO's event loops for the sockets; by default NIO's shared singleton
    ///     group (one loop per core).
    ///   - onListening: called with ``url`` once the socket listens (from ``start()`` or ``run()``).
    public init(
        registry: ModelRegistry,
        configuration: Configuration = Configuration(),
        executor: ComputeExecutor? = nil,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger? = nil,
        onListening: (@Sendable (_ url: String) -> Void)? = nil
    ) {
        self.onListening = onListening
        self.registry = registry
        self.configuration = configuration
        self.executor = executor ?? ComputeExecutor(name: "meshwork.inference")
        self.ownsExecutor = executor == nil
        self.ownedEventLoopGroup =
            eventLoopGroup == nil ? configuration.eventLoopThreads.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) } : nil
        self.eventLoopGroup = eventLoopGroup ?? self.ownedEventLoopGroup
        self.logger =
            logger
            ?? {
                var logger = Logger(label: "meshwork.inference")
                logger.logLevel = .warning
                return logger
            }()
    }

    /// The bound port, once listening.
    public var port: Int? { self.state.withLock { $0.port } }

    /// Inference requests being answered at this moment (received, not yet answered).
    public var requestsInFlight: Int { self.inFlight.count.load(ordering: .relaxed) }

    /// `http://HOST:PORT`, once listening.
    public var url: String? {
        self.port.map { "http://\(self.configuration.host):\($0)" }
    }

    /// Binds and starts serving in the background; returns the bound port once the socket
    /// listens.
    ///
    /// - Throws: the bind error (address in use, bad host), or `CancellationError`.
    /// - Precondition: called once.
    @discardableResult
    public func start() async throws -> Int {
        let bound = BoundSignal()
        let service = try self.makeServer(onBound: { bound.succeed($0) })
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [], logger: self.logger)
        )
        let runner = Task {
            do {
                try await group.run()
                bound.fail(ServerStopped())
            } catch {
                bound.fail(error)
                throw error
            }
        }
        self.state.withLock { state in
            precondition(!state.started, "InferenceServer.start() called twice")
            state.started = true
            state.group = group
            state.runner = runner
        }
        let port = try await bound.wait()
        self.state.withLock { $0.port = port }
        self.onListening?(self.url!)
        return port
    }

    /// Stops accepting connections, lets requests in flight finish, closes idle connections, and
    /// waits until the server has stopped. Idempotent; does nothing before ``start()``.
    public func stop() async {
        let (group, runner) = self.state.withLock { state in
            defer {
                state.group = nil
                state.runner = nil
            }
            return (state.group, state.runner)
        }
        if let group { await group.triggerGracefulShutdown() }
        _ = try? await runner?.value
        self.state.withLock { $0.port = nil }
        self.shutDownOwnedResources()
    }

    private func shutDownOwnedResources() {
        if self.ownsExecutor { self.executor.shutdown() }
        if let group = self.ownedEventLoopGroup { group.shutdownGracefully { _ in } }
    }

    /// Serves until the surrounding `ServiceGroup` shuts down gracefully (or the task is
    /// cancelled); for running the server beside an agent in one process.
    public func run() async throws {
        let service = try self.makeServer(onBound: { [self] port in
            self.state.withLock { $0.port = port }
            self.onListening?(self.url!)
        })
        try await service.run()
        self.state.withLock { $0.port = nil }
        self.shutDownOwnedResources()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully; for a process whose only job is
    /// serving (`meshwork serve-model`).
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: self.logger)
        )
        try await group.run()
    }

    private func makeServer(onBound: @escaping @Sendable (Int) -> Void) throws -> any Service {
        let responder = InferenceResponder(
            registry: self.registry,
            configuration: self.configuration,
            executor: self.executor,
            inFlight: self.inFlight
        )
        let builder: HTTPServerBuilder =
            self.configuration.runsOnEventLoops
            ? HTTPServerBuilder { responder in EventLoopPinnedHTTP1Channel(inner: HTTP1Channel(responder: responder)) }
            : .http1()
        return try builder.buildServer(
            configuration: ServerConfiguration(
                address: .hostname(self.configuration.host, port: self.configuration.port),
                serverName: "meshwork",
                backlog: self.configuration.backlog
            ),
            eventLoopGroup: self.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton,
            logger: self.logger,
            responder: { request, writer, _ in
                let response = await responder.respond(to: request)
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? 0) }
        )
    }
}

/// The server stopped before it was listening.
struct ServerStopped: Error, CustomStringConvertible {
    var description: String { "the inference server stopped before it was listening" }
}

/// A one-shot rendezvous between the server's start-up and ``InferenceServer/start()``.
private final class BoundSignal: Sendable {
    private struct State {
        var result: Result<Int, any Error>?
        var waiter: CheckedContinuation<Int, any Error>?
    }

    private let state = Mutex(State())

    func succeed(_ port: Int) { self.complete(.success(port)) }

    func fail(_ error: any Error) { self.complete(.failure(error)) }

    private func complete(_ result: Result<Int, any Error>) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = self.state.withLock { state -> Result<Int, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
