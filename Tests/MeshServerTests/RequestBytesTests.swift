import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import MeshServer

/// The byte-level request handling of the inference API: ``Route`` parsed from the request
/// target's bytes (checked against the former `String`-splitting router on many targets), and
/// malformed HTTP on a real loopback socket, each answered with a clear 4xx or a closed
/// connection, and responses rendered byte for byte as NIO's encoder did.
@Suite struct RequestBytesTests {
    // MARK: Route

    static let targets: [String] = [
        "/v2", "/v2/", "v2", "//v2//", "/v2?x=1", "/v2/health/live", "/v2/health/ready", "/v2/health/ready?verbose",
        "/v2/health", "/v2/health/dead", "/v2/health/live/more", "/v2/models", "/v2/models/", "/v2//models",
        "/v2/models/digits", "/v2/models/digits/", "/v2/models/digits/ready", "/v2/models/digits/infer",
        "/v2/models/digits/infer?id=3&x", "/v2/models/digits/stats", "/v2/models/digits/explain",
        "/v2/models/digits@canary/infer", "/v2/models/digits%40canary/infer", "/v2/models/digits%40/infer",
        "/v2/models/@x/infer", "/v2/models/digits@/ready", "/v2/models/a%2Fb/infer", "/v2/models/digits/versions",
        "/v2/models/digits/versions/2", "/v2/models/digits/versions/2/infer", "/v2/models/digits/versions/2/ready",
        "/v2/models/digits/versions/2/stats", "/v2/models/digits/versions/0/infer", "/v2/models/digits/versions/-1/infer",
        "/v2/models/digits/versions/+3/infer", "/v2/models/digits/versions/x/infer", "/v2/models/digits/versions/99999999999999999999/infer",
        "/v2/models/digits/versions/2/infer/more", "/v2/models/digits/versions/x/infer/more/and/more",
        "/v2/models/digits@canary/versions/2/infer", "/v2/models/digits/infer/infer", "/v2/models/digits/a/b/c/d/e/f",
        "/metrics", "/", "", "?", "/v3/models", "/V2", "/v2/MODELS", "/v2/models/dïgits/infer", "/v2/models/名前/infer",
        "/v2/models/digits\u{0}/infer", "/v2/health/live#frag", "*", "http://host/v2/health/live",
    ]

    @Test func routesAsTheStringRouterDid() {
        for target in Self.targets {
            let bytes: Result<Route, InferenceError> = Result { () throws(InferenceError) in try Route(uri: target) }
            let strings: Result<Route, InferenceError> = Result { () throws(InferenceError) in
                try StringRoute.parse(path: target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target)
            }
            #expect(bytes == strings, "\(target)")
        }
    }

    @Test func routesTheEndpoints() throws {
        #expect(try Route(uri: "/v2/models/digits/infer?x") == .infer(ModelReference(name: "digits", selector: .alias(nil))))
        #expect(try Route(uri: "/v2/models/d%40c") == .metadata(ModelReference(name: "d", selector: .alias("c"))))
        #expect(try Route(uri: "/v2/models/d/versions/3/stats") == .statistics(ModelReference(name: "d", selector: .version(3))))
        #expect(try Route(uri: "/v2/models/d@canary/ready") == .modelReady(ModelReference(name: "d", selector: .alias("canary"))))
        let unknown = #expect(throws: InferenceError.self) { try Route(uri: "/v2/models/d/explain?q=1") }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.reason.contains("/v2/models/d/explain;") == true)
        let version = #expect(throws: InferenceError.self) { try Route(uri: "/v2/models/d/versions/x/infer") }
        #expect(version?.code == .modelNotFound)
        #expect(version?.reason.contains("'x'") == true)
    }

