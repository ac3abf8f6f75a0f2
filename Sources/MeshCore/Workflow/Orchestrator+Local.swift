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
        var run = LocalDriver(workflow: workflow)
        while let spec = run.nextTask() { run.arrived(spec, perform(spec)) }
        return run.result
    }

    /// ``runLocally(_:perform:)`` with work that suspends (the agents' workers).
    public static func runLocally(_ workflow: W, perform: (TaskSpec) async -> Outcome) async -> LocalRun<W> {
        var run = LocalDriver(workflow: workflow)
        while let spec = run.nextTask() { run.arrived(spec, await perform(spec)) }
        return run.result
    }
}

/// The orchestrator driven without a mesh: dispatched tasks queue up in order, journal records
/// are collected and hashed.
private struct LocalDriver<W: Workflow> {
    var orchestrator: Orchestrator<W>
    var records: [LogicalRecord] = []
    var digest = JournalDigest()
    var ready: [TaskSpec] = []
    var next = 0

    init(workflow: W) {
        self.orchestrator = Orchestrator(workflow: workflow)
        self.take(self.orchestrator.start())
    }

    /// The next dispatched task not yet done, in dispatch order.
    mutating func nextTask() -> TaskSpec? {
        guard self.next < self.ready.count else { return nil }
        self.next += 1
        return self.ready[self.next - 1]
    }

    mutating func arrived(_ spec: TaskSpec, _ outcome: Orchestrator<W>.Outcome) {
        self.take(self.orchestrator.resultArrived(spec.id, outcome))
    }

    var result: LocalRun<W> {
        LocalRun(records: self.records, digest: self.digest, workflow: self.orchestrator.currentWorkflow)
    }

    private mutating func take(_ actions: [Orchestrator<W>.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let spec, _): self.ready.append(spec)
            case .journal(let record, _):
                self.records.append(record)
                self.digest.append(record)
            case .finished: break
            }
        }
    }
}
