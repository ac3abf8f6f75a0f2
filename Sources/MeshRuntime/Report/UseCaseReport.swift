public import MeshCore

/// One use case of a run's report: what the journal recorded about it, stage by stage.
///
/// Text fields hold the journal's values as written; measured figures are parsed into numbers
/// (nil when absent or unreadable). Lists are in journal order.
public struct UseCaseReport: Sendable, Equatable {
    /// A line of the timeline: when, which stage, what happened.
    public struct TimelineEntry: Sendable, Equatable {
        /// When it happened (simulated).
        public var time: SimTime
        /// The lifecycle stage, such as `gate` or `deployed`.
        public var stage: String
        /// What happened, in one line.
        public var text: String
    }

    /// A dataset version (`dataset.version`).
    public struct DatasetRow: Sendable, Equatable {
        /// When the version was recorded.
        public var time: SimTime
        /// Its content hash, `sha256:` + hex.
        public var hash: String
        /// The catalog source it came from.
        public var source: String
        /// `train/val/test` row counts.
        public var rows: String
        /// Feature columns (carried over from the version before when not recorded).
        public var features: Int?
        /// Classes of the label.
        public var classes: Int?
        /// The retraining generation that made it (1 for the first).
        public var generation: Int
        /// What preparation did (imputed, duplicates, clipped; or rows added by retraining).
        public var preparation: String
    }

    /// One rung of the successive-halving search (`search.rung`).
    public struct Rung: Sendable, Equatable {
        /// When the rung was decided.
        public var time: SimTime
        /// The rung's number, from 0.
        public var rung: Int
        /// Trials kept for the next rung.
        public var survivors: [String]
        /// Trials dropped.
        public var eliminated: [String]
        /// Validation scores by trial, as recorded.
        public var scores: [(trial: String, score: Double)]

        /// Equal when every field is (tuples are not `Equatable`).
        public static func == (lhs: Rung, rhs: Rung) -> Bool {
            lhs.time == rhs.time && lhs.rung == rhs.rung && lhs.survivors == rhs.survivors
                && lhs.eliminated == rhs.eliminated
                && lhs.scores.map(\.trial) == rhs.scores.map(\.trial)
                && lhs.scores.map(\.score) == rhs.scores.map(\.score)
        }
    }

    /// A test-set evaluation (`model.evaluated`), with the version it registered if any.
    public struct Evaluation: Sendable, Equatable {
        /// When it was evaluated.
        public var time: SimTime
        /// The search trial evaluated; empty when the journal did not say.
        public var trial: String
        /// Test-set accuracy, 0…1.
        public var accuracy: Double?
        /// Test-set macro-F1, 0…1.
        public var macroF1: Double?
        /// Expected calibration error.
        public var ece: Double?
        /// Mean negative log-likelihood.
        public var nll: Double?
        /// The classes with the lowest F1, worst first, comma separated.
        public var worstClasses: String
        /// The `model.registered` record that followed it.
        public var registered: RegisteredModel?
    }

    /// A registered model version (`model.registered`).
    public struct RegisteredModel: Sendable, Equatable {
        /// When it was registered.
        public var time: SimTime
        /// `name@vN`.
        public var version: String
        /// The dataset version it was trained on.
        public var dataset: String
        /// Such as `mlp:128,64`.
        public var architecture: String
        /// The pretrained model it was fine-tuned from; empty when trained from scratch.
        public var base: String
        /// Its learning rate, as recorded.
        public var learningRate: String
        /// Epochs trained, as recorded.
        public var epochs: String
        /// The weights' content hash.
        public var weights: String
        /// Whether its test metrics meet the use case's objective.
        public var meetsObjective: Bool
    }

    /// Quantization of a version (`model.optimized`).
    public struct Optimization: Sendable, Equatable {
        /// When the INT8 version was evaluated.
        public var time: SimTime
        /// The version quantized.
        public var version: String
        /// Test accuracy in FP32, 0…1.
        public var fp32Accuracy: Double?
        /// Test accuracy in INT8, 0…1.
        public var int8Accuracy: Double?
        /// How many accuracy points INT8 may lose and still be kept.
        public var tolerancePoints: String
        /// Size of the FP32 weights.
        public var fp32Bytes: Int?
        /// Size of the INT8 weights.
        public var int8Bytes: Int?
        /// `int8` or `fp32`.
        public var kept: String
    }

    /// A deployment, its serving test and its load test: one per generation.
    public struct Deployment: Sendable, Equatable {
        /// When it was deployed.
        public var time: SimTime
        /// The version deployed.
        public var version: String
        /// The alias it went to (`staging`).
        public var alias: String
        /// `int8` or `fp32`.
        public var precision: String
        /// The end-to-end test through the API, once recorded.
        public var test: ServingTest?
        /// The load test's figures (wall clock), from telemetry.
        public var load: LoadFigures?
    }

