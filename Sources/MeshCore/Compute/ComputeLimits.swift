/// The bounds every compute-protocol decoder enforces before it allocates (docs/WIRE.md,
/// "Compute protocol"); a length over its bound is rejected as ``WireError/Code/oversized``.
public enum ComputeLimits {
    /// The largest request or response a compute task can carry: an award's input and a result's
    /// output both travel in one envelope, so both stay under its body limit with room for the
    /// task id and the work name. Larger datasets travel as blobs (``BlobHash``).
    public static let maximumPayloadBytes = Envelope.maxBodySize - 512
    /// The most rows a tensor may have.
    public static let maximumRows = 1 << 24
    /// The most columns (features) a tensor may have; the weights file's widest layer.
    public static let maximumColumns = 1 << 20
    /// The most values a tensor may hold (1 GiB of Float32: only a resolved blob comes near it).
    public static let maximumTensorValues = 1 << 28
    /// The most classes of a label set.
    public static let maximumClasses = 1 << 16
    /// The longest architecture text (`softmax`, `mlp:128,64`).
    public static let maximumArchitectureLength = 256
    /// The most epochs a training request may ask for (it bounds the response's history).
    public static let maximumEpochs = 10_000
    /// The largest mini-batch.
    public static let maximumBatchSize = 1 << 20
    /// The largest weights file inside a request or response.
    public static let maximumWeightsBytes = maximumPayloadBytes
    /// The most trainable parameters a request may create: its fp32 weights file must fit in a
    /// response (4 bytes a parameter, with room for the header and the epoch history).
    public static let maximumParameters = 1_800_000
}
