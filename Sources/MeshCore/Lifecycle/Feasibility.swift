/// What the use case agent checks before any data is touched (work `usecase.feasibility`).
public struct FeasibilityRequest: Codable, Sendable, Equatable {
    /// The use case.
    public var useCase: UseCaseSpec
    /// Compliant sources the data agent found.
    public var acceptedSources: [String]
    /// Sources it rejected, with the rule each broke.
    public var rejectedSources: [RejectedSource]
    /// Feature and class counts of the first accepted source, when the catalog states them.
    public var features: Int?
    /// Classes of that source.
    public var classes: Int?
    /// Training rows expected.
    public var rows: Int?
    /// The zoo.
    public var zoo: ModelZoo
    /// The search the model agent would run.
    public var search: SearchSettings

    /// A source the data agent rejected.
    public struct RejectedSource: Codable, Sendable, Equatable {
        public var source: String
        public var rule: String
        public var detail: String

        public init(source: String, rule: String, detail: String) {
            self.source = source
            self.rule = rule
            self.detail = detail
        }
    }

    public init(
        useCase: UseCaseSpec, acceptedSources: [String], rejectedSources: [RejectedSource], features: Int?, classes: Int?,
        rows: Int?, zoo: ModelZoo, search: SearchSettings
    ) {
        self.useCase = useCase
        self.acceptedSources = acceptedSources
        self.rejectedSources = rejectedSources
        self.features = features
        self.classes = classes
        self.rows = rows
        self.zoo = zoo
        self.search = search
    }
}

/// The feasibility verdict with its reasons.
public struct FeasibilityReport: Codable, Sendable, Equatable {
    /// One check and its outcome.
    public struct Check: Codable, Sendable, Equatable {
        /// `data`, `model-fits` or `budget`.
        public var name: String
        /// Whether it passed.
        public var passed: Bool
        /// Why, in a sentence.
        public var detail: String

        public init(name: String, passed: Bool, detail: String) {
            self.name = name
            self.passed = passed
            self.detail = detail
        }
    }

    /// Whether every check passed.
    public var feasible: Bool
    /// The checks, in order.
    public var checks: [Check]
    /// Zoo models that fit the constraints.
    public var fittingModels: [String]
    /// The estimated cost of the search, in GFLOP.
    public var estimatedGFLOP: Double

    /// The reasons of the failed checks (or "feasible").
    public var summary: String {
        let failed = self.checks.filter { !$0.passed }
        return failed.isEmpty ? "feasible" : failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
    }
}

/// The use case agent's feasibility check: compliant data, a zoo model that fits, and a budget
/// that covers the search. Pure; the worker runs it.
public enum FeasibilityCheck {
    /// Checks `request`.
    public static func evaluate(_ request: FeasibilityRequest) -> FeasibilityReport {
        var checks: [FeasibilityReport.Check] = []
        if request.acceptedSources.isEmpty {
            let why = request.rejectedSources.map { "\($0.source) breaks \($0.rule) (\($0.detail))" }
            checks.append(.init(
                name: "data", passed: false,
                detail: why.isEmpty ? "no catalog source matches the use case" : "no compliant source: " + why.joined(separator: ", ")))
        } else {
            checks.append(.init(name: "data", passed: true, detail: "compliant: " + request.acceptedSources.joined(separator: ", ")))
        }
        let constraints = request.useCase.constraints
        var fitting: [String] = []
        var cost = 0.0
        if let features = request.features, let classes = request.classes {
            var misfits: [String] = []
            for model in request.zoo.models {
                guard let architecture = Architecture(parsing: model.architecture) else { continue }
                let bytes = architecture.fp32Bytes(features: features, classes: classes)
                let latency = self.latencyMilliseconds(architecture, features: features, classes: classes, device: request.zoo.device)
                if bytes <= constraints.maxModelBytes, latency <= constraints.p99LatencyMilliseconds {
                    fitting.append(model.id)
                } else {
                    misfits.append("\(model.id) (\(bytes) B, \(Self.format(latency)) ms)")
                }
            }
            checks.append(.init(
                name: "model-fits", passed: !fitting.isEmpty,
                detail: fitting.isEmpty
                    ? "no zoo model fits \(constraints.maxModelBytes) B and \(Self.format(constraints.p99LatencyMilliseconds)) ms: "
                        + misfits.joined(separator: ", ")
                    : "fits: " + fitting.joined(separator: ", ")))
            let rows = request.rows ?? 1_000
            cost = SearchCost.estimateGFLOP(
                zoo: request.zoo, models: fitting, features: features, classes: classes, rows: rows, search: request.search)
            checks.append(.init(
                name: "budget", passed: cost <= constraints.computeBudgetGFLOP,
                detail: "search needs about \(Self.format(cost)) GFLOP of \(Self.format(constraints.computeBudgetGFLOP))"))
        } else if !request.acceptedSources.isEmpty {
            fitting = request.zoo.models.map(\.id)
            checks.append(.init(name: "model-fits", passed: true, detail: "the source's schema is not in the catalog; checked after preparation"))
        }
        return FeasibilityReport(
            feasible: checks.allSatisfy(\.passed), checks: checks, fittingModels: fitting, estimatedGFLOP: cost)
    }

    /// The modelled p99 latency of one prediction, in milliseconds.
    public static func latencyMilliseconds(_ architecture: Architecture, features: Int, classes: Int, device: ModelZoo.Device) -> Double {
        let compute = architecture.forwardFLOPs(features: features, classes: classes) / (device.inferenceGFLOPS * 1e9) * 1e3
        return device.requestOverheadMicroseconds / 1e3 + compute
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