    /// The serving test of a deployment (`pipeline.tested`).
    public struct ServingTest: Sendable, Equatable {
        /// When the test finished.
        public var time: SimTime
        /// Test-set rows sent through the API.
        public var rows: Int?
        /// Accuracy of the API's answers, 0…1.
        public var httpAccuracy: Double?
        /// Accuracy the evaluation computed for the same version, 0…1.
        public var evaluatedAccuracy: Double?
        /// Such as `6/6 refused`.
        public var edgeCases: String
        /// `name=status` pairs, comma separated.
        public var edgeCaseStatuses: String
        /// Whether the API still answered correctly after the malformed requests.
        public var servingAfterEdgeCases: Bool
        /// Whether the test passed.
        public var passed: Bool
    }

    /// A staging load test's figures: wall-clock measurements on the machine that ran the mesh.
    public struct LoadFigures: Sendable, Equatable {
        /// Requests answered.
        public var requests: Int?
        /// Concurrent connections.
        public var connections: Int?
        /// Median round trip.
        public var p50Milliseconds: Double?
        /// 99th-percentile round trip.
        public var p99Milliseconds: Double?
        /// Throughput.
        public var requestsPerSecond: Double?
        /// Requests that failed.
        public var errors: Int?
    }

    /// A promotion (`pipeline.promoted`).
    public struct Promotion: Sendable, Equatable {
        /// When it was promoted.
        public var time: SimTime
        /// The version promoted.
        public var version: String
        /// The alias it went to (`production`).
        public var alias: String
        /// The version it replaced; empty for the first.
        public var previous: String
        /// `int8` or `fp32`.
        public var precision: String
    }

    /// How production was watched (`monitoring.started`).
    public struct MonitoringPlan: Sendable, Equatable {
        /// When monitoring started.
        public var time: SimTime
        /// Hourly windows planned.
        public var hours: Int?
        /// Stream rows per window.
        public var windowRows: Int?
        /// The hour the scenario's drift starts.
        public var driftAtHour: Int?
        /// What the drift is.
        public var drift: String
        /// The alert rules watching, comma separated.
        public var alertRules: String
    }

    /// One monitoring window (`monitoring.window`).
    public struct Window: Sendable, Equatable {
        /// When the window was checked.
        public var time: SimTime
        /// The window's number (its hour since monitoring started).
        public var window: Int
        /// The production version number that served it.
        public var version: String
        /// Rows in the window.
        public var rows: Int?
        /// Accuracy on the window's labelled rows, 0…1.
        public var accuracy: Double?
        /// Accuracy on its held-out rows (never used for retraining), 0…1.
        public var heldOutAccuracy: Double?
        /// Features the Kolmogorov–Smirnov test flagged.
        public var ksFlagged: Int?
        /// Features the population stability index flagged.
        public var psiFlagged: Int?
        /// The largest KS statistic over the features.
        public var maxKS: Double?
        /// The largest PSI over the features.
        public var maxPSI: Double?
        /// Whether drift was detected.
        public var drifted: Bool
        /// Whether the scenario drifted this window on purpose.
        public var scriptedDrift: Bool
    }

    /// An alert from firing to resolution (`alert.firing`, `alert.resolved`).
    public struct AlertEpisode: Sendable, Equatable {
        /// The rule's name.
        public var alert: String
        /// `warning`, `critical`, …
        public var severity: String
        /// The rule's condition.
        public var condition: String
        /// When it fired.
        public var firedTime: SimTime
        /// The window it fired in.
        public var firedWindow: String
        /// `startsAt` as the alert carried it (simulated calendar time).
        public var startsAt: String
        /// The production version number when it fired.
        public var version: String
        /// The window's accuracy when it fired, 0…1.
        public var accuracy: Double?
        /// Features flagged by KS when it fired.
        public var ksFlagged: String
        /// When it resolved; nil while firing.
        public var resolvedTime: SimTime?
        /// The window it resolved in.
        public var resolvedWindow: String?
        /// `endsAt` as the resolution carried it.
        public var endsAt: String?
    }

    /// A retraining, from request to result (`retrain.requested`, `model.retrained`, `retrain.failed`).
    public struct Retraining: Sendable, Equatable {
        /// When it was requested.
        public var time: SimTime
        /// The generation it makes.
        public var generation: String
        /// The alerts that asked for it.
        public var alerts: String
        /// The windows whose labelled rows it uses.
        public var windows: String
        /// How many labelled rows it adds.
        public var labelledRows: String
        /// Why, in one line.
        public var evidence: String
        /// `trial`, `from`, validation accuracy, once retrained.
        public var retrainedFrom: String?
        /// The retrained model's validation accuracy, 0…1.
        public var validationAccuracy: Double?
        /// Why it failed, if it did.
        public var failure: String?
    }

