/// Run a model, fp32 or int8, on rows (`compute.predict`): logits, probabilities or labels.
///
/// On the wire, after the request header: operand model (``SerializedWeights``), operand rows
/// (``TensorFrame``; a blob is a dataset blob whose labels are ignored), u8 output (1 logits,
/// 2 labels, 3 probabilities).
public struct PredictRequest: Sendable, Equatable {
    /// What a prediction returns.
    public enum Output: UInt8, Sendable, Hashable {
        /// The pre-softmax scores, one row per input row.
        case logits = 1
        /// The predicted class label of each row.
        case labels = 2
        /// The softmax of the logits.
        case probabilities = 3
    }

    /// The model.
    public var model: ComputeOperand<SerializedWeights>
    /// The rows.
    public var rows: ComputeOperand<TensorFrame>
    /// What to return.
    public var output: Output

    /// A prediction request.
    public init(model: ComputeOperand<SerializedWeights>, rows: ComputeOperand<TensorFrame>, output: Output) {
        self.model = model
        self.rows = rows
        self.output = output
    }

    func encode(into writer: inout WireWriter) {
        ComputeCodec.write(self.model, into: &writer) { $0.encode(into: &$1) }
        ComputeCodec.write(self.rows, into: &writer) { $0.encode(into: &$1) }
        writer.write(self.output.rawValue)
    }

    init(from reader: inout WireReader) throws(WireError) {
        self.model = try ComputeCodec.readOperand("predict.model", from: &reader) {
            (reader: inout WireReader) throws(WireError) in
            try SerializedWeights(from: &reader, field: "predict.model")
        }
        self.rows = try ComputeCodec.readOperand("predict.rows", from: &reader) {
            (reader: inout WireReader) throws(WireError) in
            try TensorFrame(from: &reader, field: "predict.rows")
        }
        self.output = Output(rawValue: try ComputeCodec.readTag("predict.output", allowed: 1...3, from: &reader))!
    }
}
