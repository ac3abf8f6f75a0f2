/// The outcome of running a workflow to its end without a mesh.
public struct LocalRun<W: Workflow>: Sendable {
    /// The logical records, in order.
    public var records: [LogicalRecord]
    /// Their running digest.
    public var digest: JournalDigest
    /// The workflow as it ended.
    public var workflow: W
    /// Each record's payload (a `task.done` record's output; nil for others), by position.
    public var payloads: [[UInt8]?]
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

    /// Goes on from a restored orchestrator (``restore(_:from:)``) to the end: its in-flight
    /// tasks first, in start order, then whatever follows. `records` and `payloads` are the
    /// journal's so far; the result holds them and the new ones.
    public static func continueLocally(
        from restored: RestoredOrchestrator<W>, records: [LogicalRecord], payloads: [[UInt8]?],
        perform: (TaskSpec) async -> Outcome
    ) async -> LocalRun<W> {
        var run = LocalDriver(restored: restored, records: records, payloads: payloads)
        while let spec = run.nextTask() { run.arrived(spec, await perform(spec)) }
        return run.result
    }
}

/// The orchestrator driven without a mesh: dispatched tasks queue up in order, journal records
/// are collected and hashed.
private struct LocalDriver<W: Workflow> {
    var orchestrator: Orchestrator<W>
    var records: [LogicalRecord] = []
    var payloads: [[UInt8]?] = []
    var digest = JournalDigest()
    var ready: [TaskSpec] = []
    var next = 0

    init(workflow: W) {
        self.orchestrator = Orchestrator(workflow: workflow)
        self.take(self.orchestrator.start())
    }

    init(restored: RestoredOrchestrator<W>, records: [LogicalRecord], payloads: [[UInt8]?]) {
        precondition(records.count == payloads.count, "a payload (or nil) for every record")
        self.orchestrator = restored.orchestrator
        self.records = records
        self.payloads = payloads
        self.digest = restored.digest
        self.ready = restored.inFlight.map(\.spec)
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
        LocalRun(records: self.records, digest: self.digest, workflow: self.orchestrator.currentWorkflow, payloads: self.payloads)
    }

    private mutating func take(_ actions: [Orchestrator<W>.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let spec, _): self.ready.append(spec)
            case .journal(let record, let payload):
                self.records.append(record)
                self.payloads.append(payload)
                self.digest.append(record)
            case .finished: break
            }
        }
    }
}
