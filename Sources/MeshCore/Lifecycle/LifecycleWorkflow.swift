/// The ML lifecycle as a workflow: each use case goes intake → discovery → feasibility → human
/// gate → data preparation → model selection → (pretraining) → a successive-halving search on
/// the compute nodes → evaluation → registration → human gate, every step a task negotiated with
/// the agents of its role.
///
/// Pure and deterministic: it sees results only in simulated-time order and decides from them
/// alone; the cost model below gives every task its simulated duration.
///
/// Cost model (simulated time, documented in docs/ARCHITECTURE.md):
/// - intake 5 min; discovery 1 min + 30 s per catalog source; feasibility 10 min; selection
///   5 min; a rung decision 1 min; registration 2 min;
/// - data preparation 2 min + 1 s per 100,000 cells read;
/// - training: 30 s + the epochs' FLOPs (3 forward passes a row) at the zoo device's training
///   GFLOP/s; evaluation: 30 s + the forward FLOPs of the test rows;
/// - a human gate: the policy's delay plus a seeded jitter.
public struct LifecycleWorkflow: Workflow {
    /// The resolved scenario.
    public private(set) var spec: LifecycleSpec
    /// The scenario's seed.
    public let seed: UInt64

    var cases: [Case]
    var pending: [TaskID: Pending] = [:]
    var scheduled = 0

    /// The stage a task stands for.
    enum Step: Sendable {
        case intake, discover, feasibility, gate(GateRequest.Gate), prepare, select, pretrain
        case trial(String, rung: Int), rung(Int), evaluate, register
        case quantize, evaluateInt8, deploy, servingTest, promote, window(Int), expand, retrain, notify(Int)
    }

    struct Pending: Sendable {
        var index: Int
        var step: Step
    }

    /// One use case's progress.
    struct Case: Sendable {
        var spec: UseCaseSpec
        var accepted: [String] = []
        var rejected: [FeasibilityRequest.RejectedSource] = []
        var source: CatalogSource?
        var dataset: PreparedDataset?
        var datasetHash = ""
        var plan: ModelPlan?
        var baseWeights: SerializedWeights?
        var rung = 0
        var alive: [String] = []
        var weights: [String: SerializedWeights] = [:]
        var epochsTrained: [String: Int] = [:]
        var scores: [String: RungRequest.Score] = [:]
        var awaiting = 0
        var best: String?
        var evaluation: EvaluationSummary?
        var record: ModelVersionRecord?
        var version = 0
        var outcome: UseCaseOutcome?
        /// 1, then one more for each retraining (it prefixes the retraining's task ids).
        var generation = 1
        var serving = Serving()
    }

    /// Makes the workflow for `spec` under `seed`.
    public init(spec: LifecycleSpec, seed: UInt64) {
        self.spec = spec
        self.seed = seed
        self.cases = spec.useCases.map { Case(spec: $0) }
    }

    /// How each use case ended so far.
    public var outcomes: [UseCaseOutcome] {
        self.cases.map {
            $0.outcome ?? UseCaseOutcome(id: $0.spec.id, state: "running", reason: "not finished")
        }
    }

    public mutating func start() -> [WorkflowStep] {
        var steps: [WorkflowStep] = [
            .record(kind: "run.started", subject: "lifecycle", fields: [
                .init("seed", String(self.seed)), .init("use_cases", self.spec.useCases.map(\.id).joined(separator: ",")),
            ])
        ]
        for source in self.spec.catalog {
            let location: String
            switch source.kind {
            case .csv(let path): location = path
            case .synthetic: location = "generator"
            case .stream: location = "stream"
            }
            steps.append(.record(kind: "catalog.source", subject: source.id, fields: [
                .init("kind", source.kind.name), .init("location", location), .init("licence", source.licence),
                .init("region", source.region), .init("pii", String(source.pii)),
            ]))
        }
        for index in self.cases.indices {
            steps.append(self.schedule(
                index, .intake, role: .useCase, work: LifecycleWork.intake, input: CanonicalJSON.encode(self.cases[index].spec),
                duration: Self.minutes(5), at: .zero))
        }
        if self.cases.isEmpty { steps.append(.finish) }
        return steps
    }

