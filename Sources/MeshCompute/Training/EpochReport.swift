/// What one epoch did.
public struct EpochReport: Sendable, Hashable, Codable {
    /// 1-based.
    public var epoch: Int
    /// The mean cross-entropy over the epoch's batches, as the weights were when each was seen.
    public var trainLoss: Double
    /// The share of training rows whose prediction was right when their batch was seen.
    public var trainAccuracy: Double
    /// Wall time of the epoch's training steps, in milliseconds (validation excluded).
    public var milliseconds: Double
    /// CPU time the training thread spent on those steps, in milliseconds: with one BLAS thread
    /// all the work is on that thread, so on a shared machine this is the epoch's cost without
    /// the time other processes held the core.
    public var cpuMilliseconds: Double
    /// Accuracy on the validation rows after the epoch, when some were given.
    public var validationAccuracy: Double?
    /// Mean cross-entropy on the validation rows after the epoch, when some were given.
    public var validationLoss: Double?
}
