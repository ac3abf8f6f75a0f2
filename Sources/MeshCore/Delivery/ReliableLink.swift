internal import DequeModule

/// Reliable delivery between two incarnations of two participants, as a sans-I/O state machine.
///
/// Pub/sub loses messages (slow joiners, full pipes, restarts). A link numbers every message it
/// sends on its stream from 1, keeps it until the peer's cumulative ack covers it, and
/// retransmits what is unacknowledged with exponential backoff; after
/// ``Configuration/maxAttempts`` timeouts in a row without progress it reports the peer
/// unreachable. On the receiving side it delivers each sequence number once, however often it
/// arrives (a dedup window above the cumulative ack), and acks by piggybacking on outgoing
/// messages or, when there are none, with a delayed standalone `ack`.
///
/// The owner (an actor) feeds it events and performs the actions it returns; the link never sends,
/// sleeps or reads a clock:
///
/// ```swift
/// var actions: [ReliableLink.Action] = []
/// link.send(kind: .award, body: award.encoded(), simTime: now, at: clock.now(), into: &actions)
/// link.receive(envelope, at: clock.now(), into: &actions)   // for envelopes from the peer
/// link.tick(at: clock.now(), into: &actions)                // when `nextDeadline` passes
/// ```
///
/// A link is bound to one incarnation of each side. When either side restarts, the owner drops the
/// link and makes a new one; what the old link had not delivered is the owner's to re-drive (the
/// hand-off negotiation does that through re-awards).
public struct ReliableLink: Sendable {
    /// Tuning of a link; the defaults suit loopback and LAN meshes.
    public struct Configuration: Sendable, Equatable {
        /// The first retransmit timeout.
        public var initialTimeout: Duration = .milliseconds(200)
        /// The largest retransmit timeout backoff reaches.
        public var maxTimeout: Duration = .seconds(2)
        /// How many timeouts in a row without progress make the peer unreachable.
        public var maxAttempts: Int = 8
        /// How many messages may be unacknowledged at once; more wait in a backlog.
        public var window: Int = 8192
        /// How far past the cumulative ack a sequence number is still accepted.
        public var receiveWindow: UInt64 = 65_536
        /// How long an owed ack may wait for a message to ride on.
        public var ackDelay: Duration = .milliseconds(5)
        /// After how many received messages an ack goes out at once.
        public var ackEvery: Int = 128

