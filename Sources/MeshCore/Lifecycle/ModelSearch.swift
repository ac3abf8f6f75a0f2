/// How the model agent searches (part of a lifecycle scenario): trials over architectures,
/// learning rates and starting points, pruned by successive halving.
public struct SearchSettings: Codable, Sendable, Equatable {
    /// Learning rates to try.
    public var learningRates: [Double]
    /// Cumulative epochs at the end of each rung; survivors train on from where they were.
    public var rungEpochs: [Int]
    /// The fraction of trials a rung keeps (successive halving's 1/η).
    public var keepFraction: Double
    /// Mini-batch size.
    public var batchSize: Int
    /// L2 penalty on weights.
    public var l2: Double
    /// How many fitting zoo models to try (the largest that fit).
    public var maxModels: Int
    /// Whether to also try fine-tuning from a matching pretrained base.
    public var pretrained: Bool

    public init(
        learningRates: [Double] = [0.001, 0.003], rungEpochs: [Int] = [10, 30, 60], keepFraction: Double = 0.5, batchSize: Int = 32,
        l2: Double = 0.0001, maxModels: Int = 2, pretrained: Bool = true
    ) {
        self.learningRates = learningRates
        self.rungEpochs = rungEpochs
        self.keepFraction = keepFraction
        self.batchSize = batchSize
        self.l2 = l2
        self.maxModels = maxModels
        self.pretrained = pretrained
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case l2, pretrained
        case learningRates = "learning_rates"
        case rungEpochs = "rung_epochs"
        case keepFraction = "keep_fraction"
        case batchSize = "batch_size"
        case maxModels = "max_models"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SearchSettings()
        self.learningRates = try container.decodeIfPresent([Double].self, forKey: .learningRates) ?? defaults.learningRates
        self.rungEpochs = try container.decodeIfPresent([Int].self, forKey: .rungEpochs) ?? defaults.rungEpochs
        self.keepFraction = try container.decodeIfPresent(Double.self, forKey: .keepFraction) ?? defaults.keepFraction
        self.batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? defaults.batchSize
        self.l2 = try container.decodeIfPresent(Double.self, forKey: .l2) ?? defaults.l2
        self.maxModels = try container.decodeIfPresent(Int.self, forKey: .maxModels) ?? defaults.maxModels
        self.pretrained = try container.decodeIfPresent(Bool.self, forKey: .pretrained) ?? defaults.pretrained
        guard !self.learningRates.isEmpty, self.learningRates.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw DecodingError.dataCorruptedError(forKey: .learningRates, in: container, debugDescription: "learning rates in (0, 1)")
        }
        guard !self.rungEpochs.isEmpty, zip(self.rungEpochs, self.rungEpochs.dropFirst()).allSatisfy({ $0 < $1 }),
            (self.rungEpochs.first ?? 0) >= 1, (self.rungEpochs.last ?? 0) <= 1000
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .rungEpochs, in: container, debugDescription: "increasing cumulative epochs, 1 to 1000")
        }
        guard self.keepFraction > 0, self.keepFraction <= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .keepFraction, in: container, debugDescription: "a fraction in (0, 1]")
        }
        guard (1...4096).contains(self.batchSize), self.l2 >= 0, (1...16).contains(self.maxModels) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "batch 1-4096, l2 >= 0, max_models 1-16"))
        }
    }
}

/// One configuration the search trains.
public struct TrialConfig: Codable, Sendable, Equatable, Hashable {
    /// The trial's id within its use case, such as `t3`.
    public var id: String
    /// The zoo model.
    public var model: String
    /// Its architecture.
    public var architecture: String
    /// The learning rate.
    public var learningRate: Double
    /// The pretrained base it starts from, or nil for random initialisation.
    public var base: String?
    /// The trial's seed (initialisation and batch order).
    public var seed: UInt64

    public init(id: String, model: String, architecture: String, learningRate: Double, base: String?, seed: UInt64) {
        self.id = id
        self.model = model
        self.architecture = architecture
        self.learningRate = learningRate
        self.base = base
        self.seed = seed
    }
}

