import Foundation

/// Every buffer one training run needs, allocated once so a step allocates nothing: the
/// parameters, their gradients and optimizer state, and the activations and deltas of one batch.
///
/// Owned by a single run on a single thread; never shared, so it is not `Sendable`.
final class TrainingWorkspace {
    /// Layer widths, input first.
    let widths: [Int]
    let maxBatch: Int
    var weights: [UnsafeMutablePointer<Float>] = []
    var biases: [UnsafeMutablePointer<Float>] = []
    var weightGradients: [UnsafeMutablePointer<Float>] = []
    var biasGradients: [UnsafeMutablePointer<Float>] = []
    /// Adam's first moment, or SGD's velocity.
    var weightMoments: [UnsafeMutablePointer<Float>] = []
    var biasMoments: [UnsafeMutablePointer<Float>] = []
    /// Adam's second moment (unused by SGD).
    var weightSquares: [UnsafeMutablePointer<Float>] = []
    var biasSquares: [UnsafeMutablePointer<Float>] = []
    /// `activations[l]` is the batch's input to layer `l`; the last holds the probabilities.
    var activations: [UnsafeMutablePointer<Float>] = []
    var delta: UnsafeMutablePointer<Float>
    var spareDelta: UnsafeMutablePointer<Float>
    private var owned: [UnsafeMutablePointer<Float>] = []

