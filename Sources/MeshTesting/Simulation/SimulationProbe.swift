import MeshCore

/// What the simulation watches while it runs: the invariants' evidence and the event trace.
///
/// Every check that fails appends a line to ``violations``; the trace is a running FNV-1a hash
/// over every event the world processes, so two runs of one seed can be compared cheaply.
final class SimulationProbe {
    /// One direction of a reliable stream between two incarnations.
    struct StreamKey: Hashable, CustomStringConvertible {
        var sender: AgentID
        var senderIncarnation: UInt64
        var receiver: AgentID
        var receiverIncarnation: UInt64

        var description: String { "\(self.sender)#\(self.senderIncarnation) → \(self.receiver)#\(self.receiverIncarnation)" }
    }

    private(set) var violations: [String] = []
    private(set) var trace = Fingerprint()
    private var delivered: [StreamKey: [UInt64: UInt64]] = [:]
    /// Tasks handed to the current coordinator incarnation's orchestrator (reset when it restarts).
    private var appliedThisIncarnation: Set<TaskID> = []
    /// Tasks the durable journal has committed.
    private(set) var committed: Set<TaskID> = []
    private(set) var applications = 0
    private(set) var now = MonotonicTime.zero

    func violation(_ text: String) {
        // A broken run can repeat one mistake thousands of times; the first few say enough.
        if self.violations.count < 20 { self.violations.append("at \(self.now): \(text)") }
    }

    func advance(to time: MonotonicTime) { self.now = time }

    func record(_ values: UInt64...) {
        for value in values { self.trace.add(value) }
    }

    // MARK: - Reliable streams

    /// The receiving side of `key` delivered `sequence` with `fingerprint` to its application.
    func delivered(_ key: StreamKey, sequence: UInt64, fingerprint: UInt64) {
        if let earlier = self.delivered[key, default: [:]].updateValue(fingerprint, forKey: sequence) {
            self.violation(
                "stream \(key) delivered sequence \(sequence) twice"
                    + (earlier == fingerprint ? "" : " with different contents (two links shared one pair of incarnations)"))
        }
    }

    /// The sending side of `key` took an ack covering `sequence`, which it sent as `fingerprint`.
    func acknowledged(_ key: StreamKey, sequence: UInt64, fingerprint: UInt64) {
        guard let got = self.delivered[key]?[sequence] else {
            return self.violation("stream \(key): sequence \(sequence) was acknowledged but never delivered (lost)")
        }
        if got != fingerprint {
            self.violation("stream \(key): sequence \(sequence) was acknowledged, but the receiver delivered another message under that number (lost)")
        }
    }

    /// The sending side of `key` took an ack for `ack`, past the `sent` messages it ever sent.
    func acknowledgedUnsent(_ key: StreamKey, ack: UInt64, sent: UInt64) {
        self.violation("stream \(key): an ack for \(ack) arrived, but this link sent only \(sent) (the receiver counts another stream)")
    }

    // MARK: - Application of results

    /// A new coordinator incarnation took over; what the journal committed stays committed.
    func coordinatorStarted(committed: [TaskID]) {
        self.appliedThisIncarnation = []
        self.committed = Set(committed)
    }

    /// The coordinator's glue handed `task`'s result to the orchestrator.
    func resultApplied(_ task: TaskID) {
        self.applications += 1
        if self.committed.contains(task) {
            self.violation("the orchestrator got a result for \(task), which the journal had already committed (applied twice)")
        } else if !self.appliedThisIncarnation.insert(task).inserted {
            self.violation("the orchestrator got a second result for \(task) (applied twice)")
        }
    }

    /// The journal durably committed `task`.
    func journalCommitted(_ task: TaskID) {
        if !self.committed.insert(task).inserted {
            self.violation("the journal committed \(task) twice")
        }
    }
}

/// FNV-1a over 64-bit words: a cheap, stable fingerprint for traces and message contents.
struct Fingerprint: Equatable {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ word: UInt64) {
        var word = word
        for _ in 0..<8 {
            self.value = (self.value ^ (word & 0xFF)) &* 0x0000_0100_0000_01B3
            word >>= 8
        }
    }

    mutating func add(bytes: [UInt8]) {
        for byte in bytes { self.value = (self.value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.add(UInt64(bytes.count))
    }

    static func of(kind: MessageKind, body: [UInt8]) -> UInt64 {
        var print = Fingerprint()
        print.add(UInt64(kind.rawValue))
        print.add(bytes: body)
        return print.value
    }
}

/// A ``ReliableLink`` with the probe watching its contract: what the peer acknowledged was
/// delivered to the peer's application exactly as it was sent, and nothing is delivered twice.
/// The glue calls it exactly where the actors call the link.
struct TrackedLink {
    private(set) var link: ReliableLink
    private let outgoing: SimulationProbe.StreamKey
    private let incoming: SimulationProbe.StreamKey
    private var sent: [UInt64: UInt64] = [:]
    private var lastSent: UInt64 = 0
    private var confirmed: UInt64 = 0

    init(_ link: ReliableLink) {
        self.link = link
        self.outgoing = .init(
            sender: link.local, senderIncarnation: link.localIncarnation, receiver: link.peer, receiverIncarnation: link.peerIncarnation)
        self.incoming = .init(
            sender: link.peer, senderIncarnation: link.peerIncarnation, receiver: link.local, receiverIncarnation: link.localIncarnation)
    }

    var peerIncarnation: UInt64 { self.link.peerIncarnation }
    var nextDeadline: MonotonicTime? { self.link.nextDeadline }

    mutating func send(
        kind: MessageKind, body: [UInt8], simTime: SimTime, at now: MonotonicTime, into actions: inout [ReliableLink.Action]
    ) {
        self.lastSent += 1
        self.sent[self.lastSent] = Fingerprint.of(kind: kind, body: body)
        self.link.send(kind: kind, body: body, simTime: simTime, at: now, into: &actions)
    }

    mutating func receive(
        _ envelope: Envelope, at now: MonotonicTime, into actions: inout [ReliableLink.Action], probe: SimulationProbe
    ) {
        if envelope.flags.contains(.acknowledges), envelope.ack > self.confirmed {
            if envelope.ack > self.lastSent { probe.acknowledgedUnsent(self.outgoing, ack: envelope.ack, sent: self.lastSent) }
            let upTo = min(envelope.ack, self.lastSent)
            if upTo > self.confirmed {
                for sequence in (self.confirmed + 1)...upTo {
                    probe.acknowledged(self.outgoing, sequence: sequence, fingerprint: self.sent.removeValue(forKey: sequence)!)
                }
            }
            self.confirmed = max(self.confirmed, envelope.ack)
        }
        let first = actions.count
        self.link.receive(envelope, at: now, into: &actions)
        for case .deliver(let delivered) in actions[first...] {
            probe.delivered(self.incoming, sequence: delivered.sequence, fingerprint: Fingerprint.of(kind: delivered.kind, body: delivered.body))
        }
    }

    mutating func tick(at now: MonotonicTime, into actions: inout [ReliableLink.Action]) {
        self.link.tick(at: now, into: &actions)
    }

    mutating func piggybackAck(on envelope: inout Envelope) {
        self.link.piggybackAck(on: &envelope)
    }
}
