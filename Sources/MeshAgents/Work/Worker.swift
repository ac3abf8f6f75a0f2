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
    /// Physical context from the award: the mesh's service directory.
    public var context: [String: String]

    public init(task: TaskID, work: String, input: [UInt8], simTime: SimTime, context: [String: String] = [:]) {
        self.task = task
        self.work = work
        self.input = input
        self.simTime = simTime
        self.context = context
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
    /// Does the task and reports physical telemetry beside its outcome (latencies, throughput:
    /// what differs run to run and so never goes into the output). By default, ``perform(_:)``
    /// with none.
    func performReporting(_ assignment: Assignment) async -> WorkReport
}

extension Worker {
    public func performReporting(_ assignment: Assignment) async -> WorkReport {
        WorkReport(await self.perform(assignment))
    }
}

/// A task's outcome and its physical telemetry (journaled physically, outside the digest).
public struct WorkReport: Sendable, Equatable {
    public var outcome: TaskResult.Outcome
    public var telemetry: [String: String]

    public init(_ outcome: TaskResult.Outcome, telemetry: [String: String] = [:]) {
        self.outcome = outcome
        self.telemetry = telemetry
    }
}

/// The relay's worker: `SHA-256(input ‖ task id)`, the same for every role.
public struct RelayWorker: Worker {
    public init() {}

    public func canDo(_ work: String) -> Bool { work == RelayWorkflow.work }

    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        .done(RelayWork.output(input: assignment.input, task: assignment.task))
    }
}
