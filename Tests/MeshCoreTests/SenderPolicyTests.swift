import MeshCore
import Testing

/// The header a secured forwarder peeks at, and who may send what.
@Suite("Sender policy")
struct SenderPolicyTests {
    static let data1 = AgentID(role: .data, instance: 1)

    @Test func theHeaderIsReadInPlaceFromAnyEnvelope() throws {
        let envelope = Envelope(
            kind: .result, flags: [.sequenced], sender: Self.data1, senderIncarnation: 9, receiver: .agent(.coordinator),
            sequence: 4, body: [UInt8](repeating: 7, count: 1000))
        let header = try EnvelopeHeader(peeking: envelope.encoded())
        #expect(header.kind == .result && header.sender == Self.data1)
    }

    @Test(arguments: [
        ([UInt8](), WireError.Code.truncated),
        ([1, 0x01] + [UInt8](repeating: 0, count: 10), .truncated),
        ([2, 0x01] + [UInt8](repeating: 0, count: 60), .unknownVersion),
        ([1, 0xEE] + [UInt8](repeating: 0, count: 60), .unknownKind),
        ([1, 0x01] + [UInt8](repeating: 0, count: 50), .invalidField),  // sender length 0
    ])
    func malformedHeadersAreRefusedWithTheReason(bytes: [UInt8], code: WireError.Code) {
        #expect(throws: WireError.self) { try EnvelopeHeader(peeking: bytes) }
        do {
            _ = try EnvelopeHeader(peeking: bytes)
        } catch {
            #expect(error.code == code, "\(error)")
        }
    }

    @Test func aSenderLengthPastTheEndIsRefused() {
        var bytes = Envelope(kind: .hello, sender: Self.data1, senderIncarnation: 1, receiver: .broadcast).encoded()
        bytes[48] = 64
        bytes = Array(bytes.prefix(Envelope.fixedHeaderSize + 10))
        #expect(throws: WireError.self) { try EnvelopeHeader(peeking: bytes) }
    }

    @Test func onlyTheCoordinatorSteersAndOnlyAgentsAnswer() {
        for kind in MessageKind.allCases {
            let coordinator = SenderPolicy.permits(kind, from: .coordinator)
            let agent = SenderPolicy.permits(kind, from: .data)
            switch kind {
            case .welcome, .evicted, .shutdown, .callForProposals, .award, .resultAck: #expect(coordinator && !agent, "\(kind)")
            case .hello, .bid, .decline, .accept, .refuse, .result: #expect(!coordinator && agent, "\(kind)")
            default: #expect(coordinator && agent, "\(kind)")
            }
        }
    }

    @Test func checkNamesSpoofingAndForbiddenKinds() {
        func check(_ envelope: Envelope, as id: AgentID, _ role: Role) -> SenderPolicy.Refusal? {
            envelope.encoded().withUnsafeBytes { SenderPolicy.check($0, from: id, role: role)?.0 }
        }
        let hello = Envelope(kind: .hello, sender: Self.data1, senderIncarnation: 1, receiver: .agent(.coordinator))
        #expect(check(hello, as: Self.data1, .data) == nil)
        #expect(check(hello, as: AgentID(role: .data, instance: 2), .data) == .spoofedSender)
        let award = Envelope(kind: .award, sender: Self.data1, senderIncarnation: 1, receiver: .agent(.coordinator))
        #expect(check(award, as: Self.data1, .data) == .forbiddenKind)
        #expect([UInt8]([1, 2, 3]).withUnsafeBytes { SenderPolicy.check($0, from: Self.data1, role: .data)?.0 } == .malformed)
    }

    @Test func agentsSubscribeToTheirOwnTopicsOnly() {
        #expect(SenderPolicy.permitsSubscription(to: .agent(Self.data1), by: Self.data1, role: .data))
        #expect(SenderPolicy.permitsSubscription(to: .role(.data), by: Self.data1, role: .data))
        #expect(SenderPolicy.permitsSubscription(to: .broadcast, by: Self.data1, role: .data))
        #expect(!SenderPolicy.permitsSubscription(to: .agent(.coordinator), by: Self.data1, role: .data))
        #expect(!SenderPolicy.permitsSubscription(to: .role(.model), by: Self.data1, role: .data))
        #expect(SenderPolicy.permitsSubscription(to: .role(.model), by: .coordinator, role: .coordinator))
    }
}
