/// The works the data agent does: the `work` string of a ``TaskSpec`` of role `data`.
///
/// ```swift
/// let spec = TaskSpec(id: id, role: .data, work: DataWork.prepare.rawValue, input: request.encoded(), duration: cost)
/// ```
public enum DataWork: String, Sendable, Hashable, CaseIterable {
    /// Input ``DiscoveryRequest``, output ``DiscoveryReport``: which catalog sources the use case's
    /// policy accepts, and which rule rejected the others.
    case discover = "data.discover"
    /// Input ``PrepareRequest``, output ``PreparedDataset``: one source read, cleaned, split,
    /// standardized and augmented.
    case prepare = "data.prepare"
}
