import MeshCompute
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 connection of the inference API, behind NIO's HTTP/1.1 codec and its pipelining
/// handler (which hands it one request at a time and handles graceful quiescing).
///
/// Everything runs on the connection's event loop: routing, the body, parsing, batches of up to
/// ``InferenceServer/Configuration/inlineRowLimit`` rows, the response. Larger batches go to the
/// ``ComputeExecutor`` and their answer is written back on the loop. No Swift task, async
/// sequence or cooperative-pool hop per request (docs/INFERENCE.md has the measurements).
final class InferenceHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

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
    private var dates = DateHeaderCache()

    init(responder: InferenceResponder, executor: ComputeExecutor) {
        self.responder = responder
        self.executor = executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
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
            self.state = .computing
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
                self.state = .computing
                let collected = tooLarge ? nil : (body ?? ByteBuffer())
                switch self.responder.infer(call, body: collected) {
                case .reply(let reply):
                    self.state = .idle
                    self.write(reply, context: context)
                case .offload(let computation):
                    self.offload(computation, context: context)
                }
            case .idle, .computing:
                // NIO's codec and pipelining handler send no end without a head, one request at a time.
                assertionFailure("a request ended that never began: \(self.state)")
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .collecting(let call, _, _) = self.state {
            self.state = .idle
            self.responder.abandon(call)
        }
        context.fireChannelInactive()
    }

    /// Runs a large batch on the executor and answers on the loop when it is done.
    private func offload(_ computation: InferenceResponder.Computation, context: ChannelHandlerContext) {
        let responder = self.responder
        let executor = self.executor
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await executor.run { responder.compute(computation) }
        }.whenSuccess { reply in
            let (handler, context) = bound.value
            handler.state = .idle
            handler.write(reply, context: context)
        }
    }

    private func write(_ reply: InferenceResponder.Reply, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(reply.allow == nil ? 3 : 4)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(reply.body.readableBytes))
        headers.add(name: "Date", value: self.dates.now())
        if let allow = reply.allow { headers.add(name: "Allow", value: allow) }
        if !self.keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        if self.keepAlive {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        }
    }
}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted at most once a second per
/// connection.
struct DateHeaderCache {
    private var second = -1
    private var text = ""

    mutating func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if second != self.second {
            self.second = second
            self.text = Self.format(second)
        }
        return self.text
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
