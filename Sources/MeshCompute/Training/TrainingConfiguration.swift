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
        epochs: Int = 60, batchSize: Int = 32, learningRate: Float = 1e-3, l2: Float = 1e-4,
        optimizer: Optimizer = .adam(), trainable: TrainableLayers = .all, seed: UInt64 = 0
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

/// A gradient-descent update rule.
public enum Optimizer: Sendable, Hashable, Codable {
    /// Adam (Kingma & Ba) with bias correction: `w -= lr · m̂ / (√v̂ + ε)`.
    case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// Stochastic gradient descent with (heavy-ball) momentum: `v = μv - lr·g; w += v`.
    case sgd(momentum: Float = 0.9)
}

/// Which layers a training run updates.
public enum TrainableLayers: String, Sendable, Hashable, Codable {
    /// Every layer.
    case all
    /// The last (logits) layer only: the rest is a frozen feature extractor.
    case head
}

/// What one epoch did.
public struct EpochReport: Sendable, Hashable, Codable {
    /// 1-based.
    public var epoch: Int
    /// The mean cross-entropy over the epoch's batches, as the weights were when each was seen.
    public var trainLoss: Double
    /// The share of training rows whose prediction was right when their batch was seen.
    public var trainAccuracy: Double
    /// Wall time of the epoch's training steps, in milliseconds (validation excluded).
    public var milliseconds: Double
    /// CPU time the training thread spent on those steps, in milliseconds: with one BLAS thread
    /// all the work is on that thread, so on a shared machine this is the epoch's cost without
    /// the time other processes held the core.
    public var cpuMilliseconds: Double
    /// Accuracy on the validation rows after the epoch, when some were given.
    public var validationAccuracy: Double?
    /// Mean cross-entropy on the validation rows after the epoch, when some were given.
    public var validationLoss: Double?
}

/// A trained model and the history of its run.
public struct TrainingResult: Sendable, Hashable {
    /// The model after the last epoch.
    public var model: MLP
    /// One report per epoch.
    public var epochs: [EpochReport]

    /// The mean epoch time in milliseconds, the first epoch excluded when there are several
    /// (it pays for first-touch page faults and cold caches).
    public var meanEpochMilliseconds: Double {
        let timed = self.timedEpochs
        guard !timed.isEmpty else { return 0 }
        return timed.reduce(0) { $0 + $1.milliseconds } / Double(timed.count)
    }

    /// The median epoch wall time in milliseconds, first epoch excluded: robust to the odd epoch
    /// during which the process was preempted.
    public var medianEpochMilliseconds: Double {
        let sorted = self.timedEpochs.map(\.milliseconds).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The mean epoch CPU time of the training thread in milliseconds, first epoch excluded.
    public var meanEpochCPUMilliseconds: Double {
        let timed = self.timedEpochs
        guard !timed.isEmpty else { return 0 }
        return timed.reduce(0) { $0 + $1.cpuMilliseconds } / Double(timed.count)
    }

    private var timedEpochs: ArraySlice<EpochReport> {
        self.epochs.count > 1 ? self.epochs.dropFirst() : self.epochs[...]
    }
}