    public mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] {
        guard let pending = self.pending.removeValue(forKey: task.id) else { return [] }
        do {
            return try self.advance(pending.index, pending.step, output: output, at: at)
        } catch {
            return self.end(pending.index, state: "failed", reason: "\(task.id): unreadable result: \(error)")
        }
    }

    public mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] {
        guard let pending = self.pending.removeValue(forKey: task.id) else { return [] }
        let index = pending.index
        switch pending.step {
        case .prepare:
            // A source that cannot be read waits for a human decision instead of failing the run.
            return [.record(kind: "data.failed", subject: self.cases[index].spec.id, fields: [.init("reason", reason)])]
                + self.gate(index, .dataFailure, evidence: [reason], recommendation: false, at: at)
        case .expand:
            // The feedback loop could not expand the data: production stays as it is.
            return [.record(kind: "retrain.failed", subject: self.cases[index].spec.id, fields: [.init("reason", reason)])]
                + self.retrainEnded(index, at: at)
        default:
            return self.end(index, state: "failed", reason: "\(task.id) failed: \(reason)")
        }
    }

    public mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] {
        if tag.hasPrefix("outage/"), let index = Int(tag.dropFirst("outage/".count)), self.cases.indices.contains(index),
            self.cases[index].outcome == nil
        {
            return self.prepare(index, at: at)
        }
        return self.windowDue(tag, at: at)
    }

    public func audit() -> WorkflowAudit {
        let finished = self.cases.filter { $0.outcome != nil }.count
        return WorkflowAudit(
            expectedTasks: self.scheduled, verified: finished, mismatched: self.cases.count - finished, useCases: self.outcomes)
    }

    // MARK: - Scheduling

    mutating func schedule(
        _ index: Int, _ step: Step, role: Role, work: String, input: [UInt8], duration: UInt64, at: SimTime
    ) -> WorkflowStep {
        let id = self.taskID(index, step)
        self.pending[id] = Pending(index: index, step: step)
        self.scheduled += 1
        return .schedule(TaskSpec(id: id, role: role, work: work, input: input, duration: max(duration, 1)), at: at)
    }

    func taskID(_ index: Int, _ step: Step) -> TaskID {
        let name: String
        switch step {
        case .intake: name = "intake"
        case .discover: name = "discover"
        case .feasibility: name = "feasibility"
        case .gate(let gate): name = "gate-\(gate.rawValue)"
        case .prepare: name = "prepare"
        case .select: name = "select"
        case .pretrain: name = "pretrain"
        case .trial(let trial, let rung): name = "r\(rung)/\(trial)"
        case .rung(let rung): name = "rung\(rung)"
        case .evaluate: name = "evaluate"
        case .register: name = "register"
        case .quantize: name = "quantize"
        case .evaluateInt8: name = "evaluate-int8"
        case .deploy: name = "deploy"
        case .servingTest: name = "serving-test"
        case .promote: name = "promote"
        case .window(let window): return TaskID(unchecked: "uc/\(self.cases[index].spec.id)/window/\(window)")
        case .notify(let number): return TaskID(unchecked: "uc/\(self.cases[index].spec.id)/notify/\(number)")
        case .expand: name = "expand"
        case .retrain: name = "retrain"
        }
        let generation = self.cases[index].generation
        return TaskID(unchecked: "uc/\(self.cases[index].spec.id)/\(generation > 1 ? "g\(generation)/" : "")\(name)")
    }

    mutating func end(_ index: Int, state: String, reason: String) -> [WorkflowStep] {
        guard self.cases[index].outcome == nil else { return [] }
        let record = self.cases[index].record
        let serving = self.cases[index].serving
        var outcome = UseCaseOutcome(
            id: self.cases[index].spec.id, state: state, model: state == "accepted" ? record?.label : nil,
            testAccuracy: record?.metrics.accuracy, testMacroF1: record?.metrics.macroF1, reason: reason)
        if self.spec.serving != nil {
            if let production = serving.productionVersion, let name = record?.name {
                outcome.model = state == "accepted" ? "\(name)@v\(production)" : nil
                outcome.production = "\(name)@v\(production)"
            }
            outcome.deployments = serving.deployments
            outcome.promotions = serving.promotions
        }
        if self.spec.monitoring != nil {
            outcome.alerts = serving.alertsFired
            outcome.retrains = serving.retrains
            outcome.accuracyBeforeDrift = serving.beforeDrift.accuracy
            outcome.accuracyOnDriftBeforeRetrain = serving.driftBeforeRetrain.accuracy
            outcome.accuracyOnDriftAfterRetrain = serving.driftAfterRetrain.accuracy
        }
        self.cases[index].outcome = outcome
        var steps: [WorkflowStep] = [
            .record(kind: "usecase.ended", subject: outcome.id, fields: [
                .init("state", state), .init("model", outcome.model ?? ""), .init("reason", reason),
            ])
        ]
        if self.cases.allSatisfy({ $0.outcome != nil }) { steps.append(.finish) }
        return steps
    }

    mutating func gate(
        _ index: Int, _ gate: GateRequest.Gate, evidence: [String], recommendation: Bool, at: SimTime
    ) -> [WorkflowStep] {
        let request = GateRequest(
            useCase: self.cases[index].spec.id, gate: gate, evidence: evidence, recommendation: recommendation, seed: self.seed,
            policy: self.spec.human)
        let id = self.taskID(index, .gate(gate))
        let delay = ScriptedHuman.delay(policy: self.spec.human, seed: self.seed, task: id, gate: gate)
        return [self.schedule(
            index, .gate(gate), role: .oversight, work: LifecycleWork.gate, input: CanonicalJSON.encode(request), duration: delay, at: at)]
    }

    static func minutes(_ value: Double) -> UInt64 { UInt64(value * 60_000_000) }

    static func seconds(_ value: Double) -> UInt64 { UInt64(value * 1_000_000) }
}

extension LifecycleWorkflow {
    /// A what-if branch: the same use cases in the same state, deciding from now on with
    /// `other`'s settings (human policy, search, serving, the monitoring rule and retraining).
    /// Alert rules already tracking keep theirs. Nil when the use cases, catalog or zoo differ:
    /// the state would not mean the same.
    public func adoptingSettings(of other: LifecycleWorkflow) -> LifecycleWorkflow? {
        guard other.spec.useCases == self.spec.useCases, other.spec.catalog == self.spec.catalog, other.spec.zoo == self.spec.zoo
        else { return nil }
        var branch = self
        branch.spec = other.spec
        return branch
    }
}
