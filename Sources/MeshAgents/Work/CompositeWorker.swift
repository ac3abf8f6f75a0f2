public import MeshCore

/// Several workers as one: an agent that does the relay's work and its role's domain work.
///
/// A task goes to the first worker that can do its work; the agent declines calls none can do.
///
/// ```swift
/// let worker = CompositeWorker([RelayWorker(), ComputeWorker(port: node)])
/// ```
public struct CompositeWorker: Worker {
    /// The workers, in the order they are asked.
    public let workers: [any Worker]

    /// Combines `workers`; earlier ones win when several can do a work.
    public init(_ workers: [any Worker]) {
        self.workers = workers
    }

    /// True when some worker can do `work`.
    public func canDo(_ work: String) -> Bool { self.workers.contains { $0.canDo(work) } }

    /// Hands the task to the first worker that can do it.
    public func perform(_ assignment: Assignment) async -> TaskResult.Outcome {
        guard let worker = self.workers.first(where: { $0.canDo(assignment.work) }) else {
            return .failed("no worker here does \(assignment.work)")
        }
        return await worker.perform(assignment)
    }

    /// Hands the task to the first worker that can do it, with its telemetry.
    public func performReporting(_ assignment: Assignment) async -> WorkReport {
        guard let worker = self.workers.first(where: { $0.canDo(assignment.work) }) else {
            return WorkReport(.failed("no worker here does \(assignment.work)"))
        }
        return await worker.performReporting(assignment)
    }
}
