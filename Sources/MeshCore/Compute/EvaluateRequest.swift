/// Score a model, fp32 or int8, on labelled rows (`compute.evaluate`).
///
/// On the wire, after the request header: operand model (``SerializedWeights``), operand data
/// (``LabeledRows``). The rows' labels must be classes of the model.
public struct EvaluateRequest: Sendable, Equatable {
    /// The model (fp32 or int8 weights file; int8 is scored on the integer path).
    public var model: ComputeOperand<SerializedWeights>
    /// The rows to score.
    public var data: ComputeOperand<LabeledRows>

    /// An evaluation request.
    public init(model: ComputeOperand<SerializedWeights>, data: ComputeOperand<LabeledRows>) {
        self.model = model
        self.data = data
    }

    func encode(into writer: inout WireWriter) {
        ComputeCodec.write(self.model, into: &writer) { $0.encode(into: &$1) }
        ComputeCodec.write(self.data, into: &writer) { $0.encode(into: &$1) }
    }

    init(from reader: inout WireReader) throws(WireError) {
        self.model = try ComputeCodec.readOperand("evaluate.model", from: &reader) {
            (reader: inout WireReader) throws(WireError) in
            try SerializedWeights(from: &reader, field: "evaluate.model")
        }
        self.data = try TrainingData.readRows("evaluate.data", from: &reader)
    }
}
