/// Decides, message by message, what a scenario's network faults do to the coordinator's
/// traffic: deliver, lose, deliver twice, or hold back. Sans-I/O: the transport that applies the
/// verdicts (MeshRuntime's `FaultyTransport`) passes in the wall-clock time.
///
/// A fault's window opens at the first message for which both its triggers hold — `start`
/// seconds after the workflow started (the first call for proposals seen) and the simulated
/// clock at `at_hour` or later (the latest envelope sim time seen) — and closes `for` seconds
/// later (or never). Which messages a `rate` picks comes from the scenario's seed; it is a
/// physical choice (the reliable streams make the logical journal the same whatever is picked).
///
/// ```swift
/// var faults = NetworkFaults(scenario.faults, seed: scenario.seed)
/// let verdict = faults.decide(.result, peer: .agent(id), simTime: envelope.simTime, at: clock.now())
/// // verdict.copies == 0: lost; 2: duplicated; verdict.delay: hold it back that long
/// ```
public struct NetworkFaults: Sendable {
    /// Who is on the other end of a message.
    public enum Peer: Sendable, Equatable {
        /// One agent (the sender of an inbound message, the receiver of a directed one).
        case agent(AgentID)
        /// Every instance of a role (a call for proposals).
        case role(Role)
        /// Everyone (a broadcast).
        case everyone
    }

    /// What to do with one message.
    public struct Verdict: Sendable, Equatable {
        /// How many copies to deliver: 0 (lost), 1, or 2 (duplicated).
        public var copies: Int
        /// How long to hold it back first.
        public var delay: Duration

        public static let deliver = Verdict(copies: 1, delay: .zero)
    }

    /// What the faults have done so far, per fault (in scenario order).
    public struct Counts: Sendable, Equatable {
        public var dropped = 0
        public var duplicated = 0
        public var delayed = 0
    }

    private struct Window: Sendable {
        var spec: FaultSpec
        var opened: MonotonicTime?
        var counts = Counts()
    }

    private var windows: [Window]
    private var random: SeededRandom
    private var workflowStarted: MonotonicTime?
    private var latestSimTime = SimTime.zero

    /// The network faults among `faults` (the others are the supervisor's).
    public init(_ faults: [FaultSpec], seed: UInt64) {
        self.windows = faults.filter(\.action.isNetwork).map { Window(spec: $0) }
        self.random = SeededRandom(seed: seed, key: "network-faults")
    }

    /// Whether there is any network fault at all.
    public var isEmpty: Bool { self.windows.isEmpty }

    /// Each network fault with what it has done so far.
    public var counts: [(fault: FaultSpec, counts: Counts)] { self.windows.map { ($0.spec, $0.counts) } }

    /// The verdict on one message of `kind` to or from `peer`, carrying `simTime`, seen at `now`.
    public mutating func decide(_ kind: MessageKind, peer: Peer, simTime: SimTime, at now: MonotonicTime) -> Verdict {
        if kind == .callForProposals, self.workflowStarted == nil { self.workflowStarted = now }
        self.latestSimTime = max(self.latestSimTime, simTime)
        var verdict = Verdict.deliver
        for index in self.windows.indices {
            guard self.isOpen(index, at: now), Self.matches(self.windows[index].spec, kind: kind, peer: peer) else { continue }
            let spec = self.windows[index].spec
            switch spec.action {
            case .cut:
                self.windows[index].counts.dropped += 1
                return Verdict(copies: 0, delay: .zero)
            case .drop:
                if self.roll(spec.rate ?? 1) {
                    self.windows[index].counts.dropped += 1
                    return Verdict(copies: 0, delay: .zero)
                }
            case .duplicate:
                if self.roll(spec.rate ?? 1) {
                    self.windows[index].counts.duplicated += 1
                    verdict.copies = 2
                }
            case .delay:
                if self.roll(spec.rate ?? 1) {
                    self.windows[index].counts.delayed += 1
                    let jitter = spec.jitterMilliseconds ?? 0
                    let spread = jitter > 0 ? (self.random.nextUnitDouble() * 2 - 1) * jitter : 0
                    let milliseconds = max(0, (spec.milliseconds ?? 0) + spread)
                    verdict.delay += .microseconds(Int64(milliseconds * 1000))
                }
            case .kill, .pause, .slowJoin:
                break
            }
        }
        return verdict
    }

    private mutating func isOpen(_ index: Int, at now: MonotonicTime) -> Bool {
        let spec = self.windows[index].spec
        if let opened = self.windows[index].opened {
            guard let duration = spec.duration else { return true }
            return now < opened.adding(.microseconds(Int64(duration * 1_000_000)))
        }
        guard let started = self.workflowStarted, now >= started.adding(.microseconds(Int64(spec.start * 1_000_000))) else {
            return false
        }
        if let hour = spec.atHour, self.latestSimTime.microseconds < UInt64(hour * 3_600_000_000) { return false }
        self.windows[index].opened = now
        return true
    }

    private mutating func roll(_ rate: Double) -> Bool {
        rate >= 1 || self.random.nextUnitDouble() < rate
    }

    private static func matches(_ spec: FaultSpec, kind: MessageKind, peer: Peer) -> Bool {
        if let kinds = spec.kinds, !kinds.contains(kind.name) { return false }
        switch peer {
        case .agent(let id): return spec.targets(id)
        case .role(let role): return spec.target == "any" || spec.target == "any-agent" || spec.target == role.rawValue
        case .everyone: return spec.target == "any" || spec.target == "any-agent"
        }
    }
}