    // MARK: Malformed HTTP on the socket

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var request: String
        /// Shut the sending side after the bytes (the request never completes).
        var halfClose = false
        /// The response's first line, or nil when the server must close without answering.
        var statusLine: String?
        var testDescription: String { self.label }
    }

    static let malformed: [Case] = [
        Case(label: "truncated request line, then EOF", request: "POST /v2/models/digits/inf", halfClose: true, statusLine: nil),
        Case(
            label: "truncated body, then EOF",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"in",
            halfClose: true,
            statusLine: nil
        ),
        Case(label: "request line without a version", request: "GET /v2/health/live\r\n\r\n", statusLine: "HTTP/1.1 400 Bad Request"),
        Case(label: "request line of one word", request: "GET\r\n\r\n", statusLine: "HTTP/1.1 400 Bad Request"),
        Case(label: "not HTTP", request: "NOT HTTP AT ALL\r\n\r\n", statusLine: "HTTP/1.1 400 Bad Request"),
        Case(
            label: "content-length not a number",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request"
        ),
        Case(
            label: "negative content-length",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request"
        ),
        Case(
            label: "two content-lengths",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            statusLine: "HTTP/1.1 400 Bad Request"
        ),
        Case(
            label: "content-length and chunked",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request"
        ),
        Case(
            label: "body above the limit",
            request: "POST /v2/models/digits/infer HTTP/1.1\r\nConnection: close\r\nContent-Length: 2000\r\n\r\n"
                + String(repeating: " ", count: 2000),
            statusLine: "HTTP/1.1 413 Payload Too Large"
        ),
        Case(
            label: "unknown path",
            request: "GET /v2/models/digits/explain HTTP/1.1\r\nConnection: close\r\n\r\n",
            statusLine: "HTTP/1.1 404 Not Found"
        ),
        Case(
            label: "path outside /v2",
            request: "POST /infer HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
            statusLine: "HTTP/1.1 404 Not Found"
        ),
    ]

    @Test(arguments: Self.malformed)
    func malformedRequestIsRefusedAndTheServerServes(_ testCase: Case) async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry, configuration: .init(maximumBodyBytes: 1000)) { server, client in
            let answer = try await exchange(port: server.port!, Array(testCase.request.utf8), halfClose: testCase.halfClose)
            let text = String(decoding: answer, as: UTF8.self)
            if let statusLine = testCase.statusLine {
                #expect(text.hasPrefix(statusLine + "\r\n"), "\(text)")
                // One answer, then the connection closed.
                #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "\(text)")
                if !statusLine.contains(" 400 ") {
                    #expect(text.contains("Content-Type: application/json\r\n"))
                    #expect(text.contains("\"code\":"))
                }
            } else {
                #expect(answer.isEmpty, "\(text)")
            }
            // The server goes on serving other connections.
            #expect(try await client.request("GET", "/v2/health/live").status == 200)
        }
    }

    @Test func responsesAreRenderedAsNIOsEncoderDid() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry) { server, _ in
            let live = try await exchange(port: server.port!, Array("GET /v2/health/live HTTP/1.0\r\n\r\n".utf8))
            let liveText = String(decoding: live, as: UTF8.self)
            let expectedLive = try Regex(
                #"^HTTP/1\.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z][a-z] \d{4} \d\d:\d\d:\d\d GMT\r\nConnection: close\r\n\r\n\{"live":true\}$"#
            )
            #expect(liveText.wholeMatch(of: expectedLive) != nil, "\(liveText)")

            let wrong = try await exchange(
                port: server.port!,
                Array("DELETE /v2/models/digits/infer?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)
            )
            let body = #"{"error":"DELETE is not allowed on /v2/models/digits/infer; use POST","code":"methodNotAllowed"}"#
            let expectedWrong = try Regex(
                #"^HTTP/1\.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: 96\r\nDate: [^\r]{29}\r\nAllow: POST\r\nConnection: close\r\n\r\n"#
            )
            let wrongText = String(decoding: wrong, as: UTF8.self)
            #expect(wrongText.prefixMatch(of: expectedWrong) != nil, "\(wrongText)")
            #expect(wrongText.hasSuffix("\r\n\r\n" + body))
        }
    }

    @Test func decimalsAndDates() {
        for value: UInt in [0, 7, 10, 333, 65_535, 1_000_000, UInt.max] {
            var buffer = ByteBuffer()
            ResponseRenderer.writeDecimal(value, into: &buffer)
            #expect(buffer.readString(length: buffer.readableBytes) == String(value))
        }
        #expect(DateHeaderCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(DateHeaderCache.format(1_796_000_000) == "Mon, 30 Nov 2026 00:53:20 GMT")
    }
}

/// Sends `bytes` on a new loopback connection (then shuts its sending side when `halfClose`) and
/// returns every byte the server sent until it closed (at most 10 seconds).
private func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool = false) async throws -> [UInt8] {
    let received = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: [UInt8].self)
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(CollectingHandler(done: received))
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .get()
    try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    if halfClose { try await channel.close(mode: .output) }
    let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
    defer { deadline.cancel() }
    return try await received.futureResult.get()
}

/// Collects a connection's bytes until it closes.
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var bytes: [UInt8] = []
    private let done: EventLoopPromise<[UInt8]>

    init(done: EventLoopPromise<[UInt8]>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func channelInactive(context: ChannelHandlerContext) { self.done.succeed(self.bytes) }
}

/// The router as it was before it read bytes (`split` on `String`), kept to check the byte-level
/// one against.
private enum StringRoute {
    static func parse(path: String) throws(InferenceError) -> Route {
        let segments = path.split(separator: "/")
        guard segments.first == "v2" else { throw Route.notFound(path) }
        switch segments.count {
        case 1: return .serverMetadata
        case 3 where segments[1] == "health" && segments[2] == "live": return .live
        case 3 where segments[1] == "health" && segments[2] == "ready": return .ready
        case 2 where segments[1] == "models": return .models
        default: break
        }
        guard segments.count >= 3, segments[1] == "models" else { throw Route.notFound(path) }
        let model = segments[2].contains("%") ? Substring(segments[2].replacing("%40", with: "@")) : segments[2]
        var reference: ModelReference
        if let at = model.firstIndex(of: "@") {
            reference = ModelReference(name: String(model[..<at]), selector: .alias(String(model[model.index(after: at)...])))
        } else {
            reference = ModelReference(name: String(model), selector: .alias(nil))
        }
        var rest = segments[3...]
        if rest.first == "versions" {
            guard rest.count >= 2, case .alias(nil) = reference.selector else { throw Route.notFound(path) }
            let text = rest[rest.startIndex + 1]
            guard let number = Int(text), number >= 1 else {
                throw InferenceError(
                    .modelNotFound,
                    "model '\(reference.name)' has no version '\(text)'; versions are numbers from 1"
                )
            }
            reference.selector = .version(number)
            rest = rest.dropFirst(2)
        }
        switch rest.count {
        case 0: return .metadata(reference)
        case 1 where rest.first == "ready": return .modelReady(reference)
        case 1 where rest.first == "infer": return .infer(reference)
        case 1 where rest.first == "stats": return .statistics(reference)
        default: throw Route.notFound(path)
        }
    }
}
