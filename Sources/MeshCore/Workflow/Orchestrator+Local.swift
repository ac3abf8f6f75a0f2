/// The outcome of running a workflow to its end without a mesh.
public struct LocalRun<W: Workflow>: Sendable {
    /// The logical records, in order.
    public var records: [LogicalRecord]
    /// Their running digest.
    public var digest: JournalDigest
    /// The workflow as it ended.
    public var workflow: W
}

extension Orchestrator {
    /// Runs `workflow` to its end in this thread, doing each task with `perform` as soon as it is
    /// dispatched: the reference a mesh run must match record for record, whatever its placement.
    public static func runLocally(_ workflow: W, perform: (TaskSpec) -> Outcome) -> LocalRun<W> {
        var orchestrator = Orchestrator(workflow: workflow)
        var records: [LogicalRecord] = []
        var digest = JournalDigest()
        var ready: [TaskSpec] = []
        func take(_ actions: [Action]) {
            for action in actions {
                switch action {
                case .dispatch(let spec, _): ready.append(spec)
                case .journal(let record, _):
                    records.append(record)
                    digest.append(record)
                case .finished: break
                }
            }
        }
        take(orchestrator.start())
        var next = 0
        while next < ready.count {
            let spec = ready[next]
            next += 1
            take(orchestrator.resultArrived(spec.id, perform(spec)))
        }
        return LocalRun(records: records, digest: digest, workflow: orchestrator.currentWorkflow)
    }
}

extension Orchestrator {
    /// ``runLocally(_:perform:)`` with work that suspends (the agents' workers).
    public static func runLocally(_ workflow: W, perform: (TaskSpec) async -> Outcome) async -> LocalRun<W> {
        var orchestrator = Orchestrator(workflow: workflow)
        var records: [LogicalRecord] = []
        var digest = JournalDigest()
        var ready: [TaskSpec] = []
        func take(_ actions: [Action]) {
            for action in actions {
                switch action {
                case .dispatch(let spec, _): ready.append(spec)
                case .journal(let record, _):
                    records.append(record)
                    digest.append(record)
                case .finished: break
                }
            }
        }
        take(orchestrator.start())
        var next = 0
        while next < ready.count {
            let spec = ready[next]
            next += 1
            take(orchestrator.resultArrived(spec.id, await perform(spec)))
        }
        return LocalRun(records: records, digest: digest, workflow: orchestrator.currentWorkflow)
    }
}
