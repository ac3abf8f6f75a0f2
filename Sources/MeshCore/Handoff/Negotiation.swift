/// The coordinator's side of one hand-off, a contract net as a sans-I/O state machine:
/// call for proposals → bids → award → accept → result → ack.
///
/// The award goes to ``AwardRule``'s choice among the bids of a round, decided when every
/// candidate has answered or the bid timeout passed. A refusal, a missing accept, a work timeout
/// or the awardee's departure re-awards: to the next bid of the round, else in a new round. Every
/// award carries a fencing number; a result naming an older award is stale and ignored (but
/// acknowledged, so the sender stops retrying).
///
/// ```swift
/// var negotiation = Negotiation(task: id, role: .data, work: "relay.hash", input: bytes)
/// perform(negotiation.start(candidates: roster.refs(of: .data), at: now))
/// perform(negotiation.bidReceived(bid, from: sender, at: now))   // … and so on per event
/// ```
public struct Negotiation: Sendable {
    /// Timeouts and limits of a negotiation.
    public struct Policy: Sendable, Equatable {
        /// How long to wait for bids after a call. Dead candidates are dropped from the wait as soon
        /// as the roster declares them dead, so this only bounds a live but stuck candidate.
        public var bidTimeout: Duration = .seconds(2)
        /// How long an awardee has to accept (the reliable link already retransmits a lost award;
        /// this bounds a live agent that never answers, so it is generous under load).
        public var acceptTimeout: Duration = .seconds(5)
        /// How long an accepted task may take before it is re-awarded.
        public var workTimeout: Duration = .seconds(60)
        /// How long to wait before calling again when nobody bid.
        public var retryDelay: Duration = .milliseconds(100)
        /// After how many rounds in which every candidate declined (none can do the work) the task
        /// fails. Rounds that end in silence do not count: a slow agent is not a failed task, and
        /// a dead one is dropped by the roster.
        public var maxRounds: UInt32 = 50

        public init() {}
    }

