import MeshCore

/// Small instances of every request and response, for the codec suites.
enum CodecSamples {
    static let frame = TensorFrame(rows: [[1, -2.5, 0], [.nan, .infinity, -0.0]])
    static let rows = LabeledRows(features: TensorFrame(rows: [[0.5, 1], [2, -3], [4, 5]]), labels: [1, -7, 2_000_000])
    static let weights = SerializedWeights(Array("MWNN not really a weights file".utf8))
    static let hash = BlobHash(of: Array("a dataset blob".utf8))

    static let requests: [ComputeRequest] = [
        .train(TrainRequest(architecture: "mlp:64", classLabels: [0, 1, 2], hyperparameters: Hyperparameters(), data: .inline(rows))),
        .train(
            TrainRequest(
                architecture: "softmax", classLabels: [5, -1],
                hyperparameters: Hyperparameters(
                    epochs: 9, batchSize: 7, learningRate: 0.5, l2: 0, optimizer: .sgd(momentum: 0.25), trainable: .head,
                    seed: .max),
                data: .blob(hash), validation: .inline(rows))),
        .fineTune(
            FineTuneRequest(
                base: .inline(weights), head: .replace(classLabels: [5, 6, 7]), hyperparameters: Hyperparameters(seed: 3),
                data: .inline(rows), validation: .blob(hash))),
        .fineTune(FineTuneRequest(base: .blob(hash), head: .keep, hyperparameters: Hyperparameters(), data: .blob(hash))),
        .quantize(QuantizeRequest(model: .inline(weights))),
        .quantize(QuantizeRequest(model: .blob(hash))),
        .evaluate(EvaluateRequest(model: .inline(weights), data: .inline(rows))),
        .predict(PredictRequest(model: .inline(weights), rows: .inline(frame), output: .logits)),
        .predict(PredictRequest(model: .blob(hash), rows: .blob(hash), output: .labels)),
        .predict(PredictRequest(model: .inline(weights), rows: .inline(TensorFrame(rows: 0, columns: 3, values: [])), output: .probabilities)),
    ]

    static let evaluation = ModelEvaluation(
        count: 5, classLabels: [3, 9], accuracy: 0.6, macroF1: 0.55, negativeLogLikelihood: 0.9,
        expectedCalibrationError: 0.125, calibrationBins: 15, confusionMatrix: [[2, 1], [1, 1]],
        classes: [
            .init(label: 3, precision: 2.0 / 3, recall: 2.0 / 3, f1: 2.0 / 3, support: 3),
            .init(label: 9, precision: 0.5, recall: 0.5, f1: 0.5, support: 2),
        ],
        worstClasses: [9, 3], mostConfused: [.init(actual: 3, predicted: 9, count: 1), .init(actual: 9, predicted: 3, count: 1)])

    static let responses: [ComputeResponse] = [
        .trained(TrainedModel(weights: weights, epochs: [.init(trainLoss: 2.3, trainAccuracy: 0.1), .init(trainLoss: 1.5, trainAccuracy: 0.4)])),
        .trained(TrainedModel(weights: weights, epochs: [])),
        .fineTuned(
            TrainedModel(
                weights: weights,
                epochs: [.init(trainLoss: 0.5, trainAccuracy: 0.9, validationAccuracy: 0.85, validationLoss: 0.6)])),
        .quantized(weights),
        .evaluated(evaluation),
        .predicted(.logits(frame)),
        .predicted(.labels([3, 9, -1])),
        .predicted(.probabilities(TensorFrame(rows: [[0.25, 0.75]]))),
    ]
}

extension TensorFrame {
    /// Equality by bit pattern, so NaN frames compare equal to themselves.
    func sameBits(as other: TensorFrame) -> Bool {
        self.rows == other.rows && self.columns == other.columns
            && self.values.map(\.bitPattern) == other.values.map(\.bitPattern)
    }
}
