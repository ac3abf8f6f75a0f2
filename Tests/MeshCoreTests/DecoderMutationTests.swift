import Foundation
import MeshCore
import Testing

/// Every envelope and session, hand-off and blob body decoder fed 20,000 seeded mutations of valid
/// encodings each (bit flips, truncation, inflated length fields, random tails): none crashes or
/// traps, every rejection is a `WireError`, and whatever decodes re-encodes to the same bytes.
/// A seeded, in-process companion of the coverage-guided libFuzzer targets of Fuzz/ (docs/FUZZING.md).
@Suite("Decoder mutations")
struct DecoderMutationTests {
    static let task = TaskID(unchecked: "uc/digits/intake")
    static let hash = BlobHash(of: [1, 2, 3])

    /// Valid encodings of each body, and the decoder under test.
    static let samples: [(name: String, bytes: [UInt8], decode: @Sendable ([UInt8]) throws -> [UInt8])] = [
        ("hello", Hello(role: .data, capacity: 8, pid: 42, host: "b", services: ["inference": "http://10.200.0.3:1"]).encoded(),
         { try Hello(decoding: $0).encoded() }),
        ("welcome", Welcome(runID: "run-1", heartbeatMilliseconds: 500, deadlineMilliseconds: 3000).encoded(),
         { try Welcome(decoding: $0).encoded() }),
        ("cfp", CallForProposals(task: task, round: 2, work: "relay").encoded(), { try CallForProposals(decoding: $0).encoded() }),
        ("bid", Bid(task: task, round: 2, freeSlots: 3).encoded(), { try Bid(decoding: $0).encoded() }),
        ("award", Award(task: task, award: 7, work: "relay", input: [9, 9, 9], context: ["k": "v"]).encoded(),
         { try Award(decoding: $0).encoded() }),
        ("result", TaskResult(task: task, award: 7, outcome: .done([1, 2]), telemetry: ["a": "b"]).encoded(),
         { try TaskResult(decoding: $0).encoded() }),
        ("failed", TaskResult(task: task, award: 7, outcome: .failed("no")).encoded(), { try TaskResult(decoding: $0).encoded() }),
        ("blob-request", BlobRequest(hash: hash, offset: 0, length: 1024).encoded(), { try BlobRequest(decoding: $0).encoded() }),
        ("blob-chunk", BlobChunk(hash: hash, offset: 0, totalSize: 3, bytes: [1, 2, 3]).encoded(), { try BlobChunk(decoding: $0).encoded() }),
        ("blob-missing", BlobMissing(hash: hash, reason: "gone").encoded(), { try BlobMissing(decoding: $0).encoded() }),
        ("envelope",
         Envelope(kind: .result, flags: [.sequenced, .acknowledges], sender: AgentID(role: .data, instance: 1), senderIncarnation: 3,
             receiver: .agent(.coordinator), sequence: 9, ack: 4, body: [5, 6, 7]).encoded(),
         { try Envelope(decoding: $0).encoded() }),
    ]

    @Test(arguments: 0..<samples.count)
    func mutatedBytesAreRejectedOrRoundTrip(index: Int) {
        let (name, valid, decode) = Self.samples[index]
        #expect((try? decode(valid)) == valid, "\(name): the valid sample does not round-trip")
        var random = SeededRandom(seed: 2026, key: "mutations/\(name)")
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = valid
            switch random.next(below: 5) {
            case 0:  // flip 1-4 bits
                for _ in 0...random.next(below: 4) where !bytes.isEmpty {
                    bytes[Int(random.next(below: UInt64(bytes.count)))] ^= 1 << UInt8(random.next(below: 8))
                }
            case 1:  // truncate
                bytes = Array(bytes.prefix(Int(random.next(below: UInt64(bytes.count + 1)))))
            case 2:  // a length-like field made huge
                if bytes.count >= 4 {
                    let at = Int(random.next(below: UInt64(bytes.count - 3)))
                    for offset in 0..<4 { bytes[at + offset] = 0xFF }
                }
            case 3:  // a random tail
                bytes += (0..<random.next(below: 64)).map { _ in UInt8(random.next(below: 256)) }
            default:  // random bytes of the same length
                bytes = bytes.map { _ in UInt8(random.next(below: 256)) }
            }
            do {
                let again = try decode(bytes)
                // Accepted: it must be a canonical encoding, or a decoder let something slip.
                #expect(again == bytes, "\(name): accepted bytes that do not re-encode to themselves")
            } catch is WireError {
                rejected += 1
            } catch {
                Issue.record("\(name): a decoder threw \(type(of: error)), not WireError: \(error)")
            }
        }
        #expect(rejected > 10_000, "\(name): only \(rejected) of 20,000 mutations rejected")
    }
}

