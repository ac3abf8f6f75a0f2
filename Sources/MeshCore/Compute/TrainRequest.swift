/// Train a fresh model (`compute.train`): an architecture, the label set, hyperparameters and
/// the training rows, optionally validation rows scored after every epoch.
///
/// On the wire, after the request header: string architecture (≤ 256 bytes: `softmax`,
/// `mlp:64`, `mlp:128,64`), labels (u32 K ≤ 2¹⁶, K i32), ``Hyperparameters``, operand data
/// (``LabeledRows``), u8 has-validation (0/1), [operand validation].
/// The model's input width is the data's column count; initialization is keyed by the seed.
public struct TrainRequest: Sendable, Equatable {
    /// The hidden layers: `softmax` or `mlp:W1,W2,…`.
    public var architecture: String
    /// The classes, in output order (output `j` stands for `classLabels[j]`).
    public var classLabels: [Int]
    /// How to train.
    public var hyperparameters: Hyperparameters
    /// The training rows.
    public var data: ComputeOperand<LabeledRows>
    /// Rows scored after every epoch (reported only, never used to steer training).
    public var validation: ComputeOperand<LabeledRows>?

    /// A training request.
    public init(
        architecture: String,
        classLabels: [Int],
        hyperparameters: Hyperparameters,
        data: ComputeOperand<LabeledRows>,
        validation: ComputeOperand<LabeledRows>? = nil
    ) {
        self.architecture = architecture
        self.classLabels = classLabels
        self.hyperparameters = hyperparameters
        self.data = data
        self.validation = validation
    }

    func encode(into writer: inout WireWriter) {
        writer.write(self.architecture)
        ComputeCodec.writeLabels(self.classLabels, into: &writer)
        self.hyperparameters.encode(into: &writer)
        TrainingData.encode(data: self.data, validation: self.validation, into: &writer)
    }

    init(from reader: inout WireReader) throws(WireError) {
        self.architecture = try reader.readString(
            "train.architecture",
            maxLength: ComputeLimits.maximumArchitectureLength
        )
        self.classLabels = try ComputeCodec.readLabels(
            "train.classLabels",
            maximum: ComputeLimits.maximumClasses,
            from: &reader
        )
        self.hyperparameters = try Hyperparameters(from: &reader, field: "train.hyperparameters")
        (self.data, self.validation) = try TrainingData.read("train", from: &reader)
    }
}

/// The data fields shared by training and fine-tuning requests.
enum TrainingData {
    static func encode(
        data: ComputeOperand<LabeledRows>,
        validation: ComputeOperand<LabeledRows>?,
        into writer: inout WireWriter
    ) {
        ComputeCodec.write(data, into: &writer) { $0.encode(into: &$1) }
        writer.write(validation != nil)
        if let validation { ComputeCodec.write(validation, into: &writer) { $0.encode(into: &$1) } }
    }

    static func read(_ field: String, from reader: inout WireReader) throws(WireError) -> (
        ComputeOperand<LabeledRows>, ComputeOperand<LabeledRows>?
    ) {
        let data = try Self.readRows(field + ".data", from: &reader)
        let validation =
            try reader.readBool(field + ".hasValidation") ? try Self.readRows(field + ".validation", from: &reader) : nil
        return (data, validation)
    }

    static func readRows(_ field: String, from reader: inout WireReader) throws(WireError) -> ComputeOperand<LabeledRows> {
        try ComputeCodec.readOperand(field, from: &reader) { (reader: inout WireReader) throws(WireError) in
            try LabeledRows(from: &reader, field: field)
        }
    }
}
