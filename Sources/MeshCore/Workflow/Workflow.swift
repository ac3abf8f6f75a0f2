/// A task the workflow wants done by some agent of a role, with its modelled duration.
public struct TaskSpec: Sendable, Equatable {
    /// The task's logical id.
    public var id: TaskID
    /// The role whose instances may do it.
    public var role: Role
    /// The kind of work (the agent's worker decides how).
    public var work: String
    /// The input, sent with the award.
    public var input: [UInt8]
    /// How long the task takes in simulated time (the cost model's figure, decided when the task is made).
    public var duration: UInt64

    public init(id: TaskID, role: Role, work: String, input: [UInt8], duration: UInt64) {
        self.id = id
        self.role = role
        self.work = work
        self.input = input
        self.duration = duration
    }
}

/// What a workflow asks of the orchestrator.
public enum WorkflowStep: Sendable, Equatable {
    /// Start `task` at simulated time `at` (no earlier than now); it completes at `at + duration`.
    case schedule(TaskSpec, at: SimTime)
    /// Journal this fact at the current simulated time.
    case record(kind: String, subject: String, fields: [LogicalRecord.Field])
    /// Call ``Workflow/wake(_:at:)`` with `tag` at simulated time `at`.
    case wake(tag: String, at: SimTime)
    /// The workflow is over; the run ends when nothing is in flight.
    case finish
}

/// The logic of a scenario: which tasks follow which, as a pure, deterministic function of the
/// results it is given in simulated-time order.
///
/// The orchestrator calls it only in the order of simulated time (ties broken by a fixed rule),
/// so a workflow never sees physical timing.
public protocol Workflow: Sendable {
    /// The first steps, at simulated time zero.
    mutating func start() -> [WorkflowStep]
    /// `task` finished at `at` with `output`.
    mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep]
    /// `task` failed for good at `at`.
    mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep]
    /// A wake-up the workflow asked for.
    mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep]
    /// Checks the outcome independently of the mesh (recomputing what it can), for the summary.
    func audit() -> WorkflowAudit
    /// This workflow in its current state, following `other`'s settings from now on: a what-if
    /// branch (`meshwork replay --from`). Nil when the workflow cannot change settings mid-run.
    func adoptingSettings(of other: Self) -> Self?
}

extension Workflow {
    /// Workflows change no settings mid-run unless they say how.
    public func adoptingSettings(of other: Self) -> Self? { nil }
}

/// A workflow's own check of a finished run.
public struct WorkflowAudit: Sendable, Equatable, Codable {
    /// How many tasks a complete run commits.
    public var expectedTasks: Int
    /// Units of work (tokens, use cases) whose result was recomputed and matched.
    public var verified: Int
    /// Units whose result did not match, or that never finished.
    public var mismatched: Int
    /// How each use case ended (lifecycle workflows only).
    public var useCases: [UseCaseOutcome]

    public init(expectedTasks: Int, verified: Int, mismatched: Int, useCases: [UseCaseOutcome] = []) {
        self.expectedTasks = expectedTasks
        self.verified = verified
        self.mismatched = mismatched
        self.useCases = useCases
    }
}
