public import MeshCore

/// A small workflow with dependent steps for the simulation: each job splits, runs two branches
/// on different roles in parallel, joins them (a step that waits for both), waits for a wake-up,
/// then publishes. Some jobs are made to fail on purpose: a branch whose kind of work no agent
/// can do (every candidate declines until the negotiation gives up) or a branch whose input the
/// worker rejects. A failed branch ends its job with a `fan.job` record naming the step.
///
/// Its work is ``FanInWorkflow/work``: `SHA-256(input ‖ task id)` like the relay's, or a
/// `.failed` for input that starts with `bad`.
public struct FanInWorkflow: Workflow {
    /// The kind of work of every step an agent can do.
    public static let work = "fan.hash"
    /// The kind of work no agent can do.
    public static let impossibleWork = "fan.impossible"

    /// How many jobs.
    public let jobs: Int
    /// The seed the modelled durations are drawn from.
    public let seed: UInt64

    private var branches: [Int: [String: [UInt8]]] = [:]
    private var ended: Set<Int> = []
    /// The published value of each job that finished.
    public private(set) var published: [Int: [UInt8]] = [:]
    /// The jobs that failed, with the step that failed.
    public private(set) var failedJobs: [Int: String] = [:]

    public init(jobs: Int, seed: UInt64) {
        precondition(jobs >= 1)
        self.jobs = jobs
        self.seed = seed
    }

    /// Whether job `job` is made to fail because no agent can do its right branch.
    public static func isImpossible(_ job: Int) -> Bool { job % 5 == 3 }
    /// Whether job `job` is made to fail because its left branch's input is bad.
    public static func isBad(_ job: Int) -> Bool { job % 5 == 4 }

    /// What an agent does with a task of this workflow; `nil` when it cannot do the work.
    public static func perform(work: String, task: TaskID, input: [UInt8]) -> TaskResult.Outcome? {
        guard work == Self.work else { return nil }
        if input.starts(with: Array("bad".utf8)) { return .failed("bad input for \(task)") }
        return .done(RelayWork.output(input: input, task: task))
    }

    public mutating func start() -> [WorkflowStep] {
        var steps: [WorkflowStep] = [
            .record(kind: "run.started", subject: "fan-in", fields: [.init("seed", String(self.seed)), .init("jobs", String(self.jobs))])
        ]
        for job in 0..<self.jobs {
            steps.append(.schedule(self.spec(job, "split", role: .useCase, input: Array("job-\(job)".utf8)), at: .milliseconds(UInt64(job) * 2)))
        }
        return steps
    }

    public mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] {
        let (job, step) = Self.parse(task.id)
        guard !self.ended.contains(job) else { return [] }
        switch step {
        case "split":
            let left = Self.isBad(job) ? Array("bad".utf8) + output : output
            return [
                .schedule(self.spec(job, "left", role: .data, input: left), at: at),
                .schedule(self.spec(job, "right", role: .compute, input: output, work: Self.isImpossible(job) ? Self.impossibleWork : Self.work), at: at),
            ]
        case "left", "right":
            self.branches[job, default: [:]][step] = output
            guard let left = self.branches[job]?["left"], let right = self.branches[job]?["right"] else { return [] }
            return [.schedule(self.spec(job, "join", role: .model, input: left + right), at: at)]
        case "join":
            return [.wake(tag: "publish/\(job)/" + Hex.encode(output), at: at.advanced(by: 10_000))]
        default:
            self.published[job] = output
            return self.end(job, [.init("value", Hex.encode(output))])
        }
    }

    public mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] {
        let (job, step) = Self.parse(task.id)
        guard !self.ended.contains(job) else { return [] }
        self.failedJobs[job] = step
        return self.end(job, [.init("failedAt", step)])
    }

    public mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] {
        let parts = tag.split(separator: "/")
        guard parts.count == 3, parts[0] == "publish", let job = Int(parts[1]), let input = Hex.decode(String(parts[2])) else { return [] }
        return [.schedule(self.spec(job, "publish", role: .pipeline, input: input), at: at)]
    }

    /// Recomputes every job's value without the mesh.
    public func audit() -> WorkflowAudit {
        var verified = 0
        for job in 0..<self.jobs {
            if Self.isImpossible(job) || Self.isBad(job) {
                if self.failedJobs[job] != nil, self.published[job] == nil { verified += 1 }
            } else if self.published[job] == Self.expectedValue(job: job) {
                verified += 1
            }
        }
        return WorkflowAudit(expectedTasks: self.jobs * 5, verified: verified, mismatched: self.jobs - verified)
    }

    /// The value a job that does not fail publishes, recomputed without the mesh.
    public static func expectedValue(job: Int) -> [UInt8] {
        func id(_ step: String) -> TaskID { TaskID(unchecked: "fan/\(job)/\(step)") }
        let split = RelayWork.output(input: Array("job-\(job)".utf8), task: id("split"))
        let left = RelayWork.output(input: split, task: id("left"))
        let right = RelayWork.output(input: split, task: id("right"))
        let join = RelayWork.output(input: left + right, task: id("join"))
        return RelayWork.output(input: join, task: id("publish"))
    }

    private mutating func end(_ job: Int, _ fields: [LogicalRecord.Field]) -> [WorkflowStep] {
        self.ended.insert(job)
        var steps: [WorkflowStep] = [.record(kind: "fan.job", subject: "fan/\(job)", fields: fields)]
        if self.ended.count == self.jobs { steps.append(.finish) }
        return steps
    }

    private func spec(_ job: Int, _ step: String, role: Role, input: [UInt8], work: String = Self.work) -> TaskSpec {
        let id = TaskID(unchecked: "fan/\(job)/\(step)")
        var rng = SeededRandom(seed: self.seed, key: id.rawValue)
        return TaskSpec(id: id, role: role, work: work, input: input, duration: UInt64(rng.next(in: 1_000...8_000)))
    }

    private static func parse(_ id: TaskID) -> (job: Int, step: String) {
        let parts = id.rawValue.split(separator: "/")
        precondition(parts.count == 3, "not a fan-in task id: \(id)")
        return (Int(parts[1])!, String(parts[2]))
    }
}
