/// Fine-tune a pretrained fp32 model (`compute.finetune`): keep its head and train on, or
/// replace the head for a new label set, then train all layers or the head only.
///
/// On the wire, after the request header: operand base weights (``SerializedWeights``), u8 head
/// (1 keep; 2 replace, then labels: u32 K ≤ 2¹⁶, K i32), ``Hyperparameters``, operand data, u8
/// has-validation, [operand validation]. A new head is initialized from the seed
/// (`SeededRandom(seed:key: "mlp/head")`).
public struct FineTuneRequest: Sendable, Equatable {
    /// What happens to the base model's logits layer.
    public enum Head: Sendable, Equatable {
        /// Keep it: the data's labels must be the base model's classes.
        case keep
        /// Replace it by a fresh layer with one output per label.
        case replace(classLabels: [Int])
    }

    /// The pretrained model (an fp32 weights file).
    public var base: ComputeOperand<SerializedWeights>
    /// Keep or replace the head.
    public var head: Head
    /// How to train (``Hyperparameters/trainable`` `.head` freezes the kept layers).
    public var hyperparameters: Hyperparameters
    /// The training rows.
    public var data: ComputeOperand<LabeledRows>
    /// Rows scored after every epoch.
    public var validation: ComputeOperand<LabeledRows>?

    /// A fine-tuning request.
    public init(
        base: ComputeOperand<SerializedWeights>,
        head: Head,
        hyperparameters: Hyperparameters,
        data: ComputeOperand<LabeledRows>,
        validation: ComputeOperand<LabeledRows>? = nil
    ) {
        self.base = base
        self.head = head
        self.hyperparameters = hyperparameters
        self.data = data
        self.validation = validation
    }

    static let keepTag: UInt8 = 1
    static let replaceTag: UInt8 = 2

    func encode(into writer: inout WireWriter) {
        ComputeCodec.write(self.base, into: &writer) { $0.encode(into: &$1) }
        switch self.head {
        case .keep:
            writer.write(Self.keepTag)
        case .replace(let labels):
            writer.write(Self.replaceTag)
            ComputeCodec.writeLabels(labels, into: &writer)
        }
        self.hyperparameters.encode(into: &writer)
        TrainingData.encode(data: self.data, validation: self.validation, into: &writer)
    }

    init(from reader: inout WireReader) throws(WireError) {
        self.base = try ComputeCodec.readOperand("finetune.base", from: &reader) {
            (reader: inout WireReader) throws(WireError) in
            try SerializedWeights(from: &reader, field: "finetune.base")
        }
        switch try ComputeCodec.readTag("finetune.head", allowed: Self.keepTag...Self.replaceTag, from: &reader) {
        case Self.keepTag:
            self.head = .keep
        default:
            self.head = .replace(
                classLabels: try ComputeCodec.readLabels(
                    "finetune.classLabels",
                    maximum: ComputeLimits.maximumClasses,
                    from: &reader
                )
            )
        }
        self.hyperparameters = try Hyperparameters(from: &reader, field: "finetune.hyperparameters")
        (self.data, self.validation) = try TrainingData.read("finetune", from: &reader)
    }
}
