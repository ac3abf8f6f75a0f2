/// What a compute node returns for a request: the output bytes of a compute task.
///
/// Layout (docs/WIRE.md, "Compute protocol"): an 8-byte header — magic `"MWCR"`, u16 version 1,
/// u8 operation (the request's), u8 reserved 0 — then the body of the operation's answer. The same
/// request gives the same bytes on the same machine, BLAS kernel and thread count: task digests
/// depend on it. A failure is not a response: it travels as the task's failure reason
/// (``ComputeFailure``).
public enum ComputeResponse: Sendable, Equatable {
    /// The answer to ``ComputeRequest/train(_:)``.
    case trained(TrainedModel)
    /// The answer to ``ComputeRequest/fineTune(_:)``.
    case fineTuned(TrainedModel)
    /// The answer to ``ComputeRequest/quantize(_:)``: an int8 weights file.
    case quantized(SerializedWeights)
    /// The answer to ``ComputeRequest/evaluate(_:)``.
    case evaluated(ModelEvaluation)
    /// The answer to ``ComputeRequest/predict(_:)``.
    case predicted(Prediction)

    /// The operation this answers.
    public var operation: ComputeOperation {
        switch self {
        case .trained: .train
        case .fineTuned: .fineTune
        case .quantized: .quantize
        case .evaluated: .evaluate
        case .predicted: .predict
        }
    }

    /// The response's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        ComputeCodec.writeHeader(magic: ComputeProtocol.responseMagic, operation: self.operation, into: &writer)
        switch self {
        case .trained(let model), .fineTuned(let model): model.encode(into: &writer)
        case .quantized(let weights): weights.encode(into: &writer)
        case .evaluated(let evaluation): evaluation.encode(into: &writer)
        case .predicted(let prediction): prediction.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Decodes a whole response.
    ///
    /// - Throws: ``WireError`` naming the field, as ``ComputeRequest/init(decoding:)`` does.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= ComputeLimits.maximumPayloadBytes else {
            throw WireError(
                .oversized,
                "compute response: \(bytes.count) bytes, at most \(ComputeLimits.maximumPayloadBytes) allowed"
            )
        }
        var reader = WireReader(bytes)
        let operation = try ComputeCodec.readHeader(magic: ComputeProtocol.responseMagic, what: "response", from: &reader)
        switch operation {
        case .train: self = .trained(try TrainedModel(from: &reader, field: "trained"))
        case .fineTune: self = .fineTuned(try TrainedModel(from: &reader, field: "fineTuned"))
        case .quantize: self = .quantized(try SerializedWeights(from: &reader, field: "quantized.weights"))
        case .evaluate: self = .evaluated(try ModelEvaluation(from: &reader, field: "evaluation"))
        case .predict: self = .predicted(try Prediction(from: &reader, field: "prediction"))
        }
        try reader.expectEnd("\(operation) response")
    }
}
