import Foundation
import MeshCore
@testable import MeshZeroMQ
import Testing

/// Batches of envelopes in one ZeroMQ message (docs/WIRE.md, "Frames"): the transport packs runs
/// to one topic and splits them again, so receivers see exactly what was sent, in order; a
/// malformed batch is refused whole and the receiver keeps working.
@Suite("Batched payloads", .serialized, .timeLimit(.minutes(2)))
struct PayloadBatchTests {
    private static func parts(_ frame: [UInt8]) -> [[UInt8]]? {
        var parts: [[UInt8]] = []
        let wellFormed = frame.withUnsafeBytes { raw in PayloadBatch.forEachPart(of: raw) { parts.append(Array($0)) } }
        return wellFormed ? parts : nil
    }

    @Test func batchesSplitIntoTheirPartsAndMalformedOnesAreRefused() {
        var frame: [UInt8] = []
        PayloadBatch.begin(&frame)
        PayloadBatch.append([1, 2, 3], to: &frame)
        PayloadBatch.append([0xFF], to: &frame)
        #expect(frame == [0xFF, 3, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 0xFF])
        #expect(Self.parts(frame) == [[1, 2, 3], [0xFF]])
        #expect(frame.withUnsafeBytes { PayloadBatch.messageCount($0) } == 2)

        let malformed: [[UInt8]] = [
            [0xFF],  // no part
            [0xFF, 0, 0, 0, 0],  // a zero length
            [0xFF, 5, 0, 0, 0, 1, 2],  // a length past the end
            [0xFF, 1, 0, 0, 0, 7, 1, 0],  // a truncated second length
            [0x01, 1, 0, 0, 0, 7],  // not a batch at all
        ]
        for bytes in malformed {
            #expect(Self.parts(bytes) == nil, "\(bytes)")
            #expect(bytes.withUnsafeBytes { PayloadBatch.messageCount($0) } == 1, "\(bytes)")
        }
    }

    /// One `send` of 20,000 messages to one topic: everything arrives, in order, and the forwarder
    /// moved it in far fewer ZeroMQ messages than envelopes.
    @Test(arguments: [TransportKind.inproc, .ipc, .tcp])
    func aBurstToOneTopicTravelsInBatchesAndArrivesComplete(kind: TransportKind) async throws {
        try await TestMesh.with(kind) { mesh in
            let sender = try mesh.join("sender")
            let receiver = try mesh.join("receiver")
            try receiver.subscribe(agentTopic("receiver"))
            let inbox = Collector(receiver)
            try await awaitReady(sender, inbox, on: agentTopic("receiver"))
            let before = mesh.forwarder!.statistics

            try sendData(sender, id: 1, to: agentTopic("receiver"), count: 20_000, chunk: 20_000, padding: 58)
            try await inbox.waitForData(20_000)
            #expect(inOrderAndComplete(inbox.data, senders: [1], count: 20_000))
            let after = mesh.forwarder!.statistics
            #expect(after.forwarded - before.forwarded >= 20_000)
            let batches = after.forwardedBatches - before.forwardedBatches
            #expect(batches >= 1 && batches < 2_000, "\(batches) batches for 20,000 messages")
        }
    }

    /// Payloads that start with the batch marker, or look like a whole batch, or are empty, come
    /// out exactly as they went in, in order, across two topics.
    @Test func payloadsThatLookLikeBatchesArriveAsSent() async throws {
        try await TestMesh.with(.inproc) { mesh in
            let sender = try mesh.join("sender")
            let receiver = try mesh.join("receiver")
            try receiver.subscribe(agentTopic("a"))
            try receiver.subscribe(agentTopic("b"))
            let inbox = Collector(receiver)
            try await awaitReady(sender, inbox, on: agentTopic("a"))
            try await awaitReady(sender, inbox, on: agentTopic("b"))
            let start = inbox.messages.count

            let payloads: [[UInt8]] = [
                [0xFF], [0xFF, 0, 0, 0, 0], [0xFF, 1, 0, 0, 0, 0x44], [], [0x44, 9], [0x44, 9], [],
                [0xFF, 1, 0, 0, 0, 0x44, 1, 0, 0, 0, 0x45], [1, 2, 3],
            ]
            var sent: [WireMessage] = []
            for (index, payload) in payloads.enumerated() {
                // Runs of two to one topic, then the other.
                sent.append(WireMessage(topic: agentTopic(index / 2 % 2 == 0 ? "a" : "b"), payload: payload))
            }
            sent.append(WireMessage(topic: agentTopic("a"), payload: Payload.marker(7)))
            try sender.send(sent)
            try await inbox.wait(for: "the marker") { $0.contains { $0.payload == Payload.marker(7) } }
            #expect(Array(inbox.messages[start...]) == sent)
        }
    }

    /// A raw publisher sends malformed batches: the receiver refuses each whole, delivers none of
    /// it, and later messages still arrive.
    @Test func aMalformedBatchIsRefusedAndTheReceiverKeepsWorking() async throws {
        let context = try ZeroMQContext()
        let forwarder = try ZeroMQForwarder(binding: MeshEndpoint("inproc://batch-\(UUID().uuidString)"), context: context)
        let sender = try ZeroMQTransport(connectingTo: forwarder.endpoint, context: context)
        let receiver = try ZeroMQTransport(connectingTo: forwarder.endpoint, context: context)
        let topic = agentTopic("receiver")
        try receiver.subscribe(topic)
        let inbox = Collector(receiver)
        do {
            try await awaitReady(sender, inbox, on: topic)
            let raw = try ZeroMQSocket(.pub, in: context, label: "raw test PUB")
            try raw.connect(forwarder.endpoint.xsubEndpoint)
            // The raw PUB drops until the forwarder's catch-all subscription reaches it: repeat.
            for _ in 0..<400 where receiver.statistics.refused == 0 {
                _ = try raw.send(topic.bytes, more: true)
                _ = try raw.send([0xFF, 9, 0, 0, 0, 0x44, 1], more: false)
                try await Task.sleep(for: .milliseconds(5))
            }
            raw.close()
            #expect(receiver.statistics.refused >= 1)
            try sendData(sender, id: 1, to: topic, count: 10)
            try await inbox.waitForData(10)
            #expect(!inbox.contains { $0.payload.first == 0xFF || $0.payload == [0x44, 1] })
        } catch {
            Issue.record(error)
        }
        await sender.shutdown()
        await receiver.shutdown()
        await forwarder.stop()
        await context.terminate()
    }
}
