public import MeshCore

/// The compute node's protocol on OpenBLAS: MeshCore's ``ComputePort`` implemented on
/// MeshCompute's maths, every request run on one ``ComputeExecutor`` thread (never the
/// cooperative pool).
///
/// `perform(_:)` first resolves the operands a request names by blob hash (through
/// `resolveBlob`, on the caller's task, checking each blob's SHA-256), then queues the now
/// self-contained request on the executor. Requests run one at a time, in arrival order. Bad
/// input — a shape mismatch, a NaN, no rows, a label outside the classes, a truncated or corrupt
/// weights file, an unknown blob — is a ``ComputeFailure`` naming what and where; the node keeps
/// serving. With one BLAS thread (the executor's default) the same request gives the same
/// response bytes every time on a machine.
///
/// ```swift
/// let node = ComputeNode()                                   // its own thread, OpenBLAS at 1 thread
/// let response = try await node.perform(.train(request))     // throws(ComputeFailure)
/// node.shutdown()
/// ```
public final class ComputeNode: ComputePort {
    /// Fetches a blob's bytes by hash (from the artifact store or a peer), or nil when it has none.
    public typealias BlobResolver = @Sendable (BlobHash) async -> [UInt8]?

    /// The thread every request runs on.
    public let executor: ComputeExecutor
    let resolver: BlobResolver?

    /// A node on `executor` (a new one, with OpenBLAS at one thread, by default).
    ///
    /// - Parameter resolveBlob: resolves operands given by hash; without it a request that names
    ///   a blob fails with ``ComputeFailure/Code/blobUnavailable``.
    public init(executor: ComputeExecutor = ComputeExecutor(), resolveBlob: BlobResolver? = nil) {
        self.executor = executor
        self.resolver = resolveBlob
    }

    /// Lets queued requests finish and stops the executor's thread.
    public func shutdown() {
        self.executor.shutdown()
    }

    /// Resolves the request's blobs, then runs it on the executor's thread.
    public func perform(_ request: ComputeRequest) async throws(ComputeFailure) -> ComputeResponse {
        let resolved = try await self.resolved(request)
        return try await self.executor.run { () throws(ComputeFailure) -> ComputeResponse in
            try Self.performInline(resolved)
        }
    }