    /// Where the negotiation is.
    public enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// Waiting for the bids of `round`.
        case calling(round: UInt32, waitingFor: Set<AgentRef>, bids: [AgentRef: Bid], deadline: MonotonicTime)
        /// No candidate is alive; waiting for one to join.
        case waitingForCandidates(round: UInt32)
        /// Nobody bid; calling again at `at`.
        case retrying(round: UInt32, at: MonotonicTime)
        /// Awarded, waiting for the accept. `next` holds the other bidders, best first.
        case awarded(round: UInt32, to: AgentRef, award: UInt64, next: [AgentRef], deadline: MonotonicTime)
        /// Accepted, waiting for the result.
        case working(round: UInt32, by: AgentRef, award: UInt64, deadline: MonotonicTime)
        /// The result is in.
        case completed
        /// The task failed for good.
        case failed(String)
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Send a call for proposals to a candidate.
        case callForProposals(CallForProposals, to: AgentRef)
        /// Send an award.
        case award(Award, to: AgentRef)
        /// Call ``timeoutFired(at:)`` at (or after) this time.
        case scheduleTimeout(at: MonotonicTime)
        /// The task is done: journal the output, then send the ack.
        case completed(output: [UInt8], by: AgentRef, award: UInt64)
        /// The task failed for good: journal why.
        case failed(reason: String)
        /// Acknowledge a result to its sender.
        case acknowledgeResult(AwardReference, to: AgentRef)
        /// A result for an award that is no longer current arrived and was ignored.
        case ignoredStaleResult(from: AgentRef, award: UInt64)
    }

    /// The task negotiated.
    public let task: TaskID
    /// The role whose instances may do it.
    public let role: Role
    /// The kind of work.
    public let work: String
    /// The task's input, sent with the award.
    public let input: [UInt8]
    private let policy: Policy

    /// Where the negotiation is.
    public private(set) var state: State = .idle
    /// How many open awards the coordinator holds per agent, set by the owner before each event;
    /// the award rule prefers the least loaded bidder.
    public var agentLoad: [AgentID: Int] = [:]
    /// The mesh's service directory, set by the owner; awards carry it as physical context.
    public var directory: [String: String] = [:]
    private var candidates: Set<AgentRef> = []
    private var lastAward: UInt64
    private var declinedRounds: UInt32 = 0

    /// Makes a negotiation. `firstAward` lets a resumed coordinator fence awards made before it restarted.
    public init(task: TaskID, role: Role, work: String, input: [UInt8], policy: Policy = Policy(), firstAward: UInt64 = 1) {
        self.task = task
        self.role = role
        self.work = work
        self.input = input
        self.policy = policy
        self.lastAward = firstAward - 1
    }

    /// The current award number (0 before the first award).
    public var currentAward: UInt64 { self.lastAward }

    /// Whether the negotiation has ended (completed or failed).
    public var isFinished: Bool {
        switch self.state {
        case .completed, .failed: true
        default: false
        }
    }

    /// The agent currently holding the award, if any.
    public var awardee: AgentRef? {
        switch self.state {
        case .awarded(_, let to, _, _, _): to
        case .working(_, let by, _, _): by
        default: nil
        }
    }

    /// The deadline of the current state (the bid, accept or work timeout, or the retry time),
    /// `nil` when the state has none. Every `.scheduleTimeout` action names this deadline, so an
    /// owner that keeps one timer per negotiation can re-arm from it.
    public var deadline: MonotonicTime? {
        switch self.state {
        case .calling(_, _, _, let deadline): deadline
        case .retrying(_, let at): at
        case .awarded(_, _, _, _, let deadline): deadline
        case .working(_, _, _, let deadline): deadline
        case .idle, .waitingForCandidates, .completed, .failed: nil
        }
    }

    /// Starts with the live instances of the role.
    public mutating func start(candidates: [AgentRef], at now: MonotonicTime) -> [Action] {
        guard case .idle = self.state else { return [] }
        self.candidates = Set(candidates)
        return self.call(round: 1, at: now)
    }

    /// The live instances of the role changed (an agent joined or left).
    public mutating func candidatesChanged(_ candidates: [AgentRef], at now: MonotonicTime) -> [Action] {
        let updated = Set(candidates)
        let gone = self.candidates.subtracting(updated)
        self.candidates = updated
        var actions: [Action] = []
        for ref in gone.sorted() { actions += self.departed(ref, at: now) }
        if case .waitingForCandidates(let round) = self.state, !updated.isEmpty {
            actions += self.call(round: round, at: now)
        }
        return actions
    }

    /// A bid arrived.
    public mutating func bidReceived(_ bid: Bid, from sender: AgentRef, at now: MonotonicTime) -> [Action] {
        guard case .calling(let round, var waiting, var bids, let deadline) = self.state,
            bid.round == round, waiting.remove(sender) != nil
        else { return [] }
        bids[sender] = bid
        if waiting.isEmpty { return self.decide(round: round, bids: bids, everyoneAnswered: true, at: now) }
        self.state = .calling(round: round, waitingFor: waiting, bids: bids, deadline: deadline)
        return []
    }

    /// A candidate declined the call of `round`.
    public mutating func declineReceived(round declined: UInt32, from sender: AgentRef, at now: MonotonicTime) -> [Action] {
        guard case .calling(let round, var waiting, let bids, let deadline) = self.state,
            declined == round, waiting.remove(sender) != nil
        else { return [] }
        if waiting.isEmpty { return self.decide(round: round, bids: bids, everyoneAnswered: true, at: now) }
        self.state = .calling(round: round, waitingFor: waiting, bids: bids, deadline: deadline)
        return []
    }

    /// The awardee accepted.
    public mutating func acceptReceived(award: UInt64, from sender: AgentRef, at now: MonotonicTime) -> [Action] {
        guard case .awarded(let round, let to, let current, _, _) = self.state, to == sender, award == current else {
            return []
        }
        let deadline = now.adding(self.policy.workTimeout)
        self.state = .working(round: round, by: to, award: current, deadline: deadline)
        return [.scheduleTimeout(at: deadline)]
    }

    /// The awardee refused.
    public mutating func refuseReceived(award: UInt64, from sender: AgentRef, at now: MonotonicTime) -> [Action] {
        switch self.state {
        case .awarded(let round, let to, let current, let next, _) where to == sender && award == current:
            return self.awardNext(round: round, candidates: next, at: now)
        case .working(let round, let by, let current, _) where by == sender && award == current:
            return self.call(round: round + 1, at: now)
        default:
            return []
        }
    }

    /// A result arrived.
    public mutating func resultReceived(_ result: TaskResult, from sender: AgentRef, at now: MonotonicTime) -> [Action] {
        let reference = AwardReference(task: self.task, award: result.award)
        let isCurrent: Bool
        switch self.state {
        case .awarded(_, let to, let current, _, _): isCurrent = to == sender && result.award == current
        case .working(_, let by, let current, _): isCurrent = by == sender && result.award == current
        default: isCurrent = false
        }
        guard isCurrent else {
            return [.ignoredStaleResult(from: sender, award: result.award), .acknowledgeResult(reference, to: sender)]
        }
        switch result.outcome {
        case .done(let output):
            self.state = .completed
            return [.completed(output: output, by: sender, award: result.award), .acknowledgeResult(reference, to: sender)]
        case .failed(let reason):
            self.state = .failed(reason)
            return [.failed(reason: reason), .acknowledgeResult(reference, to: sender)]
        }
    }

    /// An agent left the mesh (died, restarted or said goodbye).
    public mutating func departed(_ ref: AgentRef, at now: MonotonicTime) -> [Action] {
        self.candidates.remove(ref)
        switch self.state {
        case .calling(let round, var waiting, var bids, let deadline):
            bids[ref] = nil
            guard waiting.remove(ref) != nil else {
                self.state = .calling(round: round, waitingFor: waiting, bids: bids, deadline: deadline)
                return []
            }
            if waiting.isEmpty { return self.decide(round: round, bids: bids, everyoneAnswered: true, at: now) }
            self.state = .calling(round: round, waitingFor: waiting, bids: bids, deadline: deadline)
            return []
        case .awarded(let round, let to, _, let next, _) where to == ref:
            return self.awardNext(round: round, candidates: next.filter { $0 != ref }, at: now)
        case .awarded(let round, let to, let award, let next, let deadline):
            self.state = .awarded(round: round, to: to, award: award, next: next.filter { $0 != ref }, deadline: deadline)
            return []
        case .working(let round, let by, _, _) where by == ref:
            return self.call(round: round + 1, at: now)
        default:
            return []
        }
    }

    /// A scheduled timeout fired; acts only if the current deadline has passed.
    public mutating func timeoutFired(at now: MonotonicTime) -> [Action] {
        switch self.state {
        case .calling(let round, _, let bids, let deadline) where deadline <= now:
            return self.decide(round: round, bids: bids, everyoneAnswered: false, at: now)
        case .retrying(let round, let at) where at <= now:
            return self.call(round: round + 1, at: now)
        case .awarded(let round, _, _, let next, let deadline) where deadline <= now:
            return self.awardNext(round: round, candidates: next, at: now)
        case .working(let round, _, _, let deadline) where deadline <= now:
            return self.call(round: round + 1, at: now)
        default:
            return []
        }
    }

    private mutating func call(round: UInt32, at now: MonotonicTime) -> [Action] {
        guard self.declinedRounds < self.policy.maxRounds else {
            let reason = "every \(self.role.rawValue) agent declined \(self.task) (\(self.work)) in \(self.policy.maxRounds) rounds"
            self.state = .failed(reason)
            return [.failed(reason: reason)]
        }
        guard !self.candidates.isEmpty else {
            self.state = .waitingForCandidates(round: round)
            return []
        }
        let deadline = now.adding(self.policy.bidTimeout)
        self.state = .calling(round: round, waitingFor: self.candidates, bids: [:], deadline: deadline)
        let call = CallForProposals(task: self.task, round: round, work: self.work)
        return self.candidates.sorted().map { .callForProposals(call, to: $0) } + [.scheduleTimeout(at: deadline)]
    }

    private mutating func decide(round: UInt32, bids: [AgentRef: Bid], everyoneAnswered: Bool, at now: MonotonicTime) -> [Action] {
        let ranked = AwardRule.rank(bids, for: self.task, load: self.agentLoad)
        guard !ranked.isEmpty else {
            if everyoneAnswered { self.declinedRounds += 1 }
            let at = now.adding(self.policy.retryDelay)
            self.state = .retrying(round: round, at: at)
            return [.scheduleTimeout(at: at)]
        }
        return self.awardNext(round: round, candidates: ranked, at: now)
    }

    private mutating func awardNext(round: UInt32, candidates: [AgentRef], at now: MonotonicTime) -> [Action] {
        let alive = candidates.filter { self.candidates.contains($0) }
        guard let first = alive.first else { return self.call(round: round + 1, at: now) }
        self.lastAward += 1
        let deadline = now.adding(self.policy.acceptTimeout)
        self.state = .awarded(round: round, to: first, award: self.lastAward, next: Array(alive.dropFirst()), deadline: deadline)
        let award = Award(task: self.task, award: self.lastAward, work: self.work, input: self.input, context: self.directory)
        return [.award(award, to: first), .scheduleTimeout(at: deadline)]
    }
}
