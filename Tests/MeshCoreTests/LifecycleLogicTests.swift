import MeshCore
import Testing

/// The use case, model and oversight agents' logic, without processes.
@Suite("Lifecycle logic")
struct LifecycleLogicTests {
    static let zoo = ModelZoo(
        models: [
            .init(id: "softmax", architecture: "softmax"), .init(id: "mlp-64", architecture: "mlp:64"),
            .init(id: "mlp-128-64", architecture: "mlp:128,64"), .init(id: "mlp-256-128", architecture: "mlp:256,128"),
        ],
        pretrained: [.init(id: "base", architecture: "mlp:128,64", source: "digits", classes: [0, 1, 2, 3, 4], epochs: 30)])

    static func useCase(maxBytes: Int = 100_000, p99: Double = 5, budget: Double = 500) -> UseCaseSpec {
        UseCaseSpec(
            id: "digits", title: "digits", objective: .init(metric: "macro_f1", target: 0.95),
            constraints: .init(p99LatencyMilliseconds: p99, maxModelBytes: maxBytes, computeBudgetGFLOP: budget),
            dataPolicy: DataPolicy(piiAllowed: false, licences: ["CC-BY-4.0"], regions: ["eu"]), sources: ["digits"])
    }

    static func feasibility(_ useCase: UseCaseSpec, accepted: [String] = ["digits"], rejected: [FeasibilityRequest.RejectedSource] = [])
        -> FeasibilityReport
    {
        FeasibilityCheck.evaluate(FeasibilityRequest(
            useCase: useCase, acceptedSources: accepted, rejectedSources: rejected, features: 64, classes: 10, rows: 1797,
            zoo: Self.zoo, search: SearchSettings()))
    }

    @Test func architecturesCountParametersAndSizes() {
        let mlp = Architecture(parsing: "mlp:128,64")!
        #expect(mlp.parameters(features: 64, classes: 10) == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10)
        #expect(Architecture(parsing: "softmax")!.parameters(features: 64, classes: 10) == 650)
        #expect(Architecture(parsing: "mlp:") == nil && Architecture(parsing: "mlp:0") == nil && Architecture(parsing: "cnn") == nil)
        #expect(mlp.int8Bytes(features: 64, classes: 10) * 3 < mlp.fp32Bytes(features: 64, classes: 10))
    }

    @Test func aFeasibleUseCasePassesEveryCheck() {
        let report = Self.feasibility(Self.useCase())
        #expect(report.feasible)
        #expect(report.checks.map(\.name) == ["data", "model-fits", "budget"])
        #expect(report.fittingModels == ["softmax", "mlp-64", "mlp-128-64"])  // mlp-256-128 is over 100 kB
        #expect(report.estimatedGFLOP > 0 && report.estimatedGFLOP < 500)
    }

    @Test func noCompliantDataIsInfeasibleAndNamesTheRule() {
        let report = Self.feasibility(
            Self.useCase(), accepted: [], rejected: [.init(source: "people", rule: "pii-not-allowed", detail: "PII in name_code")])
        #expect(!report.feasible)
        #expect(report.summary.contains("pii-not-allowed"))
        #expect(report.summary.contains("people"))
    }

    @Test func constraintsNothingFitsAndBudgetsAreChecked() {
        let tiny = Self.feasibility(Self.useCase(maxBytes: 1_000))
        #expect(!tiny.feasible && tiny.checks[1].name == "model-fits" && !tiny.checks[1].passed)
        let fast = Self.feasibility(Self.useCase(p99: 0.1))
        #expect(!fast.feasible && fast.summary.contains("ms"))
        let poor = Self.feasibility(Self.useCase(budget: 0.001))
        #expect(!poor.feasible && poor.checks[2].name == "budget" && !poor.checks[2].passed)
    }

    @Test func selectionPicksTheLargestFittingModelsAndAMatchingBase() {
        let request = SelectionRequest(
            useCase: Self.useCase(), zoo: Self.zoo, features: 64, classes: 10, trainRows: 1258, source: "digits",
            search: SearchSettings(), seed: 42)
        let plan = ModelSelection.plan(request)
        #expect(plan.candidates == ["mlp-128-64", "mlp-64"])
        #expect(plan.base?.id == "base")
        // mlp-128-64: scratch and fine-tuned, 2 learning rates each; mlp-64: scratch, 2 rates.
        #expect(plan.trials.count == 6)
        #expect(plan.trials.filter { $0.base == "base" }.count == 2)
        #expect(Set(plan.trials.map(\.seed)).count == 6)
        #expect(plan.epochsWithPruning < plan.epochsWithoutPruning)
        #expect(plan.reasons.contains { $0.contains("mlp-256-128") && $0.contains("over") })
        #expect(ModelSelection.plan(request) == plan)
        var other = request
        other.source = "breast-cancer"
        #expect(ModelSelection.plan(other).base == nil)
    }

