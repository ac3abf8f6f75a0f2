/// What a prediction request returns.
///
/// On the wire, after the response header: u8 output (1 logits, 2 labels, 3 probabilities), then
/// a ``TensorFrame`` (rows × classes) for logits and probabilities, or u32 N (≤ 2²⁴) and N i32
/// labels.
public enum Prediction: Sendable, Equatable {
    /// Pre-softmax scores, one row per input row, one column per class.
    case logits(TensorFrame)
    /// The predicted class label of each row.
    case labels([Int])
    /// Softmax probabilities, one row per input row.
    case probabilities(TensorFrame)

    /// Which output this is.
    public var output: PredictRequest.Output {
        switch self {
        case .logits: .logits
        case .labels: .labels
        case .probabilities: .probabilities
        }
    }

    func encode(into writer: inout WireWriter) {
        writer.write(self.output.rawValue)
        switch self {
        case .logits(let frame), .probabilities(let frame): frame.encode(into: &writer)
        case .labels(let labels): ComputeCodec.writeLabels(labels, into: &writer)
        }
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        switch try ComputeCodec.readTag(field + ".output", allowed: 1...3, from: &reader) {
        case PredictRequest.Output.logits.rawValue:
            self = .logits(try TensorFrame(from: &reader, field: field + ".logits"))
        case PredictRequest.Output.labels.rawValue:
            self = .labels(
                try ComputeCodec.readLabels(field + ".labels", maximum: ComputeLimits.maximumRows, from: &reader)
            )
        default:
            self = .probabilities(try TensorFrame(from: &reader, field: field + ".probabilities"))
        }
    }
}
