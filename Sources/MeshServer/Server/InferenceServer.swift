import NIOHTTP1
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
            eventLoopThreads: Int? = nil
        ) {
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
        var listener: Listener?
        var started = false
        var resourcesReleased = false
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

    /// The event loops the server's sockets run on.
    public var eventLoops: any EventLoopGroup { self.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton }

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
        self.state.withLock { state in
            precondition(!state.started, "InferenceServer.start() called twice")
            state.started = true
        }
        let listener = try await self.listen()
        let port = listener.port
        self.state.withLock { state in
            state.listener = listener
            state.port = port
        }
        self.onListening?(self.url!)
        return port
    }

    /// Stops accepting connections, lets requests in flight finish, closes idle connections, and
    /// waits until the server has stopped. Idempotent; does nothing before ``start()``.
    public func stop() async {
        let listener = self.state.withLock { state in
            defer { state.listener = nil }
            return state.listener
        }
        if let listener { await listener.shutdown() }
        self.state.withLock { $0.port = nil }
        self.shutDownOwnedResources()
    }

    private func shutDownOwnedResources() {
        let first = self.state.withLock { state in
            defer { state.resourcesReleased = true }
            return !state.resourcesReleased
        }
        guard first else { return }
        if self.ownsExecutor { self.executor.shutdown() }
        if let group = self.ownedEventLoopGroup { group.shutdownGracefully { _ in } }
    }

    /// Serves until the surrounding `ServiceGroup` shuts down gracefully (or the task is
    /// cancelled); for running the server beside an agent in one process.
    public func run() async throws {
        try await self.start()
        // Returns on graceful shutdown; throws on cancellation. Either way the server stops.
        try? await gracefulShutdown()
        await self.stop()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully; for a process whose only job is
    /// serving (`meshwork serve-model`).
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: self.logger)
        )
        try await group.run()
    }

    /// Binds the socket: NIO's HTTP/1.1 request decoder, then ``InferenceHTTPHandler`` on each
    /// connection, all on the connection's event loop.
    private func listen() async throws -> Listener {
        let responder = InferenceResponder(
            registry: self.registry,
            configuration: self.configuration,
            inFlight: self.inFlight
        )
        let executor = self.executor
        let connections = ConnectionTracker()
        let channel = try await ServerBootstrap(group: self.eventLoops)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(clamping: self.configuration.backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.add(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // NIO's request decoder (llhttp); the handler renders its responses as bytes and
                    // does the pipelining, quiescing and parse-error answers NIO's server pipeline did.
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(InferenceHTTPHandler(responder: responder, executor: executor))
                }
            }
            .bind(host: self.configuration.host, port: self.configuration.port)
            .get()
        return Listener(channel: channel, connections: connections)
    }
}

/// The listening socket and the connections it accepted.
private final class Listener: Sendable {
    let channel: any Channel
    let connections: ConnectionTracker

    init(channel: any Channel, connections: ConnectionTracker) {
        self.channel = channel
        self.connections = connections
    }

    var port: Int { self.channel.localAddress?.port ?? 0 }

    /// Closes the socket, then each connection once its request in flight is answered.
    func shutdown() async {
        try? await self.channel.close()
        await self.connections.quiesce()
    }
}

/// The server's open connections, so stopping can let each finish its request and close it.
final class ConnectionTracker: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    /// How long a connection may take to finish its request once the server stops.
    static let quiesceTimeout = TimeAmount.seconds(30)

    private let state = Mutex(State())

    /// Registers an accepted connection; false when the server is stopping (close it then).
    func add(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let accepted = self.state.withLock { state -> Bool in
            guard !state.quiescing else { return false }
            state.open[key] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { _ in
                self.state.withLock { _ = $0.open.removeValue(forKey: key) }
            }
        }
        return accepted
    }

    /// Asks every connection to close once its current request is answered (idle ones close at
    /// once; InferenceHTTPHandler does this on `ChannelShouldQuiesceEvent`), and waits until
    /// all have closed, closing any still open after ``quiesceTimeout``.
    func quiesce() async {
        let open = self.state.withLock { state in
            state.quiescing = true
            return Array(state.open.values)
        }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            let deadline = channel.eventLoop.scheduleTask(in: Self.quiesceTimeout) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in deadline.cancel() }
        }
        for channel in open { try? await channel.closeFuture.get() }
    }
}
