internal import DequeModule

/// An agent's side of the hand-offs it takes part in, as a sans-I/O state machine.
///
/// It bids for calls whose kind of work it can do (with its free slots, so the award rule can
/// prefer idle instances), accepts awards — idempotently, so a duplicated award is accepted again
/// rather than done twice — runs at most `capacity` tasks at once and queues the rest, and keeps
/// every result until the coordinator acknowledges it, so a result survives a coordinator restart.
public struct Contractor: Sendable {
    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Send this bid.
        case bid(Bid)
        /// Send this decline (kind `decline`, number = round).
        case decline(Refusal)
        /// Send this accept.
        case accept(AwardReference)
        /// Start doing this task; report with ``workFinished(_:award:outcome:)``.
        case start(Award)
        /// Send this result (again, after a coordinator restart).
        case result(TaskResult)
    }

    private let capacity: Int
    private let canDo: @Sendable (String) -> Bool
    private var running: [TaskID: UInt64] = [:]
    private var queued: Deque<Award> = []
    private var unacknowledged: [AwardReference: TaskResult] = [:]
    private var finished: Set<AwardReference> = []
    private var finishedOrder: Deque<AwardReference> = []
    private let rememberFinished = 65_536

    /// Makes a contractor running at most `capacity` tasks at once, for the kinds of work `canDo` accepts.
    public init(capacity: Int, canDo: @escaping @Sendable (String) -> Bool) {
        precondition(capacity >= 1, "capacity must be at least 1")
        self.capacity = capacity
        self.canDo = canDo
    }

    /// Tasks running now.
    public var runningCount: Int { self.running.count }
    /// Tasks accepted and waiting for a slot.
    public var queuedCount: Int { self.queued.count }
    /// Results not yet acknowledged.
    public var unacknowledgedCount: Int { self.unacknowledged.count }

    /// Whether `award`, arriving now, would wait in the queue: it is new to this contractor, its
    /// work is one it does, and no slot is free for it. The owner may then keep a large input
    /// elsewhere until the award starts.
    public func wouldQueue(_ award: Award) -> Bool {
        let reference = AwardReference(task: award.task, award: award.award)
        guard self.running[award.task] != award.award, !self.finished.contains(reference),
            !self.queued.contains(where: { $0.task == award.task && $0.award == award.award }), self.canDo(award.work)
        else { return false }
        return self.running.count >= self.capacity || self.running[award.task] != nil
    }

    /// A call for proposals arrived.
    public func callReceived(_ call: CallForProposals) -> [Action] {
        guard self.canDo(call.work) else {
            return [.decline(Refusal(task: call.task, number: UInt64(call.round), reason: "cannot do \(call.work)"))]
        }
        let free = max(0, self.capacity - self.running.count - self.queued.count)
        return [.bid(Bid(task: call.task, round: call.round, freeSlots: UInt32(free)))]
    }

    /// An award arrived.
    public mutating func awardReceived(_ award: Award) -> [Action] {
        let reference = AwardReference(task: award.task, award: award.award)
        if self.running[award.task] == award.award || self.finished.contains(reference)
            || self.queued.contains(where: { $0.task == award.task && $0.award == award.award })
        {
            if let result = self.unacknowledged[reference] { return [.accept(reference), .result(result)] }
            return [.accept(reference)]
        }
        guard self.canDo(award.work) else {
            return []
        }
        if self.running.count < self.capacity, self.running[award.task] == nil {
            self.running[award.task] = award.award
            return [.accept(reference), .start(award)]
        }
        self.queued.append(award)
        return [.accept(reference)]
    }

    /// A task this contractor ran has finished.
    public mutating func workFinished(
        _ task: TaskID, award: UInt64, outcome: TaskResult.Outcome, telemetry: [String: String] = [:]
    ) -> [Action] {
        guard self.running[task] == award else { return [] }
        self.running[task] = nil
        let reference = AwardReference(task: task, award: award)
        let result = TaskResult(task: task, award: award, outcome: outcome, telemetry: telemetry)
        self.unacknowledged[reference] = result
        self.remember(reference)
        var actions: [Action] = [.result(result)]
        while self.running.count < self.capacity, let next = self.queued.popFirst() {
            if self.running[next.task] != nil {
                self.queued.append(next)
                break
            }
            self.running[next.task] = next.award
            actions.append(.start(next))
        }
        return actions
    }

    /// The coordinator acknowledged a result.
    public mutating func resultAcknowledged(_ reference: AwardReference) {
        self.unacknowledged[reference] = nil
    }

    /// The coordinator the agent was joined to is gone; a new one (or a restarted one) took over.
    /// Returns every result it has not acknowledged, to send again.
    public func resendAfterCoordinatorChange() -> [Action] {
        self.unacknowledged.values.sorted { ($0.task, $0.award) < ($1.task, $1.award) }.map { .result($0) }
    }

    private mutating func remember(_ reference: AwardReference) {
        if self.finished.insert(reference).inserted {
            self.finishedOrder.append(reference)
            if self.finishedOrder.count > self.rememberFinished, let oldest = self.finishedOrder.popFirst() {
                self.finished.remove(oldest)
            }
        }
    }
}
