import MeshCore

/// The envelope, its peeked header and every body kind of docs/WIRE.md "Kinds" (heartbeat and
/// ack have empty bodies and no decoder of their own).
enum WireTargets {
    static let task = TaskID(unchecked: "uc/digits/intake")
    static let hash = BlobHash(of: [1, 2, 3])
    static let services = ["inference": "http://10.200.0.3:40123", "metrics": "http://10.200.0.3:40124/metrics"]

    /// Real envelopes: a hello to the coordinator, a sequenced result with a piggybacked ack, a
    /// broadcast heartbeat, a blob chunk to a role.
    static var envelopes: [[UInt8]] {
        let data = AgentID(role: .data, instance: 1)
        return [
            Envelope(
                kind: .hello, sender: data, senderIncarnation: 1_764_450_000_000_000, receiver: .agent(.coordinator),
                body: Hello(role: .data, capacity: 8, pid: 4242, host: "hostb", services: services).encoded()),
            Envelope(
                kind: .result, flags: [.sequenced, .acknowledges], sender: data, senderIncarnation: 3,
                receiver: .agent(.coordinator), receiverIncarnation: 2, sequence: 9, ack: 4, simTime: SimTime(microseconds: 5_400_000),
                body: TaskResult(task: task, award: 7, outcome: .done([1, 2, 3]), telemetry: ["load.p99_ms": "4.2"]).encoded()),
            Envelope(kind: .heartbeat, flags: [.acknowledges], sender: .coordinator, senderIncarnation: 2, receiver: .broadcast, ack: 17),
            Envelope(
                kind: .blobChunk, sender: .coordinator, senderIncarnation: 2, receiver: .role(.compute),
                body: BlobChunk(hash: hash, offset: 0, totalSize: 3, bytes: [1, 2, 3]).encoded()),
        ].map { $0.encoded() }
    }

    static let targets: [FuzzTarget] = [
        .exact("envelope", decode: { bytes throws(WireError) in try Envelope(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { envelopes }),
        FuzzTarget(name: "envelope-header", run: peekAgreesWithDecode, seeds: { envelopes }),
        body("hello", Hello.self) {
            [Hello(role: .data, capacity: 8, pid: 42, host: "hostb", services: services).encoded(),
             Hello(role: .compute, capacity: 1, pid: 1, host: "").encoded()]
        },
        body("welcome", Welcome.self) { [Welcome(runID: "20261129-231500-7f3a", heartbeatMilliseconds: 500, deadlineMilliseconds: 3000).encoded()] },
        .exact("notice", decode: { bytes throws(WireError) in try Notice(decoding: bytes) }, encode: { $0.encoded() }, seeds: {
            [Notice(reason: "unknown incarnation").encoded(), Notice(reason: "").encoded()]
        }),
        body("cfp", CallForProposals.self) { [CallForProposals(task: task, round: 2, work: "relay.hash").encoded()] },
        body("bid", Bid.self) { [Bid(task: task, round: 2, freeSlots: 3).encoded()] },
        .exact("refusal", decode: { bytes throws(WireError) in try Refusal(decoding: bytes) }, encode: { $0.encoded() }, seeds: {
            [Refusal(task: task, number: 4, reason: "cannot do relay.hash").encoded()]
        }),
        body("award", Award.self) {
            [Award(task: task, award: 7, work: "compute.train", input: [9, 9, 9], context: ["pipeline-1.inference": "http://h:1"]).encoded(),
             Award(task: task, award: 1, work: "relay.hash", input: []).encoded()]
        },
        .exact("award-reference", decode: { bytes throws(WireError) in try AwardReference(decoding: bytes) }, encode: { $0.encoded() },
               seeds: { [AwardReference(task: task, award: 7).encoded()] }),
        body("result", TaskResult.self) {
            [TaskResult(task: task, award: 7, outcome: .done([1, 2]), telemetry: ["a": "b"]).encoded(),
             TaskResult(task: task, award: 7, outcome: .failed("labelOutOfRange: training data, row 5: label 99")).encoded()]
        },
        body("blob-request", BlobRequest.self) { [BlobRequest(hash: hash, offset: 1 << 20, length: 1 << 20).encoded()] },
        body("blob-chunk", BlobChunk.self) {
            [BlobChunk(hash: hash, offset: 0, totalSize: 3, bytes: [1, 2, 3]).encoded(),
             BlobChunk(hash: hash, offset: 5, totalSize: 5, bytes: []).encoded()]
        },
        body("blob-missing", BlobMissing.self) { [BlobMissing(hash: hash, reason: "not in this store").encoded()] },
        FuzzTarget(name: "batch", run: batchSplitsAndRebuilds, seeds: {
            var two: [UInt8] = []
            PayloadBatch.begin(&two)
            for envelope in envelopes.prefix(2) { PayloadBatch.append(envelope, to: &two) }
            var one: [UInt8] = []
            PayloadBatch.begin(&one)
            PayloadBatch.append([PayloadBatch.marker, 1, 2], to: &one)
            return [two, one]
        }),
    ]

    /// A batch frame (docs/WIRE.md, "Frames"): the three readers agree on whether it is well
    /// formed and how many parts it has, and its parts written into a new batch give it back.
    static func batchSplitsAndRebuilds(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { frame in
            var parts: [[UInt8]] = []
            let split = PayloadBatch.forEachPart(of: frame) { parts.append(Array($0)) }
            let wellFormed = PayloadBatch.isWellFormed(frame)
            let counted = PayloadBatch.messageCount(frame)
            guard split == wellFormed, counted == (wellFormed ? parts.count : 1) else {
                fatalError("batch: split \(split), well formed \(wellFormed), \(parts.count) parts, counted \(counted): \(hex(bytes))")
            }
            guard wellFormed else { return false }
            var again: [UInt8] = []
            PayloadBatch.begin(&again)
            for part in parts { PayloadBatch.append(part, to: &again) }
            guard again == bytes else { fatalError("batch: parts rebuild to other bytes: \(hex(bytes)) -> \(hex(again))") }
            return true
        }
    }

    /// A body through ``WireBody``'s decoder, which must round-trip exactly.
    static func body<Body: WireBody>(_ name: String, _ type: Body.Type, seeds: @escaping @Sendable () -> [[UInt8]]) -> FuzzTarget {
        .exact(name, decode: { bytes throws(WireError) in try Body(decoding: bytes) }, encode: { $0.encoded() }, seeds: seeds)
    }

    /// The forwarder's peek is a necessary condition of the full decode: whatever the receiver
    /// accepts, the forwarder must have passed, with the same kind and sender.
    static func peekAgreesWithDecode(_ bytes: [UInt8]) -> Bool {
        let header = try? EnvelopeHeader(peeking: bytes)
        if let envelope = try? Envelope(decoding: bytes) {
            guard let header, header.kind == envelope.kind, header.sender == envelope.sender else {
                fatalError("envelope-header: peeked \(String(describing: header)) but decoded \(envelope.kind) from \(envelope.sender): \(hex(bytes))")
            }
        }
        return header != nil
    }
}