    /// Runs a request whose operands are all inline on the calling thread, blocking it: for the
    /// executor's jobs, and for references computed without a mesh (`Orchestrator.runLocally`
    /// inside an executor job). A blob operand fails with ``ComputeFailure/Code/blobUnavailable``.
    public static func performInline(_ request: ComputeRequest) throws(ComputeFailure) -> ComputeResponse {
        do {
            switch request {
            case .train(let request):
                return .trained(try Self.train(request))
            case .fineTune(let request):
                return .fineTuned(try Self.fineTune(request))
            case .quantize(let request):
                return .quantized(try Self.quantize(try Self.inline(request.model, "quantize.model")))
            case .evaluate(let request):
                return .evaluated(
                    try Self.evaluate(
                        try Self.inline(request.model, "evaluate.model"),
                        on: try Self.inline(request.data, "evaluate.data")
                    )
                )
            case .predict(let request):
                return .predicted(
                    try Self.predict(
                        try Self.inline(request.model, "predict.model"),
                        rows: try Self.inline(request.rows, "predict.rows"),
                        output: request.output
                    )
                )
            }
        } catch let error as ComputeError {
            throw ComputeFailure(error)
        } catch let failure as ComputeFailure {
            throw failure
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private static func inline<Value>(_ operand: ComputeOperand<Value>, _ field: String) throws(ComputeFailure) -> Value {
        switch operand {
        case .inline(let value): return value
        case .blob(let hash):
            throw ComputeFailure(
                .blobUnavailable,
                field,
                "\(hash) was not resolved: blobs are resolved by perform(_:), not performInline(_:)"
            )
        }
    }

    private static func train(_ request: TrainRequest) throws -> TrainedModel {
        let configuration = try Self.configuration(request.hyperparameters)
        let architecture = try MLP.Architecture(parsing: request.architecture)
        guard architecture.hidden.count < WeightsFile.maximumLayers else {
            throw ComputeError(
                .invalidArgument,
                "model \"\(request.architecture)\"",
                "\(architecture.hidden.count) hidden layers; a weights file holds at most \(WeightsFile.maximumLayers - 1)"
            )
        }
        let training = try Self.labeled(
            try Self.inline(request.data, "train.data"),
            classLabels: request.classLabels,
            subject: "training data"
        )
        try Self.checkSize(widths: [training.featureCount] + architecture.hidden + [request.classLabels.count])
        let model = MLP(
            architecture: architecture,
            inputs: training.featureCount,
            classLabels: request.classLabels,
            seed: request.hyperparameters.seed
        )
        let validation = try request.validation.map { operand throws in try Self.inline(operand, "train.validation") }
        return try Self.run(model, on: training, validation: validation, configuration: configuration)
    }

    private static func fineTune(_ request: FineTuneRequest) throws -> TrainedModel {
        let configuration = try Self.configuration(request.hyperparameters)
        let base = try Self.fp32(try Self.inline(request.base, "finetune.base"), source: "base model", for: "fine-tuning")
        var model = base
        if case .replace(let labels) = request.head {
            try Self.checkSize(widths: Array(base.widths.dropLast()) + [labels.count])
            model = try base.replacingHead(classLabels: labels, seed: request.hyperparameters.seed)
        }
        let training = try Self.labeled(
            try Self.inline(request.data, "finetune.data"),
            classLabels: model.classLabels,
            subject: "training data"
        )
        let validation = try request.validation.map { operand throws in try Self.inline(operand, "finetune.validation") }
        return try Self.run(model, on: training, validation: validation, configuration: configuration)
    }

    private static func run(
        _ model: MLP,
        on training: LabeledData,
        validation: LabeledRows?,
        configuration: TrainingConfiguration
    ) throws -> TrainedModel {
        try Self.checkWidth(training.featureCount, of: model.inputCount, subject: "training data")
        var checked: LabeledData?
        if let validation {
            let data = try Self.labeled(validation, classLabels: model.classLabels, subject: "validation data")
            try Self.checkWidth(data.featureCount, of: model.inputCount, subject: "validation data")
            checked = data
        }
        let result = try Trainer.train(model, on: training, configuration: configuration, validation: checked)
        return TrainedModel(
            weights: SerializedWeights(WeightsFile.encode(result.model)),
            epochs: result.epochs.map { epoch in
                TrainedModel.Epoch(
                    trainLoss: epoch.trainLoss,
                    trainAccuracy: epoch.trainAccuracy,
                    validationAccuracy: epoch.validationAccuracy,
                    validationLoss: epoch.validationLoss
                )
            }
        )
    }

    private static func quantize(_ weights: SerializedWeights) throws -> SerializedWeights {
        let model = try Self.fp32(weights, source: "model", for: "quantization")
        if let index = model.layers.firstIndex(where: { $0.inputCount > QuantizedLayer.maximumInputs }) {
            throw ComputeError(
                .invalidArgument,
                "model",
                at: "layer \(index)",
                "\(model.layers[index].inputCount) inputs could overflow an int8 layer's Int32 sums (at most \(QuantizedLayer.maximumInputs))"
            )
        }
        return SerializedWeights(WeightsFile.encode(QuantizedMLP(quantizing: model)))
    }

    private static func evaluate(_ weights: SerializedWeights, on rows: LabeledRows) throws -> ModelEvaluation {
        let model = try Self.classifier(weights)
        let data = try Self.labeled(rows, classLabels: model.classLabels, subject: "evaluation data")
        try Self.checkWidth(data.featureCount, of: model.inputCount, subject: "evaluation data")
        let report = try EvaluationReport(logits: try model.logits(data.features), data: data)
        return ModelEvaluation(
            count: report.count,
            classLabels: report.classLabels,
            accuracy: report.accuracy,
            macroF1: report.macroF1,
            negativeLogLikelihood: report.negativeLogLikelihood,
            expectedCalibrationError: report.expectedCalibrationError,
            calibrationBins: EvaluationReport.calibrationBins,
            confusionMatrix: report.confusionMatrix,
            classes: report.classes.map {
                ModelEvaluation.ClassScore(
                    label: $0.label,
                    precision: $0.precision,
                    recall: $0.recall,
                    f1: $0.f1,
                    support: $0.support
                )
            },
            worstClasses: report.worstClasses.map(\.label),
            mostConfused: report.mostConfused.map {
                ModelEvaluation.ConfusedPair(actual: $0.actual, predicted: $0.predicted, count: $0.count)
            }
        )
    }

    private static func predict(_ weights: SerializedWeights, rows: TensorFrame, output: PredictRequest.Output) throws
        -> Prediction
    {
        let model = try Self.classifier(weights)
        let inputs = try Self.matrix(rows, subject: "prediction rows")
        try Self.checkWidth(inputs.columns, of: model.inputCount, subject: "prediction rows")
        let logits = try model.logits(inputs)
        switch output {
        case .logits:
            return .logits(TensorFrame(rows: logits.rows, columns: logits.columns, values: logits.values))
        case .probabilities:
            let probabilities = logits.softmaxPerRow()
            return .probabilities(
                TensorFrame(rows: probabilities.rows, columns: probabilities.columns, values: probabilities.values)
            )
        case .labels:
            return .labels(logits.argmaxPerRow().map { model.classLabels[$0] })
        }
    }

    // MARK: - Checks

    /// A model that scores rows: fp32 or int8.
    private struct Classifier {
        var classLabels: [Int]
        var inputCount: Int
        var logits: (Matrix) throws(ComputeError) -> Matrix
    }

    private static func classifier(_ weights: SerializedWeights) throws -> Classifier {
        switch try WeightsFile.decode(weights.bytes, source: "model") {
        case .fp32(let model):
            return Classifier(classLabels: model.classLabels, inputCount: model.inputCount, logits: model.logits)
        case .int8(let model):
            return Classifier(classLabels: model.classLabels, inputCount: model.inputCount, logits: model.logits)
        }
    }

    private static func fp32(_ weights: SerializedWeights, source: String, for purpose: String) throws -> MLP {
        switch try WeightsFile.decode(weights.bytes, source: source) {
        case .fp32(let model): return model
        case .int8:
            throw ComputeError(
                .invalidArgument,
                "weights file \(source)",
                "\(purpose) needs an fp32 model; this one is int8"
            )
        }
    }

    private static func configuration(_ hyperparameters: Hyperparameters) throws(ComputeError) -> TrainingConfiguration {
        let optimizer: Optimizer
        switch hyperparameters.optimizer {
        case .adam(let beta1, let beta2, let epsilon): optimizer = .adam(beta1: beta1, beta2: beta2, epsilon: epsilon)
        case .sgd(let momentum): optimizer = .sgd(momentum: momentum)
        }
        let configuration = TrainingConfiguration(
            epochs: hyperparameters.epochs,
            batchSize: hyperparameters.batchSize,
            learningRate: hyperparameters.learningRate,
            l2: hyperparameters.l2,
            optimizer: optimizer,
            trainable: hyperparameters.trainable == .head ? .head : .all,
            seed: hyperparameters.seed
        )
        try configuration.validate()
        return configuration
    }

    /// Rows as a matrix: some rows, some features, every value finite (naming the first bad cell).
    private static func matrix(_ frame: TensorFrame, subject: String) throws(ComputeError) -> Matrix {
        guard frame.rows > 0 else { throw ComputeError(.emptyDataset, subject, "no rows") }
        guard frame.columns > 0 else { throw ComputeError(.shapeMismatch, subject, "rows have no features") }
        let matrix = try Matrix(rows: frame.rows, columns: frame.columns, values: frame.values)
        try matrix.checkFinite(subject)
        return matrix
    }

    private static func labeled(_ rows: LabeledRows, classLabels: [Int], subject: String) throws(ComputeError)
        -> LabeledData
    {
        guard rows.features.rows > 0 else { throw ComputeError(.emptyDataset, subject, "no rows") }
        guard rows.features.columns > 0 else { throw ComputeError(.shapeMismatch, subject, "rows have no features") }
        let features = try Matrix(rows: rows.features.rows, columns: rows.features.columns, values: rows.features.values)
        return try LabeledData(features: features, labels: rows.labels, classLabels: classLabels, subject: subject)
    }

    private static func checkWidth(_ columns: Int, of inputs: Int, subject: String) throws(ComputeError) {
        guard columns == inputs else {
            throw ComputeError(.shapeMismatch, subject, "rows have \(columns) features; the model takes \(inputs)")
        }
    }

    /// Refuses a model whose fp32 weights file could not travel back in a response.
    private static func checkSize(widths: [Int]) throws(ComputeError) {
        var parameters = 0
        for index in 0..<(widths.count - 1) {
            parameters += widths[index] * widths[index + 1] + widths[index + 1]
        }
        guard parameters <= ComputeLimits.maximumParameters else {
            throw ComputeError(
                .invalidArgument,
                "model",
                "widths \(widths) make \(parameters) parameters; a response carries at most \(ComputeLimits.maximumParameters)"
            )
        }
    }
}
