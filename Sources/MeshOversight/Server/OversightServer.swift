import Foundation
import Hummingbird
public import Logging
import MeshCore
public import MeshRuntime
import MeshStore
import NIOCore
public import ServiceLifecycle
import Synchronization
import UnixSignals

/// The oversight page and `/metrics` of one run, over HTTP (Hummingbird).
///
/// One per mesh: `meshwork up` starts it beside the supervisor (live: the approvals page decides
/// gates), `meshwork serve RUN_DIR` starts it on a finished run (read-only). It binds loopback by
/// default; anything that changes state needs ``token`` and passes ``AccessGuard``'s CSRF and
/// origin checks (docs/OVERSIGHT.md).
///
/// ```swift
/// let server = OversightServer(configuration: .init(runDirectory: run.path, gatesDirectory: run.path + "/gates"))
/// let url = try await server.start()      // http://127.0.0.1:PORT
/// print("oversight: \(url)/?token=\(server.token)")
/// …
/// await server.stop()
/// ```
public final class OversightServer: Service, Sendable {
    /// What the server shows and where it listens.
    public struct Configuration: Sendable {
        /// The run directory (`runs/<id>`).
        public var runDirectory: String
        /// Where the run's live gates wait; nil shows the run read-only (no forms, POST refused).
        public var gatesDirectory: String?
        /// The address to bind: `127.0.0.1` unless asked.
        public var host: String
        /// The port; 0 asks the system for a free one.
        public var port: Int
        /// The token; a fresh random one when nil.
        public var token: String?

        /// What to show and where; loopback and a free port unless told otherwise.
        public init(runDirectory: String, gatesDirectory: String?, host: String = "127.0.0.1", port: Int = 0, token: String? = nil) {
            self.runDirectory = runDirectory
            self.gatesDirectory = gatesDirectory
            self.host = host
            self.port = port
            self.token = token
        }

        /// Parses `HOST:PORT` (`--oversight-bind`, `--bind`).
        ///
        /// - Throws: ``RuntimeError`` `.usage` naming the value when it is not `HOST:PORT`.
        public static func parseBind(_ text: String) throws -> (host: String, port: Int) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port),
                colon != text.startIndex
            else {
                throw RuntimeError(.usage, "bind address '\(text)' is not HOST:PORT (such as 127.0.0.1:0)")
            }
            return (String(text[..<colon]), port)
        }
    }

    /// What the server was told.
    public let configuration: Configuration
    /// The secret a state-changing request must carry.
    public let token: String
    /// The pages.
    public let site: OversightSite
    /// The server's logger (metadata `mesh.run`).
    public let logger: Logger

    private struct State {
        var port: Int?
        var group: ServiceGroup?
        var runner: Task<Void, any Error>?
        var bound: CheckedContinuation<Int, any Error>?
        var boundResult: Result<Int, any Error>?
    }

    private let state = Mutex(State())

    /// A server for `configuration`; nothing is bound until ``start()``. Without `logger`, one
    /// labelled `meshwork.oversight` at level warning.
    public init(configuration: Configuration, logger: Logger? = nil) {
        self.configuration = configuration
        self.token = configuration.token ?? AccessGuard.makeToken()
        self.site = OversightSite(runDirectory: configuration.runDirectory, gates: configuration.gatesDirectory.map(LiveGates.init(directory:)))
        var logger =
            logger
            ?? {
                var logger = Logger(label: "meshwork.oversight")
                logger.logLevel = .warning
                return logger
            }()
        logger[metadataKey: "mesh.run"] = .string((configuration.runDirectory as NSString).lastPathComponent)
        self.logger = logger
    }

    /// The bound port, once listening.
    public var port: Int? { self.state.withLock { $0.port } }

    /// `http://HOST:PORT`, once listening.
    public var url: String? { self.port.map { "http://\(self.configuration.host):\($0)" } }

    /// The address to open in a browser: ``url`` with the token, which sets the session cookie.
    public var loginURL: String? { self.url.map { "\($0)/?token=\(self.token)" } }

    /// Binds and serves in the background; returns ``url`` once listening.
    ///
    /// - Throws: the bind error (address in use, bad host).
    /// - Precondition: called once.
    @discardableResult
    public func start() async throws -> String {
        let application = self.makeApplication()
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: self.logger))
        let runner = Task {
            do {
                try await group.run()
                self.bound(.failure(RuntimeError(.transport, "the oversight server stopped before it was listening")))
            } catch {
                self.bound(.failure(error))
                throw error
            }
        }
        self.state.withLock { state in
            precondition(state.group == nil, "OversightServer.start() called twice")
            state.group = group
            state.runner = runner
        }
        let port = try await withCheckedThrowingContinuation { continuation in
            let ready = self.state.withLock { state -> Result<Int, any Error>? in
                if let result = state.boundResult { return result }
                state.bound = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
        self.state.withLock { $0.port = port }
        return self.url!
    }

    /// Stops serving (requests in flight finish) and waits until the server has stopped.
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
    }

    /// Serves until the surrounding `ServiceGroup` shuts down (swift-service-lifecycle `Service`).
    public func run() async throws {
        try await self.makeApplication().run()
    }

    /// Starts, calls `onListening` with ``url``, and serves until SIGINT or SIGTERM (`meshwork serve`).
    public func serveUntilSignalled(onListening: @Sendable (String) -> Void) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        onListening(try await self.start())
        for await _ in signals { break }
        await self.stop()
    }

    private func bound(_ result: Result<Int, any Error>) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.boundResult == nil else { return nil }
            state.boundResult = result
            if case .success(let port) = result { state.port = port }
            defer { state.bound = nil }
            return state.bound
        }
        waiter?.resume(with: result)
    }

    private func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        let routes = OversightRoutes(server: self)
        routes.register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(self.configuration.host, port: self.configuration.port), serverName: "meshwork-oversight"),
            onServerRunning: { [self] channel in self.bound(.success(channel.localAddress?.port ?? 0)) },
            logger: self.logger
        )
    }

    /// The origins a state-changing request may come from, for the request's `Host`.
    func allowedOrigins(host: String?) -> [String] {
        guard let port = self.port else { return [] }
        var origins = ["http://\(self.configuration.host):\(port)"]
        if ["127.0.0.1", "localhost", "::1"].contains(self.configuration.host) {
            origins += ["http://127.0.0.1:\(port)", "http://localhost:\(port)", "http://[::1]:\(port)"]
        } else if let host, host.hasSuffix(":\(port)") {
            // Bound to a wildcard or a public name: the origin is the one the browser addressed.
            origins.append("http://\(host)")
        }
        return origins
    }
}
