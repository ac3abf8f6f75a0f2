public import MeshCore

/// A use case in the registry (the use-case agent onboards it from a template; its stage moves as
/// the hand-off chain advances).
public struct UseCase: Sendable, Equatable, Codable {
    /// Its id, such as `churn-eu`.
    public var id: String
    /// A name for people.
    public var name: String
    /// The template it was onboarded from.
    public var template: String
    /// Where it is in the chain: `intake`, `feasibility`, `data`, `model`, `pipeline`, `monitoring`, … .
    public var stage: String
    /// Its policy (compliance, budgets) as JSON text.
    public var policyJSON: String
    /// When it was registered, and last changed.
    public var created: SimTime
    /// When its stage last changed.
    public var updated: SimTime

    public init(id: String, name: String, template: String, stage: String, policyJSON: String = "{}", created: SimTime) {
        self.id = id
        self.name = name
        self.template = template
        self.stage = stage
        self.policyJSON = policyJSON
        self.created = created
        self.updated = created
    }
}

/// A source in the data catalog.
public struct DataSource: Sendable, Equatable, Codable {
    /// Its id.
    public var id: String
    /// `csv`, `synthetic` or `stream`.
    public var kind: String
    /// A path, generator name or stream address.
    public var location: String
    /// Its licence (checked against a use case's policy).
    public var licence: String
    /// Where the data lives (checked against a use case's policy).
    public var region: String
    /// Whether it holds personal data.
    public var containsPII: Bool

    public init(id: String, kind: String, location: String, licence: String, region: String, containsPII: Bool) {
        self.id = id
        self.kind = kind
        self.location = location
        self.licence = licence
        self.region = region
        self.containsPII = containsPII
    }
}

/// A version of a dataset: an artifact named by its content hash, with its profile.
public struct DatasetVersion: Sendable, Equatable, Codable {
    /// The artifact's content hash (lowercase hex SHA-256).
    public var contentHash: String
    /// The use case it serves.
    public var useCase: String
    /// Its name.
    public var name: String
    /// The version it was derived from (cleaning, augmentation, expansion), if any.
    public var parentHash: String?
    /// Rows in it.
    public var rows: Int
    /// Its profile (classes, missing values fixed, feature statistics) as JSON text.
    public var profileJSON: String
    /// When it was made.
    public var created: SimTime

    public init(
        contentHash: String, useCase: String, name: String, parentHash: String? = nil, rows: Int, profileJSON: String,
        created: SimTime
    ) {
        self.contentHash = contentHash
        self.useCase = useCase
        self.name = name
        self.parentHash = parentHash
        self.rows = rows
        self.profileJSON = profileJSON
        self.created = created
    }
}

/// A registered model version with its lineage and metrics, as the run database keeps it (the
/// serving side, MeshServer's `ModelRegistry`, holds the loaded weights).
public struct ModelVersionRecord: Sendable, Equatable, Codable {
    /// The model's name.
    public var model: String
    /// Its version number, from 1.
    public var version: Int
    /// The use case it serves.
    public var useCase: String
    /// The content hash of the dataset version it was trained on.
    public var datasetHash: String
    /// The pretrained base it was fine-tuned from.
    public var baseModel: String
    /// Hyperparameters as JSON text.
    public var hyperparametersJSON: String
    /// The training seed.
    public var seed: UInt64
    /// Evaluation metrics as JSON text (accuracy, macro-F1, calibration, …).
    public var metricsJSON: String
    /// The weights artifact's content hash, if stored.
    public var artifactHash: String?
    /// When it was registered.
    public var created: SimTime

    public init(
        model: String, version: Int, useCase: String, datasetHash: String, baseModel: String, hyperparametersJSON: String,
        seed: UInt64, metricsJSON: String, artifactHash: String? = nil, created: SimTime
    ) {
        self.model = model
        self.version = version
        self.useCase = useCase
        self.datasetHash = datasetHash
        self.baseModel = baseModel
        self.hyperparametersJSON = hyperparametersJSON
        self.seed = seed
        self.metricsJSON = metricsJSON
        self.artifactHash = artifactHash
        self.created = created
    }
}

/// One change of a model alias (`staging`, `production`).
public struct AliasChange: Sendable, Equatable, Codable {
    /// The model.
    public var model: String
    /// The alias.
    public var alias: String
    /// The version it now points to.
    public var version: Int
    /// The version it pointed to before, if any.
    public var previousVersion: Int?
    /// Who moved it (an agent, or a person at a gate).
    public var setBy: String
    /// Why (a promotion, a rollback).
    public var reason: String
    /// When.
    public var time: SimTime
}

/// A human decision at a gate.
public struct Approval: Sendable, Equatable, Codable {
    /// The decision.
    public enum Decision: String, Sendable, Codable {
        case approved, rejected
    }

    /// The gate: `use-case`, `promotion`, `production-deploy`, … .
    public var gate: String
    /// What was decided on (a use case id, `model@version`).
    public var subject: String
    /// The decision.
    public var decision: Decision
    /// Who decided.
    public var decidedBy: String
    /// Why.
    public var reason: String
    /// When, on the simulated clock.
    public var time: SimTime

    public init(gate: String, subject: String, decision: Decision, decidedBy: String, reason: String, time: SimTime) {
        self.gate = gate
        self.subject = subject
        self.decision = decision
        self.decidedBy = decidedBy
        self.reason = reason
        self.time = time
    }
}

/// One point of a metrics time series.
public struct MetricSample: Sendable, Equatable, Codable {
    /// The series, such as `accuracy` or `psi`.
    public var series: String
    /// Its labels (model, feature, …).
    public var labels: [String: String]
    /// When, on the simulated clock.
    public var time: SimTime
    /// The value.
    public var value: Double

    public init(series: String, labels: [String: String] = [:], time: SimTime, value: Double) {
        self.series = series
        self.labels = labels
        self.time = time
        self.value = value
    }
}

/// An alert raised by a monitoring rule.
public struct Alert: Sendable, Equatable, Codable {
    /// Firing or resolved.
    public enum State: String, Sendable, Codable {
        case firing, resolved
    }

    /// The rule that raised it, such as `drift.psi>0.2`.
    public var rule: String
    /// What it is about (a model, a feature).
    public var subject: String
    /// Its state.
    public var state: State
    /// Since when it fires.
    public var since: SimTime
    /// When it was resolved, if it was.
    public var resolved: SimTime?
    /// The evidence (values, windows) as JSON text.
    public var evidenceJSON: String

    public init(rule: String, subject: String, since: SimTime, evidenceJSON: String) {
        self.rule = rule
        self.subject = subject
        self.state = .firing
        self.since = since
        self.resolved = nil
        self.evidenceJSON = evidenceJSON
    }
}
