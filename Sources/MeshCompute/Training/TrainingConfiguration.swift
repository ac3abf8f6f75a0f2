/// How to train: epochs, batch, optimizer, regularization, which layers learn, and the seed.
///
/// The seed keys every random draw of a run (shuffling; initialization is the model's own), so
/// the same configuration, data and starting model give the same weights bit for bit on the same
/// machine, kernel and BLAS thread count.
public struct TrainingConfiguration: Sendable, Hashable, Codable {
    /// Passes over the training rows.
    public var epochs: Int
    /// Rows per gradient step; the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// The step size.
    public var learningRate: Float
    /// The L2 penalty `λ`: the loss gains `λ/2 · Σ w²` over every weight (not the biases).
    public var l2: Float
    /// The update rule.
    public var optimizer: Optimizer
    /// Which layers learn; the others keep their weights.
    public var trainable: TrainableLayers
    /// Keys the mini-batch shuffling.
    public var seed: UInt64

    /// A configuration; the defaults are the reference run's (Adam 1e-3, batch 32, L2 1e-4, 60 epochs).
    public init(
        epochs: Int = 60,
        batchSize: Int = 32,
        learningRate: Float = 1e-3,
        l2: Float = 1e-4,
        optimizer: Optimizer = .adam(),
        trainable: TrainableLayers = .all,
        seed: UInt64 = 0
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.l2 = l2
        self.optimizer = optimizer
        self.trainable = trainable
        self.seed = seed
    }

    /// Throws ``ComputeError/Code/invalidArgument`` naming the first value outside its domain.
    public func validate() throws(ComputeError) {
        func fail(_ reason: String) -> ComputeError { ComputeError(.invalidArgument, "training configuration", reason) }
        guard self.epochs >= 0 else { throw fail("epochs \(self.epochs) is negative") }
        guard self.batchSize >= 1 else { throw fail("batch size \(self.batchSize) is not positive") }
        guard self.learningRate.isFinite, self.learningRate > 0 else {
            throw fail("learning rate \(self.learningRate) is not a positive number")
        }
        guard self.l2.isFinite, self.l2 >= 0 else { throw fail("L2 \(self.l2) is not a non-negative number") }
        switch self.optimizer {
        case .adam(let beta1, let beta2, let epsilon):
            guard (0..<1).contains(beta1), (0..<1).contains(beta2), epsilon.isFinite, epsilon > 0 else {
                throw fail("Adam needs 0 ≤ β1, β2 < 1 and ε > 0, got \(beta1), \(beta2), \(epsilon)")
            }
        case .sgd(let momentum):
            guard (0..<1).contains(momentum) else { throw fail("momentum \(momentum) is not in [0, 1)") }
        }
    }
}
