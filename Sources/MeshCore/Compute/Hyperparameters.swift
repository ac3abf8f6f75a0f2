/// How a training or fine-tuning request trains: epochs, batch, step size, L2, optimizer, which
/// layers learn, and the seed that keys every random draw of the run.
///
/// On the wire: u32 epochs (≤ ``ComputeLimits/maximumEpochs``), u32 batch size (≤
/// ``ComputeLimits/maximumBatchSize``), f32 learning rate, f32 L2, u8 optimizer (1 Adam: then f32
/// β1, β2, ε; 2 SGD: then f32 momentum), u8 trainable layers (1 all, 2 head), u64 seed. The codec
/// checks tags and bounds; the node refuses values outside their domain (a zero batch, a negative
/// rate) as `invalidArgument`.
public struct Hyperparameters: Sendable, Hashable {
    /// A gradient-descent update rule.
    public enum Optimizer: Sendable, Hashable {
        /// Adam with bias correction.
        case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
        /// SGD with heavy-ball momentum.
        case sgd(momentum: Float = 0.9)
    }

    /// Which layers a run updates.
    public enum Layers: UInt8, Sendable, Hashable {
        /// Every layer.
        case all = 1
        /// The logits layer only; the others are a frozen feature extractor.
        case head = 2
    }

    /// Passes over the training rows.
    public var epochs: Int
    /// Rows per step; the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// The step size.
    public var learningRate: Float
    /// The L2 penalty on weights (not biases).
    public var l2: Float
    /// The update rule.
    public var optimizer: Optimizer
    /// Which layers learn.
    public var trainable: Layers
    /// Keys initialization, a new head, and mini-batch shuffling.
    public var seed: UInt64

    /// Hyperparameters; the defaults are the reference run's (Adam 1e-3, batch 32, L2 1e-4, 60 epochs).
    public init(
        epochs: Int = 60,
        batchSize: Int = 32,
        learningRate: Float = 1e-3,
        l2: Float = 1e-4,
        optimizer: Optimizer = .adam(),
        trainable: Layers = .all,
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

    static let adamTag: UInt8 = 1
    static let sgdTag: UInt8 = 2

    /// Appends the fields.
    public func encode(into writer: inout WireWriter) {
        writer.write(UInt32(clamping: self.epochs))
        writer.write(UInt32(clamping: self.batchSize))
        ComputeCodec.write(self.learningRate, into: &writer)
        ComputeCodec.write(self.l2, into: &writer)
        switch self.optimizer {
        case .adam(let beta1, let beta2, let epsilon):
            writer.write(Self.adamTag)
            ComputeCodec.write(beta1, into: &writer)
            ComputeCodec.write(beta2, into: &writer)
            ComputeCodec.write(epsilon, into: &writer)
        case .sgd(let momentum):
            writer.write(Self.sgdTag)
            ComputeCodec.write(momentum, into: &writer)
        }
        writer.write(self.trainable.rawValue)
        writer.write(self.seed)
    }

    /// Reads the fields, checking the epoch and batch bounds and the tags.
    public init(from reader: inout WireReader, field: String) throws(WireError) {
        let epochs = Int(try reader.readUInt32(field + ".epochs"))
        guard epochs <= ComputeLimits.maximumEpochs else {
            throw WireError(.oversized, "\(field).epochs: \(epochs), at most \(ComputeLimits.maximumEpochs) allowed")
        }
        let batchSize = Int(try reader.readUInt32(field + ".batchSize"))
        guard batchSize <= ComputeLimits.maximumBatchSize else {
            throw WireError(
                .oversized,
                "\(field).batchSize: \(batchSize), at most \(ComputeLimits.maximumBatchSize) allowed"
            )
        }
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = try ComputeCodec.readFloat(field + ".learningRate", from: &reader)
        self.l2 = try ComputeCodec.readFloat(field + ".l2", from: &reader)
        switch try ComputeCodec.readTag(field + ".optimizer", allowed: Self.adamTag...Self.sgdTag, from: &reader) {
        case Self.adamTag:
            self.optimizer = .adam(
                beta1: try ComputeCodec.readFloat(field + ".beta1", from: &reader),
                beta2: try ComputeCodec.readFloat(field + ".beta2", from: &reader),
                epsilon: try ComputeCodec.readFloat(field + ".epsilon", from: &reader)
            )
        default:
            self.optimizer = .sgd(momentum: try ComputeCodec.readFloat(field + ".momentum", from: &reader))
        }
        let layers = try ComputeCodec.readTag(field + ".trainable", allowed: 1...2, from: &reader)
        self.trainable = Layers(rawValue: layers)!
        self.seed = try reader.readUInt64(field + ".seed")
    }
}