/// What the model agent selects (work `model.select`).
public struct SelectionRequest: Codable, Sendable, Equatable {
    public var useCase: UseCaseSpec
    public var zoo: ModelZoo
    public var features: Int
    public var classes: Int
    public var trainRows: Int
    /// The catalog source the data came from (a pretrained base must come from the same source).
    public var source: String
    public var search: SearchSettings
    public var seed: UInt64

    public init(
        useCase: UseCaseSpec, zoo: ModelZoo, features: Int, classes: Int, trainRows: Int, source: String, search: SearchSettings,
        seed: UInt64
    ) {
        self.useCase = useCase
        self.zoo = zoo
        self.features = features
        self.classes = classes
        self.trainRows = trainRows
        self.source = source
        self.search = search
        self.seed = seed
    }
}

/// The model agent's plan: which trials, which rungs, which base to pretrain first.
public struct ModelPlan: Codable, Sendable, Equatable {
    /// The zoo models chosen.
    public var candidates: [String]
    /// Why, one line each.
    public var reasons: [String]
    /// The trials of rung 0.
    public var trials: [TrialConfig]
    /// Cumulative epochs per rung.
    public var rungEpochs: [Int]
    /// The fraction each rung keeps.
    public var keepFraction: Double
    /// The base to pretrain before rung 0, if any trial fine-tunes.
    public var base: ModelZoo.PretrainedBase?
    /// Epochs the search trains with pruning, and without (every trial to the last rung).
    public var epochsWithPruning: Int
    public var epochsWithoutPruning: Int
}

/// The model agent's choice of architectures and trials under the use case's constraints.
public enum ModelSelection {
    /// Plans the search for `request`.
    public static func plan(_ request: SelectionRequest) -> ModelPlan {
        let constraints = request.useCase.constraints
        var reasons: [String] = []
        var fitting: [(model: ModelZoo.Model, parameters: Int)] = []
        for model in request.zoo.models {
            guard let architecture = Architecture(parsing: model.architecture) else { continue }
            let bytes = architecture.fp32Bytes(features: request.features, classes: request.classes)
            let latency = FeasibilityCheck.latencyMilliseconds(
                architecture, features: request.features, classes: request.classes, device: request.zoo.device)
            if bytes > constraints.maxModelBytes {
                reasons.append("\(model.id): \(bytes) B is over \(constraints.maxModelBytes) B")
            } else if latency > constraints.p99LatencyMilliseconds {
                reasons.append("\(model.id): \(FeasibilityCheck.format(latency)) ms is over \(FeasibilityCheck.format(constraints.p99LatencyMilliseconds)) ms")
            } else {
                fitting.append((model, architecture.parameters(features: request.features, classes: request.classes)))
            }
        }
        // The largest models that fit learn the most from small tabular data; ties by id.
        let chosen = fitting.sorted { ($0.parameters, $1.model.id) > ($1.parameters, $0.model.id) }.prefix(request.search.maxModels)
        for entry in chosen { reasons.append("\(entry.model.id): chosen (\(entry.parameters) parameters fit the constraints)") }
        let base = request.search.pretrained
            ? request.zoo.pretrained.first { base in
                base.source == request.source && chosen.contains { $0.model.architecture == base.architecture }
            }
            : nil
        if let base { reasons.append("\(base.id): pretrained on \(base.source) classes \(base.classes), fine-tuned with a new head") }
        var trials: [TrialConfig] = []
        var rng = SeededRandom(seed: request.seed, key: "search/" + request.useCase.id)
        for entry in chosen {
            var starts: [String?] = [nil]
            if let base, base.architecture == entry.model.architecture { starts.append(base.id) }
            for start in starts {
                for rate in request.search.learningRates {
                    trials.append(TrialConfig(
                        id: "t\(trials.count)", model: entry.model.id, architecture: entry.model.architecture,
                        learningRate: rate, base: start, seed: rng.next()))
                }
            }
        }
        let epochs = SearchCost.epochs(trials: trials.count, rungEpochs: request.search.rungEpochs, keep: request.search.keepFraction)
        return ModelPlan(
            candidates: chosen.map(\.model.id), reasons: reasons, trials: trials, rungEpochs: request.search.rungEpochs,
            keepFraction: request.search.keepFraction, base: trials.contains { $0.base != nil } ? base : nil,
            epochsWithPruning: epochs.pruned, epochsWithoutPruning: epochs.unpruned)
    }
}

