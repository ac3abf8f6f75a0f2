import Foundation
import Synchronization
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
    ///
    /// The sender keeps at most `window` messages ahead of the consumer, as the reliable layer's
    /// windows do: without that, a sender faster than the consumer overruns the forwarder's
    /// per-subscriber high-water mark, and the forwarder drops by design.
    @Test(arguments: [TransportKind.inproc, .ipc, .tcp])
    func throughTheForwarder(kind: TransportKind) async throws {
        let window = 50_000
        try await TestMesh.with(kind) { mesh in
            let sender = try mesh.join("sender")
            let receiver = try mesh.join("receiver")
            try receiver.subscribe(agentTopic("receiver"))
            try await awaitReady(sender, draining: receiver, on: agentTopic("receiver"))
            let topic = agentTopic("receiver")
            let payload = [UInt8](repeating: 0x44, count: Self.payload)
            let received = Atomic<Int>(0)
            let start = ContinuousClock.now
            async let producer: Void = {
                var sent = 0
                while sent < Self.count {
                    let n = min(512, Self.count - sent)
                    try sender.send(Array(repeating: WireMessage(topic: topic, payload: payload), count: n))
                    sent += n
                    while sent - received.load(ordering: .relaxed) > window {
                        try await Task.sleep(for: .microseconds(100))
                    }
                }
            }()
            var count = 0
            var lastProgress = ContinuousClock.now
            while count < Self.count {
                let batches = receiver.inbound.drain()
                if batches.isEmpty {
                    if ContinuousClock.now - lastProgress > .seconds(10) { break }
                    try await Task.sleep(for: .microseconds(100))
                    continue
                }
                for batch in batches { count += batch.lazy.filter { $0.payload.count == Self.payload }.count }
                received.store(count, ordering: .relaxed)
                lastProgress = ContinuousClock.now
            }
            let elapsed = lastProgress - start
            if count < Self.count { await receiver.shutdown() }
            try? await producer
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            print("MEASURE forwarder \(kind): \(count) of \(Self.count) messages of \(Self.payload) B in \(elapsed): \(Int(Double(count) / seconds)) msg/s")
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