    /// A human decision at a gate (`gate.decision`), with its escalation if it had one.
    public struct Decision: Sendable, Equatable {
        /// When it was decided.
        public var time: SimTime
        /// The gate: `usecase-approval`, `infeasible`, `data-failure`, `model-acceptance`, `promotion`.
        public var gate: String
        /// What was decided on: the use case or a model version.
        public var target: String
        /// Whether it was approved.
        public var approved: Bool
        /// Who decided.
        public var who: String
        /// Why, as they said.
        public var reason: String
        /// The escalation before it, if the first person did not answer.
        public var escalation: Escalation?
    }

    /// A gate nobody answered in time (`gate.escalated`).
    public struct Escalation: Sendable, Equatable {
        /// When the gate escalated.
        public var time: SimTime
        /// Who did not answer.
        public var unansweredBy: String
        /// Who was asked next.
        public var escalatedTo: String
        /// How long the gate waited.
        public var timeoutMinutes: String
    }

    /// How the use case ended (`usecase.ended`).
    public struct Ending: Sendable, Equatable {
        /// When it ended.
        public var time: SimTime
        /// `accepted`, `rejected`, `infeasible`, `data-failed`, `failed`.
        public var state: String
        /// The model in the end, if any.
        public var model: String
        /// Why it ended there.
        public var reason: String
    }

    /// The use case's id.
    public var id: String
    /// Its title (`usecase.registered`); empty when not registered.
    public var title = ""
    /// Its objective, such as `macro_f1 >= 0.95`.
    public var objective = ""
    /// The serving latency it asks for (p99, milliseconds).
    public var p99Milliseconds = ""
    /// The largest model it accepts, in bytes.
    public var maxBytes = ""
    /// Its training budget in GFLOP.
    public var budgetGflop = ""
    /// Sources discovery accepted.
    public var acceptedSources: [String] = []
    /// Sources discovery rejected.
    public var rejectedSources: [String] = []
    /// The feasibility study's verdict; nil before it.
    public var feasible: Bool?
    /// The study's summary: `feasible`, or the failed checks.
    public var feasibilitySummary = ""
    /// Architectures within the use case's limits.
    public var fittingArchitectures: [String] = []
    /// The search's estimated cost.
    public var estimatedGflop = ""
    /// Why data preparation failed, if it did.
    public var dataFailures: [String] = []
    /// Dataset versions, first and after each retraining.
    public var datasets: [DatasetRow] = []
    /// The search's candidate architectures (`model.plan`).
    public var candidates: [String] = []
    /// The search's trials, `id=architecture/settings`.
    public var trials: [String] = []
    /// The pretrained base model, if the search used one (`model.pretrained`).
    public var pretrainedBase: String?
    /// Its training accuracy, 0…1.
    public var pretrainedAccuracy: Double?
    /// The search's rungs.
    public var rungs: [Rung] = []
    /// Test-set evaluations, each with the version it registered.
    public var evaluations: [Evaluation] = []
    /// Quantizations.
    public var optimizations: [Optimization] = []
    /// Deployments to staging, with their tests.
    public var deployments: [Deployment] = []
    /// Promotions to production.
    public var promotions: [Promotion] = []
    /// How production was watched; nil if it never was.
    public var monitoring: MonitoringPlan?
    /// Monitoring windows.
    public var windows: [Window] = []
    /// Wall-clock milliseconds each window's rows took through the inference API (telemetry).
    public var windowInferenceMilliseconds: [Int] = []
    /// Alerts, from firing to resolution.
    public var alerts: [AlertEpisode] = []
    /// Retrainings.
    public var retrainings: [Retraining] = []
    /// Human decisions at the gates.
    public var decisions: [Decision] = []
    /// Tasks that failed for good: (time, task, reason).
    public var failures: [TimelineEntry] = []
    /// How it ended; nil if the journal stops before.
    public var ending: Ending?
    /// Every stage with its simulated time, in journal order.
    public var timeline: [TimelineEntry] = []

    /// The versions registered, in order.
    public var registeredModels: [RegisteredModel] { self.evaluations.compactMap(\.registered) }

    /// Gathers a use case's report from its records (journal order) and its tasks' telemetry.
    public init(id: String, records: [LogicalRecord], telemetry: [RunReportDocument.Telemetry]) {
        self.id = id
        var builder = UseCaseReportBuilder(id: id, telemetry: telemetry)
        for record in records { builder.add(record, to: &self) }
        builder.finish(&self)
    }
}
