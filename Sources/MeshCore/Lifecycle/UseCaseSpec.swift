/// A use case as its template file states it: what the model must achieve, within which
/// constraints, on data under which policy.
///
/// ```yaml
/// id: digits-classifier
/// title: Recognise handwritten digits on intake forms
/// objective: { metric: macro_f1, target: 0.95 }
/// constraints: { p99_latency_ms: 5, max_model_bytes: 250000, compute_budget_gflop: 500 }
/// data_policy: { pii_allowed: false, licences: [CC-BY-4.0], regions: [eu, us] }
/// sources: [digits]
/// ```
public struct UseCaseSpec: Codable, Sendable, Equatable {
    /// The use case's id: 1-40 characters of `a-z 0-9 -`.
    public var id: String
    /// A one-line title.
    public var title: String
    /// What success means.
    public var objective: Objective
    /// What the model must fit in.
    public var constraints: Constraints
    /// Which data may be used.
    public var dataPolicy: DataPolicy
    /// Catalog sources to prefer, in order (all compliant ones when empty).
    public var sources: [String]

    /// The metric and the target the model must reach on the held-out test split.
    public struct Objective: Codable, Sendable, Equatable {
        /// `accuracy` or `macro_f1`.
        public var metric: String
        /// The target, in [0, 1].
        public var target: Double

        public init(metric: String, target: Double) {
            self.metric = metric
            self.target = target
        }

        public enum CodingKeys: String, CodingKey, CaseIterable { case metric, target }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.metric = try container.decode(String.self, forKey: .metric)
            guard ["accuracy", "macro_f1"].contains(self.metric) else {
                throw DecodingError.dataCorruptedError(forKey: .metric, in: container, debugDescription: "accuracy or macro_f1")
            }
            self.target = try container.decode(Double.self, forKey: .target)
            guard (0...1).contains(self.target) else {
                throw DecodingError.dataCorruptedError(forKey: .target, in: container, debugDescription: "a number in [0, 1]")
            }
        }
    }

    /// Deployment and cost limits.
    public struct Constraints: Codable, Sendable, Equatable {
        /// The 99th-percentile latency a prediction may take, in milliseconds.
        public var p99LatencyMilliseconds: Double
        /// The largest model file allowed, in bytes.
        public var maxModelBytes: Int
        /// The compute the search may spend, in GFLOP.
        public var computeBudgetGFLOP: Double

        public init(p99LatencyMilliseconds: Double, maxModelBytes: Int, computeBudgetGFLOP: Double) {
            self.p99LatencyMilliseconds = p99LatencyMilliseconds
            self.maxModelBytes = maxModelBytes
            self.computeBudgetGFLOP = computeBudgetGFLOP
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case p99LatencyMilliseconds = "p99_latency_ms"
            case maxModelBytes = "max_model_bytes"
            case computeBudgetGFLOP = "compute_budget_gflop"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.p99LatencyMilliseconds = try container.decode(Double.self, forKey: .p99LatencyMilliseconds)
            self.maxModelBytes = try container.decode(Int.self, forKey: .maxModelBytes)
            self.computeBudgetGFLOP = try container.decode(Double.self, forKey: .computeBudgetGFLOP)
            guard self.p99LatencyMilliseconds > 0, self.maxModelBytes > 0, self.computeBudgetGFLOP > 0 else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath, debugDescription: "positive latency, size and budget"))
            }
        }
    }

    public init(
        id: String, title: String, objective: Objective, constraints: Constraints, dataPolicy: DataPolicy, sources: [String] = []
    ) {
        self.id = id
        self.title = title
        self.objective = objective
        self.constraints = constraints
        self.dataPolicy = dataPolicy
        self.sources = sources
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, objective, constraints, sources
        case dataPolicy = "data_policy"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        guard Self.isValidID(self.id) else {
            throw DecodingError.dataCorruptedError(forKey: .id, in: container, debugDescription: "1-40 characters of a-z, 0-9 and -")
        }
        self.title = try container.decodeIfPresent(String.self, forKey: .title) ?? self.id
        self.objective = try container.decode(Objective.self, forKey: .objective)
        self.constraints = try container.decode(Constraints.self, forKey: .constraints)
        self.dataPolicy = try container.decode(DataPolicy.self, forKey: .dataPolicy)
        self.sources = try container.decodeIfPresent([String].self, forKey: .sources) ?? []
    }

    /// Whether `id` is a valid use case id.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 40
            && id.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
