internal import HeapModule

/// Turns physically concurrent, out-of-order task results into one logical history, as a
/// sans-I/O state machine owned by the coordinator.
///
/// Every task's completion time is known when it is scheduled (start + modelled duration), so
/// the orchestrator keeps a queue of future events ordered by (simulated time, tie-break) and
/// commits the head only when it is ready: a wake-up always is, a completion once its result has
/// arrived. Results that arrive early wait; simulated time advances only when nothing earlier
/// can still happen. Work itself runs in parallel as soon as it is scheduled. The committed
/// order — and so the journal and its digest — never depends on which process was faster.
///
/// ```swift
/// var orchestrator = Orchestrator(workflow: RelayWorkflow(…))
/// perform(orchestrator.start())                        // .dispatch / .journal actions
/// perform(orchestrator.resultArrived(task, .done(output)))
/// ```
public struct Orchestrator<W: Workflow>: Sendable {
    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Negotiate this task now (physically); its simulated start time is `at`.
        case dispatch(TaskSpec, at: SimTime)
        /// Append this record to the logical journal (before acting on anything after it).
        /// `payload` is a `task.done` record's output, which a journal keeps so that a restarted
        /// coordinator can feed it back to the workflow (``restore(_:from:)``).
        case journal(LogicalRecord, payload: [UInt8]?)
        /// The workflow finished and nothing is in flight: the run is over.
        case finished
    }

    /// What came of a task, as the negotiation reports it.
    public enum Outcome: Sendable, Equatable {
        case done([UInt8])
        case failed(String)
    }

    private struct Event: Comparable {
        enum Payload {
            case completion(TaskID)
            case wake(String)
        }

        var time: SimTime
        var rank: UInt8
        var name: String
        var payload: Payload

        static func < (lhs: Event, rhs: Event) -> Bool {
            (lhs.time, lhs.rank, lhs.name) < (rhs.time, rhs.rank, rhs.name)
        }

        static func == (lhs: Event, rhs: Event) -> Bool {
            (lhs.time, lhs.rank, lhs.name) == (rhs.time, rhs.rank, rhs.name)
        }
    }

    private var workflow: W
    private var queue = Heap<Event>()
    private var inFlight: [TaskID: (spec: TaskSpec, start: SimTime)] = [:]

    /// Tasks scheduled and not yet committed, in start order: what a restarted coordinator re-drives.
    public var inFlightTasks: [(spec: TaskSpec, start: SimTime)] {
        self.inFlight.values.sorted { ($0.start, $0.spec.id) < ($1.start, $1.spec.id) }
    }
    private var arrived: [TaskID: Outcome] = [:]
    private var workflowFinished = false
    private var ended = false

    /// The simulated time of the last committed event.
    public private(set) var now: SimTime = .zero
    /// How many task completions were committed.
    public private(set) var committedTasks = 0

    /// Makes an orchestrator for `workflow`.
    public init(workflow: W) {
        self.workflow = workflow
    }

    /// The workflow, for summaries.
    public var currentWorkflow: W { self.workflow }

    /// Tasks scheduled and not yet committed.
    public var pendingTasks: Int { self.inFlight.count }

    /// Follows `other`'s settings from now on (a what-if branch); false when the workflow cannot.
    public mutating func adoptSettings(of other: W) -> Bool {
        guard let branch = self.workflow.adoptingSettings(of: other) else { return false }
        self.workflow = branch
        return true
    }

    /// Whether the run is over.
    public var isFinished: Bool { self.ended }

    /// Starts the workflow at simulated time zero.
    public mutating func start() -> [Action] {
        var actions: [Action] = []
        self.apply(self.workflow.start(), into: &actions)
        self.advance(into: &actions)
        return actions
    }

    /// A task's result arrived (physically); it is committed when its simulated time comes.
    ///
    /// A second result for the same task, or one for a task not in flight, is ignored: the
    /// negotiation already fenced duplicates, and this keeps the journal exactly-once regardless.
    public mutating func resultArrived(_ task: TaskID, _ outcome: Outcome) -> [Action] {
        guard self.inFlight[task] != nil, self.arrived[task] == nil else { return [] }
        self.arrived[task] = outcome
        var actions: [Action] = []
        self.advance(into: &actions)
        return actions
    }

    private mutating func advance(into actions: inout [Action]) {
        while let head = self.queue.min {
            switch head.payload {
            case .completion(let id):
                guard let outcome = self.arrived.removeValue(forKey: id) else { return }
                _ = self.queue.removeMin()
                self.now = head.time
                let (spec, start) = self.inFlight.removeValue(forKey: id)!
                self.committedTasks += 1
                switch outcome {
                case .done(let output):
                    actions.append(.journal(
                        LogicalRecord(
                            time: head.time,
                            kind: "task.done",
                            subject: id.rawValue,
                            fields: [
                                .init("role", spec.role.rawValue), .init("work", spec.work),
                                .init("start", String(start.microseconds)), .init("output", Hex.sha256(output)),
                            ]),
                        payload: output))
                    self.apply(self.workflow.taskCompleted(spec, output: output, at: head.time), into: &actions)
                case .failed(let reason):
                    actions.append(.journal(
                        LogicalRecord(
                            time: head.time,
                            kind: "task.failed",
                            subject: id.rawValue,
                            fields: [.init("role", spec.role.rawValue), .init("work", spec.work), .init("reason", reason)]),
                        payload: nil))
                    self.apply(self.workflow.taskFailed(spec, reason: reason, at: head.time), into: &actions)
                }
            case .wake(let tag):
                _ = self.queue.removeMin()
                self.now = head.time
                self.apply(self.workflow.wake(tag, at: head.time), into: &actions)
            }
        }
        if self.workflowFinished, self.inFlight.isEmpty, !self.ended {
            self.ended = true
            actions.append(.finished)
        }
    }

    private mutating func apply(_ steps: [WorkflowStep], into actions: inout [Action]) {
        for step in steps {
            switch step {
            case .schedule(let spec, let at):
                precondition(at >= self.now, "workflow scheduled \(spec.id) in the past (\(at) < \(self.now))")
                precondition(self.inFlight[spec.id] == nil, "workflow scheduled \(spec.id) twice")
                self.inFlight[spec.id] = (spec, at)
                // A task that takes no simulated time still completes after everything already at `at`.
                let end = at.advanced(by: max(spec.duration, 1))
                self.queue.insert(Event(time: end, rank: 1, name: spec.id.rawValue, payload: .completion(spec.id)))
                actions.append(.dispatch(spec, at: at))
            case .record(let kind, let subject, let fields):
                actions.append(.journal(LogicalRecord(time: self.now, kind: kind, subject: subject, fields: fields), payload: nil))
            case .wake(let tag, let at):
                precondition(at >= self.now, "workflow woke \(tag) in the past")
                self.queue.insert(Event(time: at, rank: 0, name: tag, payload: .wake(tag)))
            case .finish:
                self.workflowFinished = true
            }
        }
    }
}
