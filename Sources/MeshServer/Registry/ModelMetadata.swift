/// Where a model version came from and how it scored, shown in the model's metadata endpoint.
public struct ModelMetadata: Sendable, Hashable, Codable {
    /// The content hash of the dataset version it was trained on, when known.
    public var datasetHash: String?
    /// Evaluation figures by name (`"accuracy"`, `"macro_f1"`, …).
    public var metrics: [String: Double]

    /// Metadata with the given lineage and metrics.
    public init(datasetHash: String? = nil, metrics: [String: Double] = [:]) {
        self.datasetHash = datasetHash
        self.metrics = metrics
    }
}
