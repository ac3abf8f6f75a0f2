public import MeshCore

/// A task an agent was awarded, as its worker sees it.
public struct Assignment: Sendable, Equatable {
    /// The task.
    public var task: TaskID
    /// The kind of work.
    public var work: String
    /// The input.
    public var input: [UInt8]
    /// The simulated time the task starts (from the award's envelope).
    public var simTime: SimTime

    public init(task: TaskID, work: String, input: [UInt8], simTime: SimTime) {
        self.task = task
        self.work = work
        self.input = input
        self.simTime = simTime
    }
}

/// What an agent of a role does with the tasks it is awarded.
///
/// The agent calls ``perform(_:)`` from a child task, so a worker may take long; heavy
/// computation belongs on a worker's own thread, never on the cooperative pool.
public protocol Worker: Sendable {
    /// Whether this worker can do `work` (the agent declines calls for anything else).
    func canDo(_ work: String) -> Bool
    /// Does the task. `.failed` means nobody could do it (bad input); it is not retried.
    func perform(_ assignment: Assignment) async -> TaskResult.Outcome
}

/// The relay's worker: `SHA-256(input ‖ task id)`, the same for every role.
public struct RelayWorker: Worker {
    public init() {}

    public func canDo(_ work: String) -> Bool { work == RelayWorkflow.work }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        .done(RelayWork.output(input: assignment.input, task: assignment.task))
    }
}
