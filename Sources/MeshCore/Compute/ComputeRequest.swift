/// A request to a compute node: the input bytes of a task whose work is one of the
/// ``ComputeOperation`` names (`compute.train`, …).
///
/// Layout (docs/WIRE.md, "Compute protocol"): an 8-byte header — magic `"MWCQ"`, u16 version 1,
/// u8 operation, u8 reserved 0 — then the operation's body, consumed exactly. A request is at most
/// ``ComputeLimits/maximumPayloadBytes``; larger data goes by blob hash.
///
/// ```swift
/// let request = ComputeRequest.train(TrainRequest(
///     architecture: "mlp:64", classLabels: Array(0...9),
///     hyperparameters: Hyperparameters(epochs: 60, seed: 7), data: .inline(rows)))
/// let spec = TaskSpec(id: id, role: .compute, work: request.work, input: request.encoded(), duration: cost)
/// ```
public enum ComputeRequest: Sendable, Equatable {
    /// Train a fresh model.
    case train(TrainRequest)
    /// Fine-tune a pretrained model.
    case fineTune(FineTuneRequest)
    /// Quantize fp32 weights to int8.
    case quantize(QuantizeRequest)
    /// Score a model on labelled rows.
    case evaluate(EvaluateRequest)
    /// Run a model on rows.
    case predict(PredictRequest)

    /// The operation.
    public var operation: ComputeOperation {
        switch self {
        case .train: .train
        case .fineTune: .fineTune
        case .quantize: .quantize
        case .evaluate: .evaluate
        case .predict: .predict
        }
    }

    /// The task work name to schedule this request under.
    public var work: String { self.operation.work }

    /// The request's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        ComputeCodec.writeHeader(magic: ComputeProtocol.requestMagic, operation: self.operation, into: &writer)
        switch self {
        case .train(let request): request.encode(into: &writer)
        case .fineTune(let request): request.encode(into: &writer)
        case .quantize(let request): request.encode(into: &writer)
        case .evaluate(let request): request.encode(into: &writer)
        case .predict(let request): request.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Decodes a whole request.
    ///
    /// - Throws: ``WireError`` naming the field: `.truncated`, `.oversized` (a count over its
    ///   bound, or a request over ``ComputeLimits/maximumPayloadBytes``), `.unknownVersion`,
    ///   `.unknownKind` (an unknown operation), `.invalidField` (magic, tags, UTF-8), or
    ///   `.trailingBytes`.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= ComputeLimits.maximumPayloadBytes else {
            throw WireError(
                .oversized,
                "compute request: \(bytes.count) bytes, at most \(ComputeLimits.maximumPayloadBytes) allowed"
            )
        }
        var reader = WireReader(bytes)
        let operation = try ComputeCodec.readHeader(magic: ComputeProtocol.requestMagic, what: "request", from: &reader)
        switch operation {
        case .train: self = .train(try TrainRequest(from: &reader))
        case .fineTune: self = .fineTune(try FineTuneRequest(from: &reader))
        case .quantize: self = .quantize(try QuantizeRequest(from: &reader))
        case .evaluate: self = .evaluate(try EvaluateRequest(from: &reader))
        case .predict: self = .predict(try PredictRequest(from: &reader))
        }
        try reader.expectEnd("\(operation) request")
    }
}
