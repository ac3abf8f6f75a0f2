import MeshCompute
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 connection of the inference API, behind NIO's request decoder (llhttp): it
/// routes, collects the body, answers, and writes each response as one buffer of bytes it renders
/// itself (``ResponseRenderer``), with no response encoder, pipelining handler or error handler
/// between it and the socket.
///
/// Everything runs on the connection's event loop: routing, the body, parsing, batches of up to
/// ``InferenceServer/Configuration/inlineRowLimit`` rows, the response. Larger batches go to the
/// ``ComputeExecutor`` and their answer is written back on the loop. No Swift task, async
/// sequence or cooperative-pool hop per request (docs/INFERENCE.md has the measurements).
///
/// HTTP/1.1 as NIO's server pipeline handled it before (docs/INFERENCE.md, "How a request is
/// served"):
/// - pipelining: requests are answered in order; while a batch is on the executor, the parts of
///   later requests wait here and reading from the socket pauses;
/// - `Connection: close` (or an HTTP/1.0 request without keep-alive) closes after the answer;
/// - a request NIO's decoder cannot parse is answered `400 Bad Request` with `Connection: close`
///   when no answer is pending, and the connection closes;
/// - ``ChannelShouldQuiesceEvent`` (the server stopping) closes an idle connection at once and a
///   busy one after its current answer.
final class InferenceHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests.
        case idle
        /// The answer is known from the head; the body is dropped until the request ends.
        case answered(InferenceResponder.Reply)
        /// Reading an inference request's body; `body` is nil once it grew past the limit.
        case collecting(InferenceResponder.InferenceCall, body: ByteBuffer?, tooLarge: Bool)
        /// The request is on the executor; its answer is written when it comes back.
        case computing
    }

    private let responder: InferenceResponder
    private let executor: ComputeExecutor
    private var state = State.idle
    private var keepAlive = true
    private var renderer = ResponseRenderer()
    /// Parts of pipelined requests that arrived while a batch was on the executor.
    private var waiting = CircularBuffer<HTTPServerRequestPart>()
    /// A `read` held back while a batch is on the executor.
    private var readPending = false
    /// Close once the current request is answered (the server is stopping).
    private var quiescing = false
    /// The connection is closing: nothing more is read or answered.
    private var closing = false

    init(responder: InferenceResponder, executor: ComputeExecutor) {
        self.responder = responder
        self.executor = executor
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        guard !self.closing else { return }
        if case .computing = self.state {
            self.waiting.append(part)
            return
        }
        self.handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.keepAlive = head.isKeepAlive
            let length = head.headers.first(name: "content-length").flatMap { Int($0) }
            switch self.responder.begin(method: head.method, uri: head.uri, contentLength: length) {
            case .reply(let reply):
                self.state = .answered(reply)
            case .infer(let call):
                self.state = .collecting(call, body: nil, tooLarge: false)
            }
        case .body(var part):
            guard case .collecting(let call, var body, let tooLarge) = self.state, !tooLarge else { return }
            // Drop the state's reference first so appending does not copy the buffer.
            self.state = .idle
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
            if body!.readableBytes > self.responder.configuration.maximumBodyBytes {
                self.state = .collecting(call, body: nil, tooLarge: true)
            } else {
                self.state = .collecting(call, body: body, tooLarge: false)
            }
        case .end:
            switch self.state {
            case .answered(let reply):
                self.state = .idle
                self.write(reply, context: context)
            case .collecting(let call, let body, let tooLarge):
                self.state = .idle
                let collected = tooLarge ? nil : (body ?? ByteBuffer())
                switch self.responder.infer(call, body: collected) {
                case .reply(let reply):
                    self.write(reply, context: context)
                case .offload(let computation):
                    self.offload(computation, context: context)
                }
            case .idle, .computing:
                // NIO's decoder sends no end without a head, and parts wait while computing.
                assertionFailure("a request ended that never began: \(self.state)")
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if case .idle = self.state, self.waiting.isEmpty {
            self.close(context: context)
        } else {
            // Mid-request: answer it, then close; pipelined requests behind it are dropped.
            self.quiescing = true
            self.waiting.removeAll()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.closing else { return }
        if error is HTTPParserError, !self.isComputing {
            // What NIO's HTTPServerProtocolErrorHandler answered: the request could not be parsed.
            var response = context.channel.allocator.buffer(capacity: ResponseRenderer.badRequest.utf8CodeUnitCount)
            response.writeStaticString(ResponseRenderer.badRequest)
            context.writeAndFlush(self.wrapOutboundOut(response), promise: nil)
        }
        self.close(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closing = true
        self.waiting.removeAll()
        if case .collecting(let call, _, _) = self.state {
            self.state = .idle
            self.responder.abandon(call)
        }
        context.fireChannelInactive()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if self.isComputing {
            self.readPending = true
        } else {
            context.read()
        }
    }

    private var isComputing: Bool {
        if case .computing = self.state { return true }
        return false
    }

    // MARK: Answers

    /// Runs a large batch on the executor and answers on the loop when it is done; then the
    /// requests that arrived meanwhile.
    private func offload(_ computation: InferenceResponder.Computation, context: ChannelHandlerContext) {
        self.state = .computing
        let responder = self.responder
        let executor = self.executor
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await executor.run { responder.compute(computation) }
        }.whenSuccess { reply in
            let (handler, context) = bound.value
            handler.state = .idle
            guard !handler.closing else { return }
            handler.write(reply, context: context)
            handler.resume(context: context)
        }
    }

    /// Handles the parts that waited behind a computed batch, then lets reading go on.
    private func resume(context: ChannelHandlerContext) {
        while !self.closing, !self.isComputing, let part = self.waiting.popFirst() {
            self.handle(part, context: context)
        }
        if self.readPending, !self.isComputing, !self.closing {
            self.readPending = false
            context.read()
        }
    }

    private func write(_ reply: InferenceResponder.Reply, context: ChannelHandlerContext) {
        let close = !self.keepAlive || self.quiescing
        let response = self.renderer.render(reply, close: !self.keepAlive, allocator: context.channel.allocator)
        if close {
            self.closing = true
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(response)).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        } else {
            context.writeAndFlush(self.wrapOutboundOut(response), promise: nil)
        }
    }

    private func close(context: ChannelHandlerContext) {
        self.closing = true
        self.waiting.removeAll()
        context.close(promise: nil)
    }
}

