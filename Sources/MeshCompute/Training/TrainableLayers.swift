/// Which layers a training run updates.
public enum TrainableLayers: String, Sendable, Hashable, Codable {
    /// Every layer.
    case all
    /// The last (logits) layer only: the rest is a frozen feature extractor.
    case head
}
