import Foundation
import MeshCore
import MeshZeroMQ
import Testing

/// Quick local throughput checks, off by default (they assert nothing about speed):
/// `MESHWORK_MEASURE=1 swift test -c release --scratch-path .build-zmq --filter ThroughputMeasurements`
@Suite("Throughput measurements", .serialized, .enabled(if: ProcessInfo.processInfo.environment["MESHWORK_MEASURE"] != nil))
struct ThroughputMeasurements {
    static let count = 1_000_000
    static let payload = 64

    /// One sender → forwarder → one consumer; messages/s from the first send to the last receipt.
    @Test(arguments: [TransportKind.inproc, .ipc, .tcp])
    func throughTheForwarder(kind: TransportKind) async throws {
        try await TestMesh.with(kind) { mesh in
            let sender = try mesh.join("sender")
            let receiver = try mesh.join("receiver")
            try receiver.subscribe(agentTopic("receiver"))
            try await awaitReady(sender, draining: receiver, on: agentTopic("receiver"))
            let topic = agentTopic("receiver")
            let payload = [UInt8](repeating: 0x44, count: Self.payload)
            let start = ContinuousClock.now
            let producer = Task {
                var sent = 0
                while sent < Self.count {
                    let n = min(512, Self.count - sent)
                    try sender.send(Array(repeating: WireMessage(topic: topic, payload: payload), count: n))
                    sent += n
                    // Keep the sender's own queue from growing without bound in this check.
                    if let zmq = sender as? ZeroMQTransport {
                        while sent - zmq.statistics.sent > 50_000 { try await Task.sleep(for: .microseconds(200)) }
                    }
                }
            }
            var received = 0
            while received < Self.count, let batch = await receiver.inbound.next() {
                received += batch.lazy.filter { $0.payload.count == Self.payload }.count
            }
            let elapsed = ContinuousClock.now - start
            try await producer.value
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            print("MEASURE forwarder \(kind): \(received) messages of \(Self.payload) B in \(elapsed): \(Int(Double(received) / seconds)) msg/s")
            if let forwarder = mesh.forwarder { print("MEASURE forwarder \(kind): forwarded \(forwarder.statistics.forwarded)") }
        }
    }

    /// The raw baseline's shape in one process: source → 4 hops → sink.
    @Test(arguments: ["inproc", "ipc"])
    func rawRelayOfFiveHops(scheme: String) async throws {
        let context = try ZeroMQContext()
        let base = scheme == "inproc" ? "inproc://relay-\(UUID().uuidString)" : "ipc:///tmp/mw-relay-\(UUID().uuidString.prefix(8))"
        let links = try (1...5).map { try RawRelay.Link("\(base)-\($0)") }
        func stage(_ body: @escaping @Sendable () throws -> RawRelay.Report) async throws -> RawRelay.Report {
            try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try body() }) }.start()
            }
        }
        let shared: ZeroMQContext? = scheme == "inproc" ? context : nil
        async let sink = stage { try RawRelay.sink(from: links[4], context: shared) }
        async let hops: [RawRelay.Report] = withThrowingTaskGroup(of: RawRelay.Report.self) { group in
            for i in 0..<4 { group.addTask { try await stage { try RawRelay.hop(from: links[i], to: links[i + 1], context: shared) } } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        async let source = stage { try RawRelay.source(to: links[0], count: Self.count, size: Self.payload, context: shared) }
        let (s, h, k) = try await (source, hops, sink)
        print("MEASURE raw relay \(scheme) source: \(s)")
        print("MEASURE raw relay \(scheme) sink: \(k) (hops: \(h.map(\.messages)))")
        await context.terminate()
    }
}
