import Foundation
import MeshCore
import MeshZeroMQ
import Synchronization
import Testing

@Suite("Raw libzmq relay", .timeLimit(.minutes(1)))
struct RawRelayTests {
    /// Runs a stage on a thread of its own (stages block) and returns its report.
    private func stage(_ body: @escaping @Sendable () throws -> RawRelay.Report) async throws -> RawRelay.Report {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }

    @Test func threeStagesOverInprocDeliverEverything() async throws {
        let context = try ZeroMQContext()
        let name = UUID().uuidString
        let first = try RawRelay.Link("inproc://relay-\(name)-1")
        let second = try RawRelay.Link("inproc://relay-\(name)-2")
        let count = 50_000
        async let sink = self.stage { try RawRelay.sink(from: second, context: context, timeout: .seconds(20)) }
        async let hop = self.stage { try RawRelay.hop(from: first, to: second, context: context, timeout: .seconds(20)) }
        async let source = self.stage {
            try RawRelay.source(to: first, count: count, size: 64, context: context, timeout: .seconds(20))
        }
        let reports = try await (source, hop, sink)
        #expect(reports.0.messages == count)
        #expect(reports.1.messages == count)
        #expect(reports.2.messages == count)
        #expect(reports.2.bytes == count * 64)
        await context.terminate()
    }

    @Test func linksDeriveDataAndAckEndpoints() throws {
        let ipc = try RawRelay.Link("ipc:///tmp/relay/1")
        #expect(ipc.dataEndpoint == "ipc:///tmp/relay/1.data")
        #expect(ipc.ackEndpoint == "ipc:///tmp/relay/1.ack")
        let tcp = try RawRelay.Link("tcp://127.0.0.1:7000")
        #expect(tcp.dataEndpoint == "tcp://127.0.0.1:7000")
        #expect(tcp.ackEndpoint == "tcp://127.0.0.1:7001")
        #expect(performing: { try RawRelay.Link("tcp://127.0.0.1:0") }, throws: { error in
            (error as? TransportError)?.code == .endpoint
        })
    }

    @Test func aMissingStageTimesOutWithAClearError() async throws {
        let context = try ZeroMQContext()
        let link = try RawRelay.Link("inproc://relay-nobody-\(UUID().uuidString)")
        await #expect(performing: {
            _ = try await self.stage {
                try RawRelay.source(to: link, count: 10, size: 8, context: context, timeout: .milliseconds(300))
            }
        }, throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.reason.contains("stalled") && error.reason.contains(link.description)
        })
        await context.terminate()
    }
}
