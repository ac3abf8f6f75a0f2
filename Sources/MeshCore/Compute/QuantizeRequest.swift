/// Quantize an fp32 model to int8 (`compute.quantize`): weights symmetric per output channel,
/// as docs/COMPUTE.md "Int8 scheme" says.
///
/// On the wire, after the request header: operand model (``SerializedWeights``, fp32).
public struct QuantizeRequest: Sendable, Equatable {
    /// The fp32 model.
    public var model: ComputeOperand<SerializedWeights>

    /// A quantization request.
    public init(model: ComputeOperand<SerializedWeights>) {
        self.model = model
    }

    func encode(into writer: inout WireWriter) {
        ComputeCodec.write(self.model, into: &writer) { $0.encode(into: &$1) }
    }

    init(from reader: inout WireReader) throws(WireError) {
        self.model = try ComputeCodec.readOperand("quantize.model", from: &reader) {
            (reader: inout WireReader) throws(WireError) in
            try SerializedWeights(from: &reader, field: "quantize.model")
        }
    }
}
