public import NIOCore
import NIOPosix

/// One keep-alive HTTP/1.1 connection to a server on this machine, for tests and for the
/// pipeline agent's end-to-end checks (accuracy on the hold-out through HTTP). Requests on one
/// connection are answered in order; `request` may be called from any task.
///
/// ```swift
/// let client = try await HTTPClientConnection.connect(port: server.port!)
/// defer { client.close() }
/// let response = try await client.request("POST", "/v2/models/digits-classifier/infer", body: json)
/// print(response.status, String(decoding: response.body, as: UTF8.self))
/// ```
public final class HTTPClientConnection: Sendable {
    /// A response: status, headers (names as sent), body bytes.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// The headers in order.
        public var headers: [(name: String, value: String)]
        /// The body.
        public var body: [UInt8]

        /// The first header named `name`, case-insensitively.
        public func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    private let channel: any Channel
    private let host: String
    private let port: Int

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Opens a connection on `group` (NIO's singleton group by default).
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        group: (any EventLoopGroup)? = nil
    ) async throws -> HTTPClientConnection {
        let channel = try await ClientBootstrap(group: group ?? MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        return HTTPClientConnection(channel: channel, host: host, port: port)
    }

    /// Sends a request and waits for its response.
    ///
    /// - Parameters:
    ///   - headers: extra header lines (a `Content-Length` is added for a body).
    /// - Throws: `ChannelError` when the connection is closed, or an unreadable response.
    public func request(
        _ method: String,
        _ path: String,
        body: [UInt8] = [],
        headers: [(String, String)] = []
    ) async throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(self.host):\(self.port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return try await self.send(raw: Array(head.utf8) + body)
    }

    /// Sends prepared request bytes (a whole HTTP/1.1 request) and waits for one response.
    public func send(raw bytes: [UInt8]) async throws -> Response {
        let promise = self.channel.eventLoop.makePromise(of: ResponseFramer.Response.self)
        let outbound = ClientConnectionHandler.Outbound(bytes: ByteBuffer(bytes: bytes), promise: promise)
        let written = self.channel.eventLoop.makePromise(of: Void.self)
        // A write that never reaches the handler (the channel is closed) must fail the request too.
        written.futureResult.whenFailure { promise.fail($0) }
        self.channel.writeAndFlush(outbound, promise: written)
        let framed = try await promise.futureResult.get()
        return Response(status: framed.status, headers: framed.headers, body: Array(buffer: framed.body))
    }

    /// Closes the connection (a pending request fails).
    public func close() {
        self.channel.close(promise: nil)
    }
}

/// Matches responses to the requests written, in order.
private final class ClientConnectionHandler: ChannelDuplexHandler {
    struct Outbound: Sendable {
        var bytes: ByteBuffer
        var promise: EventLoopPromise<ResponseFramer.Response>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Outbound
    typealias OutboundOut = ByteBuffer

    private var waiting: [EventLoopPromise<ResponseFramer.Response>] = []
    private var received: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = self.unwrapOutboundIn(data)
        self.waiting.append(outbound.promise)
        context.write(self.wrapOutboundOut(outbound.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        if self.received != nil { self.received!.writeBuffer(&bytes) } else { self.received = bytes }
        do {
            while var buffer = self.received, let response = try ResponseFramer.take(from: &buffer, keepHeaders: true) {
                self.received = buffer.readableBytes > 0 ? buffer : nil
                guard !self.waiting.isEmpty else { continue }
                self.waiting.removeFirst().succeed(response)
            }
        } catch {
            self.failAll(error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        let waiting = self.waiting
        self.waiting = []
        for promise in waiting { promise.fail(error) }
    }
}
