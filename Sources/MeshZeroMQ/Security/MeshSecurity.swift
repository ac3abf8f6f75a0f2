public import MeshCore

/// The forwarder's side of a secured mesh: its CURVE server key pair and the roster of peers it
/// admits. Required to bind `tcp://` (fail closed: docs/WIRE.md, "Security").
///
/// With it, the forwarder's sockets are CURVE servers, and a ZAP handler in its context
/// (`inproc://zeromq.zap.01`, served by the forwarder's device thread) admits only the public keys
/// of ``roster``, giving each connection its public key (Z85) as ZAP `User-Id`. libzmq 4.3.4 lets **any**
/// client key in when no ZAP handler answers (measured, docs/WIRE.md), so there is no CURVE here
/// without one. Every message and subscription is then checked against the connection's id by
/// ``gate`` (``SenderPolicy`` by default).
public struct ForwarderSecurity: Sendable {
    /// One admitted peer.
    public struct Peer: Hashable, Sendable {
        /// The agent id its connections authenticate as.
        public var id: AgentID
        /// Its role: what it may send and subscribe to.
        public var role: Role

        public init(id: AgentID, role: Role) {
            self.id = id
            self.role = role
        }
    }

    /// The forwarder's key pair; agents name its public key as their server key.
    public var keyPair: CurveKeyPair
    /// Public key (Z85) → the peer it authenticates.
    public var roster: [String: Peer]
    /// The checks on each message and subscription of an authenticated peer.
    public var gate: any MessageGate

    /// Makes the security of a forwarder. The roster must hold at least one peer.
    public init(keyPair: CurveKeyPair, roster: [String: Peer], gate: any MessageGate = SenderPolicyGate()) {
        self.keyPair = keyPair
        self.roster = roster
        self.gate = gate
    }
}

/// What a secured forwarder asks of every message and subscription frame before passing it on.
public protocol MessageGate: Sendable {
    /// `nil` to forward `payload` (the message's last frame), or why not.
    func check(_ payload: UnsafeRawBufferPointer, from peer: ForwarderSecurity.Peer) -> (SenderPolicy.Refusal, String)?
    /// Whether `peer` may subscribe to `topic`.
    func permitsSubscription(to topic: Topic, by peer: ForwarderSecurity.Peer) -> Bool
}

/// The Meshwork rules (``SenderPolicy``): the envelope's sender is the connection's id, the kind
/// is one the peer's role sends, subscriptions stay within the peer's own topics.
public struct SenderPolicyGate: MessageGate {
    public init() {}

    public func check(_ payload: UnsafeRawBufferPointer, from peer: ForwarderSecurity.Peer) -> (SenderPolicy.Refusal, String)? {
        SenderPolicy.check(payload, from: peer.id, role: peer.role)
    }

    public func permitsSubscription(to topic: Topic, by peer: ForwarderSecurity.Peer) -> Bool {
        SenderPolicy.permitsSubscription(to: topic, by: peer.id, role: peer.role)
    }
}

/// A participant's side of a secured mesh: its own key pair and the forwarder's public key.
/// Required to connect to `tcp://`.
public struct TransportSecurity: Sendable {
    /// This participant's key pair (its public key must be in the forwarder's roster).
    public var keyPair: CurveKeyPair
    /// The forwarder's public key (Z85).
    public var serverKey: String

    /// Makes a participant's security; throws `.security` when `serverKey` is not a Z85 key.
    public init(keyPair: CurveKeyPair, serverKey: String) throws(TransportError) {
        guard CurveKeyPair.isKey(serverKey) else {
            throw TransportError(.security, "the server key is not a CURVE public key (40 Z85 characters expected)")
        }
        self.keyPair = keyPair
        self.serverKey = serverKey
    }
}