        public init() {}
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Put this envelope on the wire.
        case transmit(Envelope)
        /// Hand this envelope (received for the first time) to the application.
        case deliver(Envelope)
        /// The peer has not acknowledged anything for `maxAttempts` timeouts; drop the link.
        case unreachable(unacknowledged: Int)
    }

    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Messages sent for the first time.
        public var sent = 0
        /// Retransmissions.
        public var retransmitted = 0
        /// Messages delivered to the application.
        public var delivered = 0
        /// Duplicates received and dropped.
        public var duplicates = 0
        /// Messages outside the receive window, dropped.
        public var outOfWindow = 0
        /// Standalone acks sent.
        public var acksSent = 0
    }

    private struct Pending: Sendable {
        var envelope: Envelope
    }

    /// This side.
    public let local: AgentID
    /// This side's incarnation.
    public let localIncarnation: UInt64
    /// The other side.
    public let peer: AgentID
    /// The other side's incarnation.
    public let peerIncarnation: UInt64
    /// The peer's agent topic, made once: every envelope of the link is addressed to it.
    private let peerTopic: Topic
    private let configuration: Configuration

    private var nextSequence: UInt64 = 1
    private var unacked: Deque<Pending> = []
    private var backlog: Deque<Envelope> = []
    private var timeout: Duration
    private var attempts = 0
    private var retransmitAt: MonotonicTime?

    private var received: UInt64 = 0
    private var receivedAhead: Set<UInt64> = []
    private var acksOwed = 0
    private var ackAt: MonotonicTime?

    /// Counters since the link was made.
    public private(set) var statistics = Statistics()

    /// Makes a link from `local` to `peer`, both at the given incarnations.
    public init(
        local: AgentID,
        localIncarnation: UInt64,
        peer: AgentID,
        peerIncarnation: UInt64,
        configuration: Configuration = Configuration()
    ) {
        self.local = local
        self.localIncarnation = localIncarnation
        self.peer = peer
        self.peerIncarnation = peerIncarnation
        self.peerTopic = .agent(peer)
        self.configuration = configuration
        self.timeout = configuration.initialTimeout
    }

    /// The earliest time ``tick(at:into:)`` has work to do, or `nil` when idle.
    public var nextDeadline: MonotonicTime? {
        switch (self.retransmitAt, self.ackAt) {
        case (nil, nil): nil
        case (let a?, nil): a
        case (nil, let b?): b
        case (let a?, let b?): min(a, b)
        }
    }

    /// Whether an ack is owed to the peer and not yet sent (it goes at ``nextDeadline``, or with
    /// the next message to the peer). A side that is about to leave sends it first, or the peer
    /// retransmits its last messages into the void.
    public var owesAck: Bool { self.ackAt != nil }

    /// Messages sent and not yet acknowledged, plus those waiting for room in the window.
    public var outstanding: Int { self.unacked.count + self.backlog.count }

    /// The link's state in one line, for a stall's error message: what is in flight each way,
    /// the retransmit state, and the counters.
    public var diagnosis: String {
        let retransmit =
            if self.retransmitAt != nil { "retransmit armed" } else if self.unacked.isEmpty { "idle" } else { "gave up" }
        let firstUnacked = self.unacked.first.map { String($0.envelope.sequence) } ?? "-"
        return "to \(self.peer): next seq \(self.nextSequence), \(self.unacked.count) unacked from seq \(firstUnacked), "
            + "\(self.backlog.count) in backlog, \(retransmit) after \(self.attempts) timeouts; "
            + "from \(self.peer): contiguous to \(self.received), \(self.receivedAhead.count) ahead, \(self.acksOwed) acks owed; "
            + "sent \(self.statistics.sent), retransmitted \(self.statistics.retransmitted), "
            + "delivered \(self.statistics.delivered), duplicates \(self.statistics.duplicates), "
            + "out of window \(self.statistics.outOfWindow), acks sent \(self.statistics.acksSent)"
    }

    /// The highest contiguous sequence number received, to piggyback on unsequenced messages.
    public var cumulativeAck: UInt64 { self.received }

    /// Sends a message on the stream.
    public mutating func send(
        kind: MessageKind,
        body: [UInt8],
        simTime: SimTime,
        at now: MonotonicTime,
        into actions: inout [Action]
    ) {
        let envelope = Envelope(
            kind: kind,
            flags: [.sequenced],
            sender: self.local,
            senderIncarnation: self.localIncarnation,
            receiver: self.peerTopic,
            receiverIncarnation: self.peerIncarnation,
            sequence: self.nextSequence,
            simTime: simTime,
            body: body
        )
        self.nextSequence += 1
        if self.unacked.count < self.configuration.window {
            self.transmitFirst(envelope, at: now, into: &actions)
        } else {
            self.backlog.append(envelope)
        }
    }

    /// Handles an envelope from the peer's incarnation this link is bound to.
    ///
    /// The caller checks sender, incarnations and receiver before; this processes the ack field and,
    /// for sequenced messages, delivers them once.
    public mutating func receive(_ envelope: consuming Envelope, at now: MonotonicTime, into actions: inout [Action]) {
        if envelope.flags.contains(.acknowledges) {
            self.acknowledge(upTo: envelope.ack, at: now, into: &actions)
        }
        guard envelope.flags.contains(.sequenced) else { return }
        let sequence = envelope.sequence
        // The common case, the next in order with nothing ahead, skips the set lookups.
        if sequence == self.received &+ 1, sequence != 0, self.receivedAhead.isEmpty, self.configuration.receiveWindow >= 1 {
            self.received = sequence
            self.deliver(envelope, at: now, into: &actions)
            return
        }
        if sequence == 0 || sequence <= self.received || self.receivedAhead.contains(sequence) {
            self.statistics.duplicates += 1
            // The peer retransmitted, so our ack may have been lost: ack at once.
            self.ackAt = now
            return
        }
        if sequence > self.received + self.configuration.receiveWindow {
            self.statistics.outOfWindow += 1
            return
        }
        if sequence == self.received + 1 {
            self.received = sequence
            while self.receivedAhead.remove(self.received + 1) != nil { self.received += 1 }
        } else {
            self.receivedAhead.insert(sequence)
        }
        self.deliver(envelope, at: now, into: &actions)
    }

    private mutating func deliver(_ envelope: consuming Envelope, at now: MonotonicTime, into actions: inout [Action]) {
        self.statistics.delivered += 1
        actions.append(.deliver(envelope))
        self.acksOwed += 1
        if self.acksOwed >= self.configuration.ackEvery {
            self.ackAt = now
        } else if self.ackAt == nil {
            self.ackAt = now.adding(self.configuration.ackDelay)
        }
    }

    /// Retransmits what timed out and sends an owed ack whose delay passed.
    public mutating func tick(at now: MonotonicTime, into actions: inout [Action]) {
        if let deadline = self.retransmitAt, deadline <= now {
            self.attempts += 1
            if self.attempts > self.configuration.maxAttempts {
                self.retransmitAt = nil
                actions.append(.unreachable(unacknowledged: self.outstanding))
                return
            }
            for index in self.unacked.indices {
                self.unacked[index].envelope.flags.insert(.acknowledges)
                self.unacked[index].envelope.ack = self.received
                actions.append(.transmit(self.unacked[index].envelope))
                self.statistics.retransmitted += 1
            }
            self.noteAckSent()
            self.timeout = min(self.timeout * 2, self.configuration.maxTimeout)
            self.retransmitAt = now.adding(self.timeout)
        }
        if let deadline = self.ackAt, deadline <= now {
            actions.append(.transmit(self.makeAck()))
            self.statistics.acksSent += 1
            self.noteAckSent()
        }
    }

    /// Stamps the current cumulative ack on an unsequenced message (a heartbeat) and counts the ack as sent.
    public mutating func piggybackAck(on envelope: inout Envelope) {
        guard self.received > 0 else { return }
        envelope.flags.insert(.acknowledges)
        envelope.ack = self.received
        self.noteAckSent()
    }

    private mutating func transmitFirst(_ envelope: consuming Envelope, at now: MonotonicTime, into actions: inout [Action]) {
        if self.received > 0 {
            envelope.flags.insert(.acknowledges)
            envelope.ack = self.received
            self.noteAckSent()
        }
        self.unacked.append(Pending(envelope: copy envelope))
        self.statistics.sent += 1
        actions.append(.transmit(envelope))
        if self.retransmitAt == nil { self.retransmitAt = now.adding(self.timeout) }
    }

    private mutating func acknowledge(upTo ack: UInt64, at now: MonotonicTime, into actions: inout [Action]) {
        var progressed = false
        while let first = self.unacked.first, first.envelope.sequence <= ack {
            self.unacked.removeFirst()
            progressed = true
        }
        guard progressed else { return }
        self.attempts = 0
        self.timeout = self.configuration.initialTimeout
        while self.unacked.count < self.configuration.window, let next = self.backlog.popFirst() {
            self.transmitFirst(next, at: now, into: &actions)
        }
        self.retransmitAt = self.unacked.isEmpty ? nil : now.adding(self.timeout)
    }

    private mutating func noteAckSent() {
        self.acksOwed = 0
        self.ackAt = nil
    }

    private func makeAck() -> Envelope {
        Envelope(
            kind: .ack,
            flags: [.acknowledges],
            sender: self.local,
            senderIncarnation: self.localIncarnation,
            receiver: self.peerTopic,
            receiverIncarnation: self.peerIncarnation,
            ack: self.received
        )
    }
}