/// A rung's results, for the model agent to prune (work `model.rung`).
public struct RungRequest: Codable, Sendable, Equatable {
    /// One trial's standing.
    public struct Score: Codable, Sendable, Equatable {
        public var trial: String
        public var validationAccuracy: Double
        public var validationLoss: Double

        public init(trial: String, validationAccuracy: Double, validationLoss: Double) {
            self.trial = trial
            self.validationAccuracy = validationAccuracy
            self.validationLoss = validationLoss
        }
    }

    public var rung: Int
    public var scores: [Score]
    public var keepFraction: Double
    /// Whether this is the last rung (then exactly one trial survives: the winner).
    public var last: Bool

    public init(rung: Int, scores: [Score], keepFraction: Double, last: Bool) {
        self.rung = rung
        self.scores = scores
        self.keepFraction = keepFraction
        self.last = last
    }
}

/// Which trials go on.
public struct RungDecision: Codable, Sendable, Equatable {
    public var rung: Int
    /// Best first.
    public var survivors: [String]
    public var eliminated: [String]
}

/// Successive halving: keep the best `ceil(n × keep)` trials of a rung by validation accuracy
/// (then lower validation loss, then trial id) — a function of the scores only, never of which
/// trial finished first.
public enum SuccessiveHalving {
    /// Decides `request`.
    public static func decide(_ request: RungRequest) -> RungDecision {
        let ranked = request.scores.sorted { lhs, rhs in
            if lhs.validationAccuracy != rhs.validationAccuracy { return lhs.validationAccuracy > rhs.validationAccuracy }
            if lhs.validationLoss != rhs.validationLoss { return lhs.validationLoss < rhs.validationLoss }
            return lhs.trial < rhs.trial
        }
        let keep = request.last ? 1 : max(1, Int((Double(ranked.count) * request.keepFraction).rounded(.up)))
        return RungDecision(
            rung: request.rung, survivors: ranked.prefix(keep).map(\.trial), eliminated: ranked.dropFirst(keep).map(\.trial))
    }
}

/// The search's cost, for feasibility and the plan.
public enum SearchCost {
    /// Epochs trained with successive halving and without it.
    public static func epochs(trials: Int, rungEpochs: [Int], keep: Double) -> (pruned: Int, unpruned: Int) {
        var alive = trials
        var previous = 0
        var pruned = 0
        for epochs in rungEpochs {
            pruned += alive * (epochs - previous)
            previous = epochs
            alive = max(1, Int((Double(alive) * keep).rounded(.up)))
        }
        return (pruned, trials * (rungEpochs.last ?? 0))
    }

    /// GFLOP of training one epoch of `architecture` on `rows` rows (forward + backward ≈ 3 forwards).
    public static func epochGFLOP(_ architecture: Architecture, features: Int, classes: Int, rows: Int) -> Double {
        3 * architecture.forwardFLOPs(features: features, classes: classes) * Double(rows) / 1e9
    }

    /// The estimated GFLOP of a search over `models` (as `ModelSelection` would plan it).
    public static func estimateGFLOP(
        zoo: ModelZoo, models: [String], features: Int, classes: Int, rows: Int, search: SearchSettings
    ) -> Double {
        let chosen = zoo.models.filter { models.contains($0.id) }
            .compactMap { Architecture(parsing: $0.architecture) }
            .sorted { $0.parameters(features: features, classes: classes) > $1.parameters(features: features, classes: classes) }
            .prefix(search.maxModels)
        guard let largest = chosen.first else { return 0 }
        let perModel = search.learningRates.count * (search.pretrained ? 2 : 1)
        let epochs = self.epochs(trials: perModel * chosen.count, rungEpochs: search.rungEpochs, keep: search.keepFraction)
        return Double(epochs.pruned) * self.epochGFLOP(largest, features: features, classes: classes, rows: rows)
    }
}
