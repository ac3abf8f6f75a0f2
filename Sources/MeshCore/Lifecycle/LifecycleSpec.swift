/// Everything a lifecycle scenario runs, resolved: the use cases, the data catalog, the model
/// zoo, the scripted human and the search settings (the scenario loader reads the files the
/// scenario names into this).
public struct LifecycleSpec: Codable, Sendable, Equatable {
    public var useCases: [UseCaseSpec]
    public var catalog: [CatalogSource]
    public var zoo: ModelZoo
    public var human: HumanPolicy
    public var search: SearchSettings
    /// How an accepted model is served; nil ends the use case at model acceptance.
    public var serving: ServingSettings?
    /// How production is watched; nil ends the use case at promotion.
    public var monitoring: MonitoringSettings?

    public init(
        useCases: [UseCaseSpec], catalog: [CatalogSource], zoo: ModelZoo, human: HumanPolicy, search: SearchSettings,
        serving: ServingSettings? = nil, monitoring: MonitoringSettings? = nil
    ) {
        self.useCases = useCases
        self.catalog = catalog
        self.zoo = zoo
        self.human = human
        self.search = search
        self.serving = serving
        self.monitoring = monitoring
    }
}

/// How one use case ended, for the run's summary (`use_cases` in `--json`).
public struct UseCaseOutcome: Codable, Sendable, Equatable {
    /// The use case's id.
    public var id: String
    /// Where it ended: `accepted`, `rejected`, `infeasible`, `data-failed`, `failed`.
    public var state: String
    /// The registered model version (`name@vN`), if one was registered.
    public var model: String?
    /// Its test accuracy and macro-F1.
    public var testAccuracy: Double?
    public var testMacroF1: Double?
    /// Why it ended there.
    public var reason: String
    /// The version in production at the end (`name@vN`), when the model was served.
    public var production: String?
    /// Deployments to staging and promotions to production.
    public var deployments: Int?
    public var promotions: Int?
    /// Alerts that fired, and retrainings they set off.
    public var alerts: Int?
    public var retrains: Int?
    /// The production model's accuracy on the stream through the inference API: before the
    /// scripted drift, on the drifted stream before the retrained model was promoted, and after.
    public var accuracyBeforeDrift: Double?
    public var accuracyOnDriftBeforeRetrain: Double?
    public var accuracyOnDriftAfterRetrain: Double?

    public init(id: String, state: String, model: String? = nil, testAccuracy: Double? = nil, testMacroF1: Double? = nil, reason: String) {
        self.id = id
        self.state = state
        self.model = model
        self.testAccuracy = testAccuracy
        self.testMacroF1 = testMacroF1
        self.reason = reason
    }

    public enum CodingKeys: String, CodingKey {
        case id, state, model, reason
        case testAccuracy = "test_accuracy"
        case testMacroF1 = "test_macro_f1"
        case production, deployments, promotions, alerts, retrains
        case accuracyBeforeDrift = "accuracy_before_drift"
        case accuracyOnDriftBeforeRetrain = "accuracy_on_drift_before_retrain"
        case accuracyOnDriftAfterRetrain = "accuracy_on_drift_after_retrain"
    }
}
