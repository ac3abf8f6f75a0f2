public import NIOCore
import NIOPosix
import Synchronization

/// A bounded closed-loop HTTP/1.1 load generator for loopback: N keep-alive connections, each with
/// one request in flight, the same request again and again, for a fixed time.
///
/// Requests are written as prepared bytes and responses framed by `Content-Length`, so the client
/// spends little CPU beside the server on a 2-core machine. The first ``Configuration/warmUp`` is
/// not counted; latencies are per request, from write to the last response byte.
///
/// ```swift
/// let body = Array(#"{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":[…]}]}"#.utf8)
/// let report = try await LoadTest.run(.init(port: port, path: "/v2/models/digits/infer", body: body))
/// print(report.summary)   // 44,123 req/s, p50 …
/// ```
public enum LoadTest {
    /// What to send, how hard and for how long.
    public struct Configuration: Sendable {
        /// The server's address (loopback).
        public var host: String
        /// The server's port.
        public var port: Int
        /// `POST` or `GET`.
        public var method: String
        /// The request path.
        public var path: String
        /// The request body (sent with `Content-Type: application/json` when not empty).
        public var body: [UInt8]
        /// Connections, each with one request in flight.
        public var connections: Int
        /// How long to measure, after the warm-up.
        public var duration: Duration
        /// How long to run before measuring; it starts before the connections are opened, so it
        /// also covers connecting.
        public var warmUp: Duration
        /// The client's event-loop threads.
        public var threads: Int
        /// Measured requests the run waits for past `duration` (at most a minute more), so that a
        /// short run on a loaded machine still reports something.
        public var minimumRequests: Int

        /// A configuration; `duration` is capped at 10 minutes.
        public init(
            host: String = "127.0.0.1",
            port: Int,
            method: String = "POST",
            path: String,
            body: [UInt8] = [],
            connections: Int = 64,
            duration: Duration = .seconds(10),
            warmUp: Duration = .seconds(1),
            threads: Int = 1,
            minimumRequests: Int = 0
        ) {
            self.host = host
            self.port = port
            self.method = method
            self.path = path
            self.body = body
            self.connections = max(1, connections)
            self.duration = min(duration, .seconds(600))
            self.warmUp = warmUp
            self.threads = max(1, threads)
            self.minimumRequests = max(0, minimumRequests)
        }

        /// The request as it goes on the wire.
        var requestBytes: [UInt8] {
            var head = "\(self.method) \(self.path) HTTP/1.1\r\nHost: \(self.host):\(self.port)\r\n"
            if !self.body.isEmpty || self.method == "POST" {
                head += "Content-Type: application/json\r\nContent-Length: \(self.body.count)\r\n"
            }
            head += "\r\n"
            return Array(head.utf8) + self.body
        }
    }

