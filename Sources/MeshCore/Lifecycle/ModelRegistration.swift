/// What the model agent registers after evaluation (work `model.register`).
public struct RegistrationRequest: Codable, Sendable, Equatable {
    public var useCase: UseCaseSpec
    /// The version number to register (1, 2, … per use case).
    public var version: Int
    /// The winning trial.
    public var trial: TrialConfig
    /// Epochs it trained in all.
    public var epochs: Int
    public var batchSize: Int
    public var l2: Double
    /// The dataset version it was trained on (`sha256:` hex) and its source.
    public var dataset: String
    public var source: String
    /// The SHA-256 of the fp32 weights file, and its size.
    public var weights: String
    public var weightsBytes: Int
    /// The held-out test evaluation.
    public var evaluation: EvaluationSummary

    public init(
        useCase: UseCaseSpec, version: Int, trial: TrialConfig, epochs: Int, batchSize: Int, l2: Double, dataset: String,
        source: String, weights: String, weightsBytes: Int, evaluation: EvaluationSummary
    ) {
        self.useCase = useCase
        self.version = version
        self.trial = trial
        self.epochs = epochs
        self.batchSize = batchSize
        self.l2 = l2
        self.dataset = dataset
        self.source = source
        self.weights = weights
        self.weightsBytes = weightsBytes
        self.evaluation = evaluation
    }
}

/// The figures of an evaluation that a registry keeps.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public var accuracy: Double
    public var macroF1: Double
    public var expectedCalibrationError: Double
    public var negativeLogLikelihood: Double
    /// The classes with the lowest F1, worst first.
    public var worstClasses: [Int]
    /// The most confused (actual → predicted) pairs, most first.
    public var confusedPairs: [String]

    public init(
        accuracy: Double, macroF1: Double, expectedCalibrationError: Double, negativeLogLikelihood: Double, worstClasses: [Int],
        confusedPairs: [String]
    ) {
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.expectedCalibrationError = expectedCalibrationError
        self.negativeLogLikelihood = negativeLogLikelihood
        self.worstClasses = worstClasses
        self.confusedPairs = confusedPairs
    }

    /// The summary of a compute node's evaluation.
    public init(_ evaluation: ModelEvaluation) {
        self.init(
            accuracy: evaluation.accuracy, macroF1: evaluation.macroF1,
            expectedCalibrationError: evaluation.expectedCalibrationError,
            negativeLogLikelihood: evaluation.negativeLogLikelihood, worstClasses: evaluation.worstClasses,
            confusedPairs: evaluation.mostConfused.map { "\($0.actual)→\($0.predicted)×\($0.count)" })
    }

    /// The value of `metric` (`accuracy` or `macro_f1`).
    public func value(of metric: String) -> Double { metric == "accuracy" ? self.accuracy : self.macroF1 }
}

/// A registered model version with its lineage: what a registry row holds.
public struct ModelVersionRecord: Codable, Sendable, Equatable {
    /// The model's name (the use case's id).
    public var name: String
    public var version: Int
    /// Where it came from: data, base, hyperparameters, seed.
    public var lineage: Lineage
    public var metrics: EvaluationSummary
    /// Whether it meets the use case's objective.
    public var meetsObjective: Bool
    public var objective: String
    /// The weights file's hash and size.
    public var weights: String
    public var weightsBytes: Int

    public struct Lineage: Codable, Sendable, Equatable {
        public var dataset: String
        public var source: String
        public var trial: String
        public var model: String
        public var architecture: String
        public var base: String?
        public var learningRate: Double
        public var epochs: Int
        public var batchSize: Int
        public var l2: Double
        public var optimizer: String
        public var seed: UInt64
    }

    /// `name@vN`.
    public var label: String { "\(self.name)@v\(self.version)" }
}

/// The model agent's registration: a version with its lineage and the verdict against the objective.
public enum ModelRegistration {
    /// Builds the record for `request`.
    public static func register(_ request: RegistrationRequest) -> ModelVersionRecord {
        let objective = request.useCase.objective
        let achieved = request.evaluation.value(of: objective.metric)
        return ModelVersionRecord(
            name: request.useCase.id, version: request.version,
            lineage: .init(
                dataset: request.dataset, source: request.source, trial: request.trial.id, model: request.trial.model,
                architecture: request.trial.architecture, base: request.trial.base, learningRate: request.trial.learningRate,
                epochs: request.epochs, batchSize: request.batchSize, l2: request.l2, optimizer: "adam", seed: request.trial.seed),
            metrics: request.evaluation, meetsObjective: achieved >= objective.target,
            objective: "\(objective.metric) >= \(objective.target)", weights: request.weights, weightsBytes: request.weightsBytes)
    }
}
