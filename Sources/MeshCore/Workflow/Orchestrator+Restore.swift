/// A journal that cannot be resumed, with the record where it parts from what the code produces.
public struct RestoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The index of the first record that differs (or that lacks what resuming needs).
    public var index: UInt64
    /// Why.
    public var reason: String

    public init(index: UInt64, reason: String) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "journal record \(self.index): \(self.reason)" }
}

/// An orchestrator rebuilt from a journal, ready to go on where the journal stops.
public struct RestoredOrchestrator<W: Workflow>: Sendable {
    /// The orchestrator, in the state it had after the last journaled record.
    public var orchestrator: Orchestrator<W>
    /// The digest over the journal.
    public var digest: JournalDigest
    /// Tasks dispatched but never committed: to negotiate again.
    public var inFlight: [(spec: TaskSpec, start: SimTime)]
    /// Tasks the journal committed.
    public var committedTasks: [TaskID]
    /// Every task the workflow dispatched up to the journal's end, in dispatch order (what a
    /// what-if branch performs again to rebuild the agents' state).
    public var dispatched: [TaskSpec] = []
}

extension Orchestrator {
    /// Rebuilds the orchestrator a coordinator had when it last journaled, by running `workflow`
    /// again and feeding it the journaled results in order. Every record the code produces must
    /// equal the journaled one at the same index, so a journal of another scenario, seed or code
    /// version is refused at the first difference instead of being continued wrongly.
    public static func restore(_ workflow: W, from entries: [JournalEntry]) throws(RestoreError) -> RestoredOrchestrator<W> {
        var orchestrator = Orchestrator(workflow: workflow)
        var digest = JournalDigest()
        var committed: [TaskID] = []
        var next = 0
        var dispatched: [TaskSpec] = []
        func check(_ actions: [Action]) throws(RestoreError) {
            for case .dispatch(let spec, _) in actions { dispatched.append(spec) }
            for case .journal(let record, _) in actions {
                guard next < entries.count else {
                    // The code produced a record the journal does not have yet: it was not committed
                    // before the stop. Only results (fed below) can do that; workflow records that
                    // follow from them are regenerated when the result is fed.
                    throw RestoreError(index: UInt64(next), reason: "the workflow produced \(record.kind) \(record.subject) past the journal's end")
                }
                let stored = entries[next].record
                guard stored == record else {
                    throw RestoreError(
                        index: UInt64(next),
                        reason: "the journal has \(stored.kind) \(stored.subject), this code produces \(record.kind) \(record.subject)")
                }
                digest.append(record)
                next += 1
            }
        }
        try check(orchestrator.start())
        while next < entries.count {
            let entry = entries[next]
            let record = entry.record
            guard let task = TaskID(record.subject) else {
                throw RestoreError(index: UInt64(next), reason: "unexpected \(record.kind) \(record.subject)")
            }
            let outcome: Outcome
            switch record.kind {
            case "task.done":
                guard let output = entry.payload, Hex.sha256(output) == record.field("output") else {
                    throw RestoreError(index: UInt64(next), reason: "the output of \(task) is missing or does not match its hash")
                }
                outcome = .done(output)
            case "task.failed":
                outcome = .failed(record.field("reason") ?? "")
            default:
                throw RestoreError(index: UInt64(next), reason: "unexpected \(record.kind) \(record.subject): no result explains it")
            }
            committed.append(task)
            try check(orchestrator.resultArrived(task, outcome))
        }
        return RestoredOrchestrator(
            orchestrator: orchestrator, digest: digest, inFlight: orchestrator.inFlightTasks, committedTasks: committed,
            dispatched: dispatched)
    }
}
