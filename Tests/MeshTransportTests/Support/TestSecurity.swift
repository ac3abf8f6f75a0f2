import MeshCore
import MeshZeroMQ
import Synchronization

/// CURVE keys for tests over tcp, which is never plaintext: a forwarder key pair and a pool of
/// participant key pairs, all in the roster.
final class TestSecurity: Sendable {
    /// A gate for the transport contract suite, whose payloads are test bytes, not envelopes: it
    /// passes every message and subscription of an authenticated peer (ZAP still admits only the roster).
    struct AnyPayloadGate: MessageGate {
        func check(_ payload: UnsafeRawBufferPointer, from peer: ForwarderSecurity.Peer) -> (SenderPolicy.Refusal, String)? { nil }
        func permitsSubscription(to topic: Topic, by peer: ForwarderSecurity.Peer) -> Bool { true }
    }

    let server: CurveKeyPair
    let clients: [CurveKeyPair]
    private let next = Atomic<Int>(0)

    init(participants: Int = 32) throws {
        self.server = try CurveKeyPair.generate()
        self.clients = try (0..<participants).map { _ in try CurveKeyPair.generate() }
    }

    /// The forwarder's security: every pooled key is a peer `p<i>` with the coordinator's freedom.
    func forwarder(gate: any MessageGate = AnyPayloadGate()) -> ForwarderSecurity {
        var roster: [String: ForwarderSecurity.Peer] = [:]
        for (index, pair) in self.clients.enumerated() {
            roster[pair.publicKey] = .init(id: AgentID(unchecked: "p\(index)"), role: .coordinator)
        }
        return ForwarderSecurity(keyPair: self.server, roster: roster, gate: gate)
    }

    /// The next participant's security.
    func participant() throws -> TransportSecurity {
        let index = self.next.add(1, ordering: .relaxed).oldValue
        precondition(index < self.clients.count, "the test's key pool is used up")
        return try TransportSecurity(keyPair: self.clients[index], serverKey: self.server.publicKey)
    }
}