/// Inputs the libFuzzer targets of Fuzz/ found; each is also kept in Fuzz/Crashes/<target>/ and
/// replayed by `make fuzz` and `make test`.
@Suite("Fuzzer findings")
struct FuzzerFindingTests {
    /// Fuzz/Crashes/hello/services-keys-out-of-order: a hello whose services map lists `nifcs`
    /// before `metrics` decoded, and re-encoded with the keys sorted — a second spelling of one body.
    @Test func pairsOutOfByteOrderAreRefused() {
        let found: [UInt8] = Array(
            "\u{02}\u{08}\u{00}\u{00}\u{00}*\u{00}\u{00}\u{00}\u{05}\u{00}hostb\u{02}\u{00}\u{09}\u{00}nifcs\u{1F}\u{00}ht\u{17}\u{00}http://10.`\u{00}0.0.3:40123\u{07}\u{00}metrics\u{1F}\u{00}http://10.200.0.3:40124/metrics"
                .utf8)
        #expect(found.count == 96)
        #expect {
            try Hello(decoding: found)
        } throws: { error in
            (error as? WireError)?.code == .invalidField && "\(error)".contains("out of order")
        }
        var writer = WireWriter()
        writer.write(UInt16(2))
        for key in ["b", "a"] {
            writer.write(key)
            writer.write("v")
        }
        var reader = WireReader(writer.bytes)
        #expect(throws: WireError.self) { try StringPairs.read("pairs", from: &reader) }
    }

    /// Fuzz/Crashes/compute-response/validation-flag-without-epochs: a trained model with no
    /// epochs whose "has validation" flag was 1 decoded, and re-encoded with the flag 0.
    @Test func aValidationFlagWithoutEpochsIsRefused() throws {
        let found = try #require(Data(base64Encoded: "TVdDUgEAAQAeAAAATVdMThZEZWZNV0NSAQAEAAUAfiUAAgAAAAMAAAAJAAAAAAE="))
        #expect {
            try ComputeResponse(decoding: Array(found))
        } throws: { error in
            (error as? WireError)?.code == .invalidField && "\(error)".contains("hasValidation: true with no epochs")
        }
        // The same bytes with the flag 0 are the one spelling of that value.
        var canonical = Array(found)
        canonical[canonical.count - 1] = 0
        #expect(throws: Never.self) { try ComputeResponse(decoding: canonical) }
        #expect(try ComputeResponse(decoding: canonical).encoded() == canonical)
    }

    /// The writer orders keys by their UTF-8 bytes, as the reader (and docs/WIRE.md, and the
    /// Python agent) do: Swift's `String` order compares canonical forms, and puts a decomposed
    /// `e\u{301}` (bytes 65 CC 81) after `f` (66).
    @Test func pairsAreWrittenInByteOrder() throws {
        let hello = Hello(role: .data, capacity: 1, pid: 1, host: "h", services: ["f": "2", "e\u{301}": "1", "z": "3"])
        let bytes = hello.encoded()
        #expect(try Hello(decoding: bytes) == hello)
        #expect(try Hello(decoding: bytes).encoded() == bytes)
    }
}
