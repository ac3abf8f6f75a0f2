import Foundation
import MeshCore

/// Mini-batch training of an ``MLP`` with softmax cross-entropy.
///
/// Runs on the calling thread and blocks it for the whole run: call it inside a
/// ``ComputeExecutor`` job. Each epoch shuffles the rows with
/// `SeededRandom(seed: configuration.seed, key: "trainer/shuffle")`, then takes batch GEMMs
/// through OpenBLAS; no step allocates.
public enum Trainer {
    /// Trains `model` on `data` and returns the trained copy with its per-epoch history.
    ///
    /// - Parameters:
    ///   - validation: rows to score after each epoch (reported, never used to steer training).
    ///   - progress: called after each epoch on the training thread.
    /// - Throws: ``ComputeError`` when the configuration is out of range, the data's width or
    ///   classes do not match the model, or training diverged to a non-finite loss.
    public static func train(
        _ model: MLP,
        on data: LabeledData,
        configuration: TrainingConfiguration,
        validation: LabeledData? = nil,
        progress: (EpochReport) -> Void = { _ in }
    ) throws(ComputeError) -> TrainingResult {
        try configuration.validate()
        try Self.check(data, against: model, subject: "training data")
        if let validation { try Self.check(validation, against: model, subject: "validation data") }

        let batch = min(configuration.batchSize, data.count)
        let workspace = TrainingWorkspace(model: model, maxBatch: batch)
        let firstTrainable = configuration.trainable == .head ? model.layers.count - 1 : 0
        var rng = SeededRandom(seed: configuration.seed, key: "trainer/shuffle")
        var order = Array(0..<data.count)
        var step = 0
        var reports: [EpochReport] = []
        let clock = ContinuousClock()

        for epoch in stride(from: 1, through: configuration.epochs, by: 1) {
            let start = clock.now
            let cpuStart = Self.threadCPUSeconds()
            rng.shuffle(&order)
            var lossSum: Double = 0
            var correct = 0
            var batchTargets = [Int](repeating: 0, count: batch)
            data.features.withUnsafeBufferPointer { features in
                order.withUnsafeBufferPointer { order in
                    batchTargets.withUnsafeMutableBufferPointer { batchTargets in
                        var position = 0
                        while position < order.count {
                            let range = position..<min(position + batch, order.count)
                            for (slot, index) in range.enumerated() { batchTargets[slot] = data.targets[order[index]] }
                            workspace.loadBatch(features: features.baseAddress!, order: order, range: range)
                            let (loss, right) = workspace.forward(rows: range.count, targets: batchTargets.baseAddress!)
                            workspace.backward(rows: range.count, firstTrainable: firstTrainable)
                            step += 1
                            workspace.update(
                                optimizer: configuration.optimizer,
                                learningRate: configuration.learningRate,
                                l2: configuration.l2,
                                step: step,
                                firstTrainable: firstTrainable
                            )
                            lossSum += loss
                            correct += right
                            position = range.upperBound
                        }
                    }
                }
            }
            let elapsed = clock.now - start
            let cpu = Self.threadCPUSeconds() - cpuStart
            guard lossSum.isFinite else {
                throw ComputeError(
                    .nonFinite,
                    "training",
                    at: "epoch \(epoch)",
                    "the loss diverged to \(lossSum); lower the learning rate"
                )
            }
            var report = EpochReport(
                epoch: epoch,
                trainLoss: lossSum / Double(data.count),
                trainAccuracy: Double(correct) / Double(data.count),
                milliseconds: Double(elapsed.components.seconds) * 1e3
                    + Double(elapsed.components.attoseconds) * 1e-15,
                cpuMilliseconds: cpu * 1e3
            )
            if let validation {
                let current = MLP(uncheckedLayers: workspace.layers(), classLabels: model.classLabels)
                let logits = try current.logits(validation.features)
                let scores = Self.score(logits: logits, targets: validation.targets)
                report.validationAccuracy = scores.accuracy
                report.validationLoss = scores.loss
            }
            reports.append(report)
            progress(report)
        }
        let trained = MLP(uncheckedLayers: workspace.layers(), classLabels: model.classLabels)
        for (index, layer) in trained.layers.enumerated() {
            try layer.weights.checkFinite("trained layer \(index) weights")
        }
        return TrainingResult(model: trained, epochs: reports)
    }

