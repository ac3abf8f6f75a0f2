/// Who may send what on a mesh whose peers are authenticated (tcp with CURVE; docs/WIRE.md,
/// "Security"): the rules a forwarder applies to every message and subscription, given the
/// identity the connection authenticated as.
///
/// - The envelope's sender must be the connection's own agent id: nobody speaks for another.
/// - Only the coordinator sends what steers the mesh (welcome, eviction, shutdown, calls for
///   proposals, awards, result acks); only agents send what answers it (hello, bids, declines,
///   accepts, refusals, results). Heartbeats, acks, goodbyes and blob transfers go both ways.
/// - A peer subscribes to its own agent topic, its role's topic and the broadcast topic; the
///   coordinator to anything.
public enum SenderPolicy {
    /// Why a message was refused; the forwarder counts and logs it with the peer.
    public enum Refusal: String, Hashable, Sendable, CaseIterable {
        /// Not an envelope this build reads (see the ``WireError`` logged with it).
        case malformed
        /// The envelope's sender is not the connection's authenticated id.
        case spoofedSender
        /// The sender's role does not send this kind.
        case forbiddenKind
        /// The connection has no authenticated id (no ZAP User-Id), or one outside the roster.
        case unknownPeer
    }

    /// Whether a peer of `role` may send messages of `kind`.
    public static func permits(_ kind: MessageKind, from role: Role) -> Bool {
        switch kind {
        case .welcome, .evicted, .shutdown, .callForProposals, .award, .resultAck:
            return role == .coordinator
        case .hello, .bid, .decline, .accept, .refuse, .result:
            return role != .coordinator
        case .heartbeat, .goodbye, .ack, .blobRequest, .blobChunk, .blobMissing:
            return true
        }
    }

    /// Checks the header of a message that arrived on a connection authenticated as `id` of `role`.
    public static func check(_ payload: UnsafeRawBufferPointer, from id: AgentID, role: Role) -> (Refusal, String)? {
        let header: EnvelopeHeader
        do {
            header = try EnvelopeHeader(peeking: payload)
        } catch {
            return (.malformed, "\(error)")
        }
        guard header.sender == id else { return (.spoofedSender, "envelope says \(header.sender)") }
        guard self.permits(header.kind, from: role) else { return (.forbiddenKind, "a \(role.rawValue) does not send \(header.kind)") }
        return nil
    }

    /// Whether a peer `id` of `role` may subscribe to `topic`.
    public static func permitsSubscription(to topic: Topic, by id: AgentID, role: Role) -> Bool {
        role == .coordinator || topic == .agent(id) || topic == .role(role) || topic == .broadcast
    }
}
