internal import Crypto

/// The runtime's own throughput scenario: tokens handed off use case → data → model → pipeline →
/// monitoring → model (feedback), every hand-off negotiated, with no domain work.
///
/// Each stage's agent computes `SHA-256(input ‖ task id)` (``RelayWork``), so the final value of a
/// token proves every stage ran once, in order, on the right input; ``expectedFinalValue(token:)``
/// recomputes it independently for the audit.
public struct RelayWorkflow: Workflow {
    /// The kind of work of every relay task.
    public static let work = "relay.hash"
    /// The stages a token visits.
    public static let stages: [Role] = [.useCase, .data, .model, .pipeline, .monitoring, .model]

    /// How many tokens.
    public let tokens: Int
    /// The scenario's seed (modelled durations are drawn from it).
    public let seed: UInt64
    /// Simulated microseconds between two token arrivals.
    public let interarrival: UInt64
    /// Modelled stage durations are uniform in this range, in microseconds.
    public let durationRange: ClosedRange<Int>

    /// Tokens that went through every stage.
    public private(set) var finishedTokens = 0
    /// Tasks that failed for good.
    public private(set) var failedTasks = 0
    /// The final value of each finished token.
    public private(set) var finalValues: [Int: [UInt8]] = [:]

    public init(tokens: Int, seed: UInt64, interarrival: UInt64 = 1_000, durationRange: ClosedRange<Int> = 1_000...5_000) {
        precondition(tokens >= 0 && durationRange.lowerBound >= 0)
        self.tokens = tokens
        self.seed = seed
        self.interarrival = interarrival
        self.durationRange = durationRange
    }

    /// How many hand-offs a complete run commits.
    public var expectedHandoffs: Int { self.tokens * Self.stages.count }

    /// The task id of `token` at `stage`.
    public static func taskID(token: Int, stage: Int) -> TaskID {
        let digits = String(token)
        return TaskID(unchecked: "relay/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "/\(stage)")
    }

    /// The token's value before its first stage.
    public static func initialValue(token: Int) -> [UInt8] { Array("token-\(token)".utf8) }

    /// The value a token must end with, recomputed without the mesh.
    public static func expectedFinalValue(token: Int) -> [UInt8] {
        var value = initialValue(token: token)
        for stage in stages.indices { value = RelayWork.output(input: value, task: taskID(token: token, stage: stage)) }
        return value
    }

    /// How many token arrivals are scheduled at once; the next batch is scheduled by a wake-up at
    /// its first arrival, so memory stays flat however many tokens a scenario asks for.
    static let arrivalBatch = 256

    public mutating func start() -> [WorkflowStep] {
        var steps: [WorkflowStep] = [
            .record(kind: "run.started", subject: "relay", fields: [
                .init("seed", String(self.seed)), .init("tokens", String(self.tokens)),
                .init("stages", Self.stages.map(\.rawValue).joined(separator: ",")),
            ])
        ]
        steps += self.scheduleArrivals(from: 0)
        if self.tokens == 0 { steps.append(.finish) }
        return steps
    }

    private func arrival(of token: Int) -> SimTime {
        SimTime(microseconds: UInt64(token) * self.interarrival)
    }

    private func scheduleArrivals(from first: Int) -> [WorkflowStep] {
        let last = min(self.tokens, first + Self.arrivalBatch)
        var steps: [WorkflowStep] = (first..<last).map { token in
            .schedule(self.spec(token: token, stage: 0, input: Self.initialValue(token: token)), at: self.arrival(of: token))
        }
        if last < self.tokens { steps.append(.wake(tag: "arrivals/\(last)", at: self.arrival(of: last))) }
        return steps
    }

    public mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] {
        let (token, stage) = Self.parse(task.id)
        if stage + 1 < Self.stages.count {
            return [.schedule(self.spec(token: token, stage: stage + 1, input: output), at: at)]
        }
        self.finalValues[token] = output
        return self.tokenEnded(token: token, fields: [.init("value", Hex.encode(output))])
    }

    public mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] {
        self.failedTasks += 1
        let (token, stage) = Self.parse(task.id)
        return self.tokenEnded(token: token, fields: [.init("failedAt", String(stage))])
    }

    public mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] {
        guard tag.hasPrefix("arrivals/"), let first = Int(tag.dropFirst("arrivals/".count)) else { return [] }
        return self.scheduleArrivals(from: first)
    }

    /// Recomputes every token's chain without the mesh and compares it with the value the mesh produced.
    public func audit() -> WorkflowAudit {
        var verified = 0
        for token in 0..<self.tokens where self.finalValues[token] == Self.expectedFinalValue(token: token) {
            verified += 1
        }
        return WorkflowAudit(expectedTasks: self.expectedHandoffs, verified: verified, mismatched: self.tokens - verified)
    }

    private mutating func tokenEnded(token: Int, fields: [LogicalRecord.Field]) -> [WorkflowStep] {
        self.finishedTokens += 1
        var steps: [WorkflowStep] = [.record(kind: "relay.token", subject: Self.taskID(token: token, stage: 0).rawValue, fields: fields)]
        if self.finishedTokens == self.tokens { steps.append(.finish) }
        return steps
    }

    private func spec(token: Int, stage: Int, input: [UInt8]) -> TaskSpec {
        let id = Self.taskID(token: token, stage: stage)
        var rng = SeededRandom(seed: self.seed, key: id.rawValue)
        let duration = UInt64(rng.next(in: self.durationRange))
        return TaskSpec(id: id, role: Self.stages[stage], work: Self.work, input: input, duration: duration)
    }

    private static func parse(_ id: TaskID) -> (token: Int, stage: Int) {
        let parts = id.rawValue.split(separator: "/")
        precondition(parts.count == 3, "not a relay task id: \(id)")
        return (Int(parts[1])!, Int(parts[2])!)
    }
}

/// The work of one relay stage: `SHA-256(input ‖ task id)`.
public enum RelayWork {
    /// The output of a relay stage.
    public static func output(input: [UInt8], task: TaskID) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: input)
        hasher.update(data: Array(task.rawValue.utf8))
        return Array(hasher.finalize())
    }
}