    @Test func successiveHalvingIsAFunctionOfTheScoresOnly() {
        let scores: [RungRequest.Score] = [
            .init(trial: "t0", validationAccuracy: 0.90, validationLoss: 0.4), .init(trial: "t1", validationAccuracy: 0.95, validationLoss: 0.3),
            .init(trial: "t2", validationAccuracy: 0.95, validationLoss: 0.2), .init(trial: "t3", validationAccuracy: 0.80, validationLoss: 0.9),
            .init(trial: "t4", validationAccuracy: 0.95, validationLoss: 0.2),
        ]
        var rng = SeededRandom(seed: 1, key: "order")
        var reference: RungDecision?
        for _ in 0..<10 {
            var shuffled = scores
            rng.shuffle(&shuffled)
            let decision = SuccessiveHalving.decide(RungRequest(rung: 0, scores: shuffled, keepFraction: 0.5, last: false))
            if reference == nil { reference = decision }
            #expect(decision == reference)
        }
        #expect(reference?.survivors == ["t2", "t4", "t1"])
        #expect(reference?.eliminated == ["t0", "t3"])
        let last = SuccessiveHalving.decide(RungRequest(rung: 2, scores: scores, keepFraction: 0.5, last: true))
        #expect(last.survivors == ["t2"])
    }

    @Test func halvingCostsFewerEpochsThanTheFullSearch() {
        let epochs = SearchCost.epochs(trials: 8, rungEpochs: [10, 30, 60], keep: 0.5)
        #expect(epochs.pruned == 8 * 10 + 4 * 20 + 2 * 30)
        #expect(epochs.unpruned == 480)
    }

    @Test func theScriptedHumanIsDeterministicPerTaskAndFollowsItsPolicy() {
        let task = TaskID(unchecked: "uc/x/gate")
        var policy = HumanPolicy()
        let request = GateRequest(useCase: "x", gate: .modelAcceptance, evidence: ["fine"], recommendation: true, seed: 7, policy: policy)
        #expect(ScriptedHuman.decide(request, task: task).approved)
        #expect(ScriptedHuman.decide(request, task: task) == ScriptedHuman.decide(request, task: task))
        var against = request
        against.recommendation = false
        #expect(!ScriptedHuman.decide(against, task: task).approved)
        policy.rejectProbability = 1
        var strict = request
        strict.policy = policy
        #expect(!ScriptedHuman.decide(strict, task: task).approved)
        var infeasible = request
        infeasible.gate = .infeasible
        infeasible.evidence = ["data: no compliant source"]
        #expect(!ScriptedHuman.decide(infeasible, task: task).approved)
        infeasible.policy.onInfeasible = "override"
        #expect(ScriptedHuman.decide(infeasible, task: task).approved)
        let delay = ScriptedHuman.delay(policy: HumanPolicy(delayMinutes: 60, jitterMinutes: 30), seed: 7, task: task)
        #expect(delay >= 3_600_000_000 && delay <= 5_400_000_000)
        #expect(delay == ScriptedHuman.delay(policy: HumanPolicy(delayMinutes: 60, jitterMinutes: 30), seed: 7, task: task))
    }

    @Test func registrationKeepsTheLineageAndJudgesTheObjective() {
        let trial = TrialConfig(id: "t2", model: "mlp-128-64", architecture: "mlp:128,64", learningRate: 0.003, base: "base", seed: 9)
        let evaluation = EvaluationSummary(
            accuracy: 0.97, macroF1: 0.969, expectedCalibrationError: 0.02, negativeLogLikelihood: 0.1, worstClasses: [8],
            confusedPairs: ["8→1×3"])
        let record = ModelRegistration.register(RegistrationRequest(
            useCase: Self.useCase(), version: 1, trial: trial, epochs: 60, batchSize: 32, l2: 1e-4, dataset: "sha256:ab",
            source: "digits", weights: "sha256:cd", weightsBytes: 70_000, evaluation: evaluation))
        #expect(record.label == "digits@v1")
        #expect(record.meetsObjective)
        #expect(record.lineage.base == "base" && record.lineage.dataset == "sha256:ab" && record.lineage.seed == 9)
        var worse = evaluation
        worse.macroF1 = 0.9
        #expect(!ModelRegistration.register(RegistrationRequest(
            useCase: Self.useCase(), version: 2, trial: trial, epochs: 60, batchSize: 32, l2: 1e-4, dataset: "d", source: "digits",
            weights: "w", weightsBytes: 1, evaluation: worse)).meetsObjective)
    }

    @Test func recordBodiesAreCanonical() throws {
        let plan = ModelSelection.plan(SelectionRequest(
            useCase: Self.useCase(), zoo: Self.zoo, features: 64, classes: 10, trainRows: 100, source: "digits",
            search: SearchSettings(), seed: 1))
        let bytes = CanonicalJSON.encode(plan)
        let decoded = try CanonicalJSON.decode(ModelPlan.self, from: bytes, what: "plan")
        #expect(bytes == CanonicalJSON.encode(decoded))
        #expect { try CanonicalJSON.decode(ModelPlan.self, from: Array(bytes.dropLast()), what: "plan") } throws: {
            ($0 as? WireError)?.code == .invalidField
        }
    }
}