    /// CPU time consumed by the calling thread so far.
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    static func check(_ data: LabeledData, against model: MLP, subject: String) throws(ComputeError) {
        guard data.featureCount == model.inputCount else {
            throw ComputeError(
                .shapeMismatch,
                subject,
                "rows have \(data.featureCount) features; the model takes \(model.inputCount)"
            )
        }
        guard data.classLabels == model.classLabels else {
            throw ComputeError(
                .labelOutOfRange,
                subject,
                "its classes \(data.classLabels) are not the model's \(model.classLabels)"
            )
        }
    }

    /// Accuracy and mean cross-entropy of `logits` against `targets`.
    static func score(logits: Matrix, targets: [Int]) -> (accuracy: Double, loss: Double) {
        var logits = logits
        let classes = logits.columns
        var loss: Double = 0
        var correct = 0
        let predictions = logits.argmaxPerRow()
        logits.withUnsafeMutableBufferPointer { values in
            for row in 0..<targets.count {
                let base = values.baseAddress! + row * classes
                let target = base[targets[row]]
                loss += Double(Softmax.inPlace(base, count: classes) - target)
                if predictions[row] == targets[row] { correct += 1 }
            }
        }
        return (Double(correct) / Double(targets.count), loss / Double(targets.count))
    }
}

extension MLP {
    /// A model over layers the caller knows fit (the trainer's own output).
    init(uncheckedLayers layers: [DenseLayer], classLabels: [Int]) {
        self.layers = layers
        self.classLabels = classLabels
    }

    /// The regularized loss of this model on `inputs` and its gradient with respect to every
    /// weight and bias, computed by the same code the trainer uses.
    ///
    /// The loss is the mean softmax cross-entropy plus `l2/2 · Σ w²` over all weights; the
    /// gradients include the L2 term. Used to check back-propagation against finite differences,
    /// and by callers that combine gradients themselves.
    /// - Parameter targets: class indices (into ``classLabels``) of each row.
    public func lossAndGradients(
        inputs: Matrix,
        targets: [Int],
        l2: Float = 0
    ) throws(ComputeError) -> (loss: Double, gradients: [DenseLayer]) {
        try self.checkInputs(inputs)
        guard targets.count == inputs.rows else {
            throw ComputeError(.shapeMismatch, "targets", "\(targets.count) targets for \(inputs.rows) rows")
        }
        if let bad = targets.firstIndex(where: { $0 < 0 || $0 >= self.classCount }) {
            throw ComputeError(
                .labelOutOfRange,
                "targets",
                at: "row \(bad)",
                "class index \(targets[bad]) is not below \(self.classCount)"
            )
        }
        let workspace = TrainingWorkspace(model: self, maxBatch: inputs.rows)
        let order = Array(0..<inputs.rows)
        let loss = inputs.withUnsafeBufferPointer { features in
            order.withUnsafeBufferPointer { order in
                targets.withUnsafeBufferPointer { targets in
                    workspace.loadBatch(features: features.baseAddress!, order: order, range: 0..<order.count)
                    let (loss, _) = workspace.forward(rows: order.count, targets: targets.baseAddress!)
                    workspace.backward(rows: order.count, firstTrainable: 0)
                    return loss
                }
            }
        }
        var penalty: Double = 0
        var gradients = workspace.gradients()
        for (index, layer) in self.layers.enumerated() {
            for value in layer.weights.values { penalty += Double(value) * Double(value) }
            gradients[index].weights.withUnsafeMutableBufferPointer { gradient in
                for i in gradient.indices { gradient[i] += l2 * layer.weights.values[i] }
            }
        }
        return (loss / Double(inputs.rows) + Double(l2) / 2 * penalty, gradients)
    }
}
