import MeshCore
import Testing

@Suite("Envelope codec")
struct EnvelopeTests {
    static let sample = Envelope(
        kind: .award,
        flags: [.sequenced, .acknowledges],
        sender: .coordinator,
        senderIncarnation: 7,
        receiver: .agent(AgentID(unchecked: "data-1")),
        receiverIncarnation: 3,
        sequence: 42,
        ack: 41,
        simTime: .milliseconds(1500),
        body: [1, 2, 3, 4]
    )

    @Test func roundTrips() throws {
        let bytes = Self.sample.encoded()
        #expect(bytes.count == Envelope.fixedHeaderSize + 11 + 9 + 4)
        #expect(try Envelope(decoding: bytes) == Self.sample)
    }

    @Test func headerLayoutMatchesWireDoc() {
        let bytes = Self.sample.encoded()
        #expect(bytes[0] == 1)  // version
        #expect(bytes[1] == 0x13)  // award
        #expect(bytes[2] == 3 && bytes[3] == 0)  // flags, little-endian
        #expect(Array(bytes[4..<8]) == [4, 0, 0, 0])  // body length
        #expect(bytes[8] == 7)  // sender incarnation
        #expect(bytes[16] == 3)  // receiver incarnation
        #expect(bytes[24] == 42)  // sequence
        #expect(bytes[32] == 41)  // ack
        #expect(Array(bytes[40..<44]) == [0x60, 0xE3, 0x16, 0x00])  // 1_500_000 µs
        #expect(bytes[48] == 11 && bytes[49] == 9)
        #expect(String(decoding: bytes[52..<63], as: UTF8.self) == "coordinator")
        #expect(String(decoding: bytes[63..<72], as: UTF8.self) == "a/data-1/")
    }

    /// The topic a message arrived on stands in for the receiver when the bytes match; any other
    /// topic changes nothing, and bad input is rejected the same way.
    @Test func decodingWithTheArrivalTopicGivesTheSameEnvelope() throws {
        let bytes = Self.sample.encoded()
        #expect(try Envelope(decoding: bytes, reusing: Self.sample.receiver) == Self.sample)
        #expect(try Envelope(decoding: bytes, reusing: .broadcast) == Self.sample)
        #expect(try Envelope(decoding: bytes, reusing: nil) == Self.sample)
        var bad = bytes
        bad[bad.count - 5] = UInt8(ascii: "x")  // the receiver's trailing '/'
        #expect { try Envelope(decoding: bad, reusing: .broadcast) } throws: { ($0 as? WireError)?.code == .invalidField }
        #expect { try Envelope(decoding: Array(bytes.prefix(60)), reusing: Self.sample.receiver) } throws: {
            ($0 as? WireError)?.code == .truncated
        }
    }

    /// The previous envelope's sender stands in for the sender when the bytes match; any other
    /// sender changes nothing, and a bad sender is rejected whatever was passed.
    @Test func decodingWithAKnownSenderGivesTheSameEnvelope() throws {
        let bytes = Self.sample.encoded()
        let other = AgentID(unchecked: "data-1")
        #expect(try Envelope(decoding: bytes, reusing: Self.sample.receiver, sender: .coordinator) == Self.sample)
        #expect(try Envelope(decoding: bytes, reusing: nil, sender: other) == Self.sample)
        #expect(try Envelope(decoding: bytes, reusing: nil, sender: nil) == Self.sample)
        // "coordinato/" is not a valid id, and "coordinator" must not stand in for it.
        var bad = bytes
        bad[52 + 10] = UInt8(ascii: "/")
        #expect { try Envelope(decoding: bad, reusing: nil, sender: .coordinator) } throws: { ($0 as? WireError)?.code == .invalidField }
        // A prefix of the known sender is a different sender.
        let shorter = Envelope(
            kind: .ack, flags: [.acknowledges], sender: AgentID(unchecked: "coord"), senderIncarnation: 1,
            receiver: .broadcast, ack: 5)
        #expect(try Envelope(decoding: shorter.encoded(), reusing: nil, sender: .coordinator).sender.rawValue == "coord")
    }

    @Test(arguments: [0, 1, 10, 51, 52, 60, 71, 72, 75])
    func rejectsEveryTruncation(length: Int) {
        let bytes = Array(Self.sample.encoded().prefix(length))
        #expect(throws: WireError.self) { try Envelope(decoding: bytes) }
        do {
            _ = try Envelope(decoding: bytes)
        } catch {
            #expect(error.code == .truncated)
        }
    }

    @Test func rejectsTrailingBytes() {
        let bytes = Self.sample.encoded() + [0]
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .trailingBytes }
    }

    @Test func rejectsUnknownVersionAndKind() {
        var bytes = Self.sample.encoded()
        bytes[0] = 2
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .unknownVersion }
        bytes = Self.sample.encoded()
        bytes[1] = 0xEE
        #expect { try Envelope(decoding: bytes) } throws: {
            let error = $0 as? WireError
            return error?.code == .unknownKind && error?.reason.contains("0xee") == true
        }
    }

    @Test func rejectsOversizedBodyLengthBeforeReadingIt() {
        var bytes = Self.sample.encoded()
        bytes[4] = 0xFF
        bytes[5] = 0xFF
        bytes[6] = 0xFF
        bytes[7] = 0x7F
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .oversized }
    }

    @Test func rejectsWholeMessageOverTheLimit() {
        let bytes = [UInt8](repeating: 1, count: Envelope.maxEncodedSize + 1)
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .oversized }
    }

    @Test func rejectsBadIdsFlagsAndReserved() {
        var bytes = Self.sample.encoded()
        bytes[52] = UInt8(ascii: " ")  // invalid character in the sender id
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .invalidField }
        bytes = Self.sample.encoded()
        bytes[71] = UInt8(ascii: "x")  // topic no longer ends in '/'
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .invalidField }
        bytes = Self.sample.encoded()
        bytes[3] = 0x80  // undefined flag
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .invalidField }
        bytes = Self.sample.encoded()
        bytes[50] = 1  // reserved
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .invalidField }
        bytes = Self.sample.encoded()
        bytes[48] = 0  // empty sender
        #expect { try Envelope(decoding: bytes) } throws: { ($0 as? WireError)?.code == .invalidField }
    }

    @Test func randomGarbageNeverTraps() {
        var rng = SeededRandom(seed: 1, key: "garbage")
        let valid = Self.sample.encoded()
        for round in 0..<5_000 {
            var bytes = valid
            let flips = rng.next(in: 1...4)
            for _ in 0..<flips {
                let index = Int(rng.next(below: UInt64(bytes.count)))
                bytes[index] = UInt8(truncatingIfNeeded: rng.next())
            }
            if round % 3 == 0 { bytes = Array(bytes.prefix(Int(rng.next(below: UInt64(bytes.count))))) }
            if let decoded = try? Envelope(decoding: bytes) {
                // Whatever decodes must encode back to the same bytes: no field was silently dropped.
                #expect(decoded.encoded() == bytes)
            }
        }
    }
}