/// Renders an answer as the bytes of an HTTP/1.1 response — status line, headers, body — in one
/// buffer: the same bytes NIO's `HTTPResponseEncoder` wrote for the same head, without building an
/// `HTTPHeaders`, a `String` per header value or a separate buffer for the head.
///
/// ```
/// HTTP/1.1 200 OK\r\n
/// Content-Type: application/json\r\n
/// Content-Length: 312\r\n
/// Date: Mon, 30 Nov 2026 02:30:00 GMT\r\n
/// [Allow: POST\r\n]
/// [Connection: close\r\n]
/// \r\n
/// BODY
/// ```
struct ResponseRenderer {
    /// The answer to a request NIO's decoder could not parse (as NIO's
    /// `HTTPServerProtocolErrorHandler` wrote it).
    static let badRequest: StaticString = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    /// The status line of a 200 and the header every answer starts with.
    private static let okPrefix: StaticString = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "

    private var dates = DateHeaderCache()

    /// The response for `reply`; `close` adds `Connection: close`.
    mutating func render(_ reply: InferenceResponder.Reply, close: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 128 + reply.body.readableBytes)
        if reply.status == .ok {
            buffer.writeStaticString(Self.okPrefix)
        } else {
            buffer.writeStaticString("HTTP/1.1 ")
            Self.writeDecimal(reply.status.code, into: &buffer)
            buffer.writeStaticString(" ")
            buffer.writeString(reply.status.reasonPhrase)
            buffer.writeStaticString("\r\nContent-Type: application/json\r\nContent-Length: ")
        }
        Self.writeDecimal(UInt(reply.body.readableBytes), into: &buffer)
        buffer.writeStaticString("\r\nDate: ")
        self.dates.write(into: &buffer)
        buffer.writeStaticString("\r\n")
        if let allow = reply.allow {
            buffer.writeStaticString("Allow: ")
            buffer.writeString(allow)
            buffer.writeStaticString("\r\n")
        }
        if close { buffer.writeStaticString("Connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        var body = reply.body
        buffer.writeBuffer(&body)
        return buffer
    }

    /// Writes `value` in decimal ASCII.
    static func writeDecimal(_ value: UInt, into buffer: inout ByteBuffer) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for any UInt's 20 digits
        withUnsafeMutableBytes(of: &digits) { raw in
            var index = raw.count
            var rest = value
            repeat {
                index -= 1
                raw[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[index...]))
        }
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted at most once a second per
/// connection.
struct DateHeaderCache {
    private var second = -1
    private var text: [UInt8] = []

    /// Writes the current date's value (29 bytes).
    mutating func write(into buffer: inout ByteBuffer) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if second != self.second {
            self.second = second
            self.text = Array(Self.format(second).utf8)
        }
        buffer.writeBytes(self.text)
    }

    static func format(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
