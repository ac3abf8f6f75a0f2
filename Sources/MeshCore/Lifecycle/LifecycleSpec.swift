/// Everything a lifecycle scenario runs, resolved: the use cases, the data catalog, the model
/// zoo, the scripted human and the search settings (the scenario loader reads the files the
/// scenario names into this).
public struct LifecycleSpec: Codable, Sendable, Equatable {
    public var useCases: [UseCaseSpec]
    public var catalog: [CatalogSource]
    public var zoo: ModelZoo
    public var human: HumanPolicy
    public var search: SearchSettings

    public init(useCases: [UseCaseSpec], catalog: [CatalogSource], zoo: ModelZoo, human: HumanPolicy, search: SearchSettings) {
        self.useCases = useCases
        self.catalog = catalog
        self.zoo = zoo
        self.human = human
        self.search = search
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
    }
}
