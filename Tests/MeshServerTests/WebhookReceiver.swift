import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A minimal HTTP/1.1 receiver on loopback for webhook tests: it keeps each request's body and
/// answers `status` with an empty body.
final class WebhookReceiver: Sendable {
    let bodies = Mutex<[[UInt8]]>([])
    let status: Int
    private let channel: any Channel

    private init(channel: any Channel, status: Int) {
        self.channel = channel
        self.status = status
    }

    var port: Int { self.channel.localAddress?.port ?? 0 }

    static func start(status: Int = 200) async throws -> WebhookReceiver {
        let box = ReceiverBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(status: status, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let receiver = WebhookReceiver(channel: channel, status: status)
        box.receiver.withLock { $0 = receiver }
        return receiver
    }

    func stop() async {
        try? await self.channel.close()
    }

    final class ReceiverBox: Sendable {
        let receiver = Mutex<WebhookReceiver?>(nil)
    }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let status: Int
        let box: ReceiverBox
        var buffer: [UInt8] = []

        init(status: Int, box: ReceiverBox) {
            self.status = status
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = self.unwrapInboundIn(data)
            self.buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
            let separator: [UInt8] = Array("\r\n\r\n".utf8)
            guard let end = self.buffer.indices.first(where: { self.buffer[$0...].starts(with: separator) }) else { return }
            let head = String(decoding: self.buffer[..<end], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = end + 4
            guard self.buffer.count >= bodyStart + length else { return }
            let body = Array(self.buffer[bodyStart..<(bodyStart + length)])
            self.box.receiver.withLock { $0 }?.bodies.withLock { $0.append(body) }
            let response = "HTTP/1.1 \(self.status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
            context.close(promise: nil)
            self.buffer = []
        }
    }
}