    /// Runs the load and reports; the client's event loops are created and shut down here.
    ///
    /// - Throws: when no connection could be opened at all.
    public static func run(_ configuration: Configuration) async throws -> LoadTestReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        do {
            let report = try await Self.run(configuration, on: group)
            try await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Runs the load on the event loops of `server` (in this process): client and server then
    /// share the loops' threads instead of adding the client's own.
    ///
    /// - Throws: when no connection could be opened at all.
    public static func run(_ configuration: Configuration, onLoopsOf server: InferenceServer) async throws -> LoadTestReport {
        try await Self.run(configuration, on: server.eventLoops)
    }

    /// Runs the load on event loops the caller owns (``Configuration/threads`` is not used), e.g.
    /// the server's own loops when server and client share a process and its cores.
    ///
    /// - Throws: when no connection could be opened at all.
    public static func run(
        _ configuration: Configuration,
        on group: any EventLoopGroup
    ) async throws -> LoadTestReport {
        let start = NIODeadline.now()
        let stopAt = start + TimeAmount(configuration.warmUp) + TimeAmount(configuration.duration)
        let plan = Plan(
            measureFrom: start + TimeAmount(configuration.warmUp),
            stopAt: stopAt,
            hardStop: stopAt + .seconds(configuration.minimumRequests > 0 ? 60 : 0),
            minimumRequests: configuration.minimumRequests
        )
        let request = ByteBuffer(bytes: configuration.requestBytes)
        var results: [EventLoopFuture<ConnectionResult>] = []
        var connectFailures = 0
        var lastError: (any Error)?
        for _ in 0..<configuration.connections {
            let eventLoop = group.next()
            let done = eventLoop.makePromise(of: ConnectionResult.self)
            do {
                _ = try await ClientBootstrap(group: eventLoop)
                    .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                LoadConnectionHandler(request: request, plan: plan, done: done)
                            )
                        }
                    }
                    .connect(host: configuration.host, port: configuration.port)
                    .get()
                results.append(done.futureResult)
            } catch {
                done.fail(error)
                connectFailures += 1
                lastError = error
            }
        }
        if results.isEmpty, let lastError { throw lastError }
        var latencies: [UInt64] = []
        var non2xx = 0
        var errors = connectFailures
        var lastMeasured = plan.stopAt
        for result in results {
            let outcome = try await result.get()
            latencies += outcome.latencies
            non2xx += outcome.non2xx
            errors += outcome.errors
            lastMeasured = max(lastMeasured, outcome.lastMeasured)
        }
        let measured = Double((lastMeasured - plan.measureFrom).nanoseconds) / 1e9
        return LoadTestReport(
            connections: configuration.connections,
            seconds: measured,
            latencies: latencies,
            non2xx: non2xx,
            connectionErrors: errors
        )
    }

    /// When to start counting and when to stop, shared by the connections.
    final class Plan: Sendable {
        let measureFrom: NIODeadline
        /// The planned end.
        let stopAt: NIODeadline
        /// The end when fewer than `minimumRequests` were measured by `stopAt`.
        let hardStop: NIODeadline
        let minimumRequests: Int
        private let measured = Atomic<Int>(0)

        init(measureFrom: NIODeadline, stopAt: NIODeadline, hardStop: NIODeadline, minimumRequests: Int) {
            self.measureFrom = measureFrom
            self.stopAt = stopAt
            self.hardStop = hardStop
            self.minimumRequests = minimumRequests
        }

        /// Whether a request answered at `now` still counts and the run goes on.
        func isOpen(at now: NIODeadline) -> Bool {
            now < self.stopAt
                || (now < self.hardStop && self.measured.load(ordering: .relaxed) < self.minimumRequests)
        }

        /// Counts one measured request.
        func count() { self.measured.add(1, ordering: .relaxed) }
    }

    /// What one connection saw.
    struct ConnectionResult: Sendable {
        var latencies: [UInt64] = []
        var non2xx = 0
        var errors = 0
        /// When its last measured request was answered.
        var lastMeasured = NIODeadline.uptimeNanoseconds(0)
    }
}

extension TimeAmount {
    /// The amount of a Swift `Duration`, to the nanosecond.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// One load-test connection: sends the request, frames the response, records, sends again until
/// the plan's end, then closes.
private final class LoadConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: ByteBuffer
    private let plan: LoadTest.Plan
    private let done: EventLoopPromise<LoadTest.ConnectionResult>
    private var result = LoadTest.ConnectionResult()
    private var received: ByteBuffer?
    private var sentAt = NIODeadline.uptimeNanoseconds(0)
    private var finished = false

    init(request: ByteBuffer, plan: LoadTest.Plan, done: EventLoopPromise<LoadTest.ConnectionResult>) {
        self.request = request
        self.plan = plan
        self.done = done
        self.result.latencies.reserveCapacity(1 << 16)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.send(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        if self.received != nil {
            self.received!.writeBuffer(&bytes)
        } else {
            self.received = bytes
        }
        do {
            while var buffer = self.received, let response = try ResponseFramer.take(from: &buffer, keepHeaders: false) {
                self.received = buffer.readableBytes > 0 ? buffer : nil
                self.completed(status: response.status, context: context)
                if self.finished { return }
            }
        } catch {
            self.result.errors += 1
            self.finish(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.result.errors += 1
        self.finish(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.finished {
            // The server closed a connection the load test still wanted.
            if self.plan.isOpen(at: .now()) { self.result.errors += 1 }
            self.finished = true
            self.done.succeed(self.result)
        }
        context.fireChannelInactive()
    }

    private func send(context: ChannelHandlerContext) {
        self.sentAt = .now()
        context.writeAndFlush(self.wrapOutboundOut(self.request), promise: nil)
    }

    private func completed(status: Int, context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let open = self.plan.isOpen(at: now)
        if self.sentAt >= self.plan.measureFrom && (open || now <= self.plan.stopAt) {
            self.result.latencies.append(UInt64((now - self.sentAt).nanoseconds))
            self.result.lastMeasured = now
            if !(200..<300).contains(status) { self.result.non2xx += 1 }
            self.plan.count()
        }
        if open {
            self.send(context: context)
        } else {
            self.finish(context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !self.finished else { return }
        self.finished = true
        self.done.succeed(self.result)
        context.close(promise: nil)
    }
}