    init(model: MLP, maxBatch: Int) {
        self.widths = model.widths
        self.maxBatch = maxBatch
        let widest = self.widths.max()!
        self.delta = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * widest)
        self.spareDelta = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * widest)
        self.delta.initialize(repeating: 0, count: maxBatch * widest)
        self.spareDelta.initialize(repeating: 0, count: maxBatch * widest)
        self.owned = [self.delta, self.spareDelta]
        for (index, layer) in model.layers.enumerated() {
            let count = layer.weights.values.count
            let outputs = layer.outputCount
            let w = self.allocate(count)
            layer.weights.withUnsafeBufferPointer { w.update(from: $0.baseAddress!, count: count) }
            let b = self.allocate(outputs)
            layer.bias.withUnsafeBufferPointer { b.update(from: $0.baseAddress!, count: outputs) }
            self.weights.append(w)
            self.biases.append(b)
            self.weightGradients.append(self.allocate(count))
            self.biasGradients.append(self.allocate(outputs))
            self.weightMoments.append(self.allocate(count))
            self.biasMoments.append(self.allocate(outputs))
            self.weightSquares.append(self.allocate(count))
            self.biasSquares.append(self.allocate(outputs))
            self.activations.append(self.allocate(maxBatch * self.widths[index]))
        }
        self.activations.append(self.allocate(maxBatch * self.widths.last!))
    }

    deinit {
        for pointer in self.owned { pointer.deallocate() }
    }

    private func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        self.owned.append(pointer)
        return pointer
    }

    var layerCount: Int { self.widths.count - 1 }

    /// Copies the rows `order[range]` of `features` (row-major, `widths[0]` wide) into the input
    /// activations.
    func loadBatch(features: UnsafePointer<Float>, order: UnsafeBufferPointer<Int>, range: Range<Int>) {
        let width = self.widths[0]
        let input = self.activations[0]
        for (slot, position) in range.enumerated() {
            (input + slot * width).update(from: features + order[position] * width, count: width)
        }
    }

    /// Runs the loaded batch of `rows` forward, leaves the softmax probabilities in the last
    /// activations and `(p - onehot) / rows` in ``delta``, and returns the summed cross-entropy
    /// and the number of right predictions.
    func forward(rows: Int, targets: UnsafePointer<Int>) -> (loss: Double, correct: Int) {
        for layer in 0..<self.layerCount {
            let inputs = self.widths[layer]
            let outputs = self.widths[layer + 1]
            let output = self.activations[layer + 1]
            BLAS.gemm(
                transposeA: false,
                transposeB: false,
                m: rows,
                n: outputs,
                k: inputs,
                alpha: 1,
                a: self.activations[layer],
                lda: inputs,
                b: self.weights[layer],
                ldb: outputs,
                beta: 0,
                c: output,
                ldc: outputs
            )
            Lanes.addBias(
                self.biases[layer],
                to: output,
                rows: rows,
                columns: outputs,
                relu: layer < self.layerCount - 1
            )
        }
        let classes = self.widths.last!
        let probabilities = self.activations.last!
        let scale = 1 / Float(rows)
        var loss: Double = 0
        var correct = 0
        for row in 0..<rows {
            let values = probabilities + row * classes
            let target = targets[row]
            var best = 0
            for j in 1..<classes where values[j] > values[best] { best = j }
            if best == target { correct += 1 }
            let targetLogit = values[target]
            let logPartition = Softmax.inPlace(values, count: classes)
            loss += Double(logPartition - targetLogit)
            let d = self.delta + row * classes
            for j in 0..<classes { d[j] = values[j] * scale }
            d[target] -= scale
        }
        return (loss, correct)
    }

    /// Back-propagates ``delta`` (left by ``forward(rows:targets:)``) into the weight and bias
    /// gradients of layers `firstTrainable...`; the L2 term is added by the optimizer step.
    func backward(rows: Int, firstTrainable: Int) {
        var layer = self.layerCount - 1
        while layer >= firstTrainable {
            let inputs = self.widths[layer]
            let outputs = self.widths[layer + 1]
            BLAS.gemm(
                transposeA: true,
                transposeB: false,
                m: inputs,
                n: outputs,
                k: rows,
                alpha: 1,
                a: self.activations[layer],
                lda: inputs,
                b: self.delta,
                ldb: outputs,
                beta: 0,
                c: self.weightGradients[layer],
                ldc: outputs
            )
            Lanes.columnSums(self.delta, rows: rows, columns: outputs, into: self.biasGradients[layer])
            if layer > firstTrainable {
                BLAS.gemm(
                    transposeA: false,
                    transposeB: true,
                    m: rows,
                    n: inputs,
                    k: outputs,
                    alpha: 1,
                    a: self.delta,
                    lda: outputs,
                    b: self.weights[layer],
                    ldb: outputs,
                    beta: 0,
                    c: self.spareDelta,
                    ldc: inputs
                )
                // The ReLU's derivative: its output is positive exactly where its input was.
                Lanes.maskByPositive(self.spareDelta, where: self.activations[layer], count: rows * inputs)
                swap(&self.delta, &self.spareDelta)
            }
            layer -= 1
        }
    }

    /// Applies one update of `optimizer` to layers `firstTrainable...` with `step` counted from 1.
    func update(optimizer: Optimizer, learningRate: Float, l2: Float, step: Int, firstTrainable: Int) {
        for layer in firstTrainable..<self.layerCount {
            let weightCount = self.widths[layer] * self.widths[layer + 1]
            let biasCount = self.widths[layer + 1]
            switch optimizer {
            case .adam(let beta1, let beta2, let epsilon):
                let correction1 = 1 / (1 - Float(pow(Double(beta1), Double(step))))
                let correction2 = 1 / (1 - Float(pow(Double(beta2), Double(step))))
                Self.adam(
                    parameters: self.weights[layer],
                    gradients: self.weightGradients[layer],
                    moments: self.weightMoments[layer],
                    squares: self.weightSquares[layer],
                    count: weightCount,
                    l2: l2,
                    learningRate: learningRate,
                    beta1: beta1,
                    beta2: beta2,
                    epsilon: epsilon,
                    correction1: correction1,
                    correction2: correction2
                )
                Self.adam(
                    parameters: self.biases[layer],
                    gradients: self.biasGradients[layer],
                    moments: self.biasMoments[layer],
                    squares: self.biasSquares[layer],
                    count: biasCount,
                    l2: 0,
                    learningRate: learningRate,
                    beta1: beta1,
                    beta2: beta2,
                    epsilon: epsilon,
                    correction1: correction1,
                    correction2: correction2
                )
            case .sgd(let momentum):
                Self.sgd(
                    parameters: self.weights[layer],
                    gradients: self.weightGradients[layer],
                    velocity: self.weightMoments[layer],
                    count: weightCount,
                    l2: l2,
                    learningRate: learningRate,
                    momentum: momentum
                )
                Self.sgd(
                    parameters: self.biases[layer],
                    gradients: self.biasGradients[layer],
                    velocity: self.biasMoments[layer],
                    count: biasCount,
                    l2: 0,
                    learningRate: learningRate,
                    momentum: momentum
                )
            }
        }
    }

    // The update loops below are written with explicit SIMD8 blocks: as plain loops over four
    // pointers the optimizer kept them scalar (possible aliasing, and `squareRoot()` with a libm
    // fallback), and Adam was a third of an epoch. Each lane computes exactly the scalar formula
    // of the tail loop, so the result does not depend on where a block boundary falls.

    @inline(__always)
    private static func adam(
        parameters: UnsafeMutablePointer<Float>,
        gradients: UnsafePointer<Float>,
        moments: UnsafeMutablePointer<Float>,
        squares: UnsafeMutablePointer<Float>,
        count: Int,
        l2: Float,
        learningRate: Float,
        beta1: Float,
        beta2: Float,
        epsilon: Float,
        correction1: Float,
        correction2: Float
    ) {
        let keep1 = 1 - beta1
        let keep2 = 1 - beta2
        var index = 0
        while index + 8 <= count {
            let p = Lanes.load(parameters + index)
            let g = Lanes.load(gradients + index) + l2 * p
            let m = beta1 * Lanes.load(moments + index) + keep1 * g
            let v = beta2 * Lanes.load(squares + index) + keep2 * g * g
            Lanes.store(m, moments + index)
            Lanes.store(v, squares + index)
            Lanes.store(
                p - learningRate * (m * correction1) / ((v * correction2).squareRoot() + epsilon),
                parameters + index
            )
            index += 8
        }
        while index < count {
            let p = parameters[index]
            let g = gradients[index] + l2 * p
            let m = beta1 * moments[index] + keep1 * g
            let v = beta2 * squares[index] + keep2 * g * g
            moments[index] = m
            squares[index] = v
            parameters[index] = p - learningRate * (m * correction1) / ((v * correction2).squareRoot() + epsilon)
            index += 1
        }
    }

    @inline(__always)
    private static func sgd(
        parameters: UnsafeMutablePointer<Float>,
        gradients: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>,
        count: Int,
        l2: Float,
        learningRate: Float,
        momentum: Float
    ) {
        var index = 0
        while index + 8 <= count {
            let p = Lanes.load(parameters + index)
            let v = momentum * Lanes.load(velocity + index) - learningRate * (Lanes.load(gradients + index) + l2 * p)
            Lanes.store(v, velocity + index)
            Lanes.store(p + v, parameters + index)
            index += 8
        }
        while index < count {
            let p = parameters[index]
            let v = momentum * velocity[index] - learningRate * (gradients[index] + l2 * p)
            velocity[index] = v
            parameters[index] = p + v
            index += 1
        }
    }

    /// The current parameters as layers.
    func layers() -> [DenseLayer] { self.snapshot(weights: self.weights, biases: self.biases) }

    /// The current gradients as layers (weights' gradients without the L2 term).
    func gradients() -> [DenseLayer] { self.snapshot(weights: self.weightGradients, biases: self.biasGradients) }

    private func snapshot(weights: [UnsafeMutablePointer<Float>], biases: [UnsafeMutablePointer<Float>]) -> [DenseLayer]
    {
        (0..<self.layerCount).map { layer in
            let inputs = self.widths[layer]
            let outputs = self.widths[layer + 1]
            return DenseLayer(
                unchecked: Matrix(
                    rows: inputs,
                    columns: outputs,
                    unchecked: Array(UnsafeBufferPointer(start: weights[layer], count: inputs * outputs))
                ),
                bias: Array(UnsafeBufferPointer(start: biases[layer], count: outputs))
            )
        }
    }
}
