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
    /// Scripted data-source outages (nil: none).
    public var outages: [SourceOutage]?

    public init(
        useCases: [UseCaseSpec], catalog: [CatalogSource], zoo: ModelZoo, human: HumanPolicy, search: SearchSettings,
        serving: ServingSettings? = nil, monitoring: MonitoringSettings? = nil, outages: [SourceOutage]? = nil
    ) {
        self.outages = outages
        self.useCases = useCases
        self.catalog = catalog
        self.zoo = zoo
        self.human = human
        self.search = search
        self.serving = serving
        self.monitoring = monitoring
    }
}

/// A scripted outage of one catalog source, in simulated hours: preparation from it waits until
/// the outage ends (`data.outage` is journaled). A logical event: it is in the digest.
///
/// ```yaml
/// outages: [{ source: digits, from_hour: 0, until_hour: 6 }]
/// ```
public struct SourceOutage: Codable, Sendable, Equatable {
    /// The catalog source that cannot be read.
    public var source: String
    /// From this simulated hour (inclusive) …
    public var fromHour: Double
    /// … to this one (exclusive).
    public var untilHour: Double

    public init(source: String, fromHour: Double, untilHour: Double) {
        self.source = source
        self.fromHour = fromHour
        self.untilHour = untilHour
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case source
        case fromHour = "from_hour"
        case untilHour = "until_hour"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.source = try container.decode(String.self, forKey: .source)
        self.fromHour = try container.decodeIfPresent(Double.self, forKey: .fromHour) ?? 0
        self.untilHour = try container.decode(Double.self, forKey: .untilHour)
        guard self.fromHour >= 0, self.fromHour.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .fromHour, in: container, debugDescription: "a simulated hour >= 0")
        }
        guard self.untilHour > self.fromHour, self.untilHour <= 24 * 365 else {
            throw DecodingError.dataCorruptedError(
                forKey: .untilHour, in: container, debugDescription: "an hour after from_hour (\(self.fromHour)), within a year")
        }
    }

    /// The simulated time the outage ends.
    public var end: SimTime { SimTime(microseconds: UInt64(self.untilHour * 3_600_000_000)) }

    /// Whether the source is down at `time`.
    public func covers(_ time: SimTime) -> Bool {
        let hours = Double(time.microseconds) / 3_600_000_000
        return hours >= self.fromHour && hours < self.untilHour
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
