/// The data catalog (`agents/catalog.yaml`): every source the data agent knows.
///
/// ```yaml
/// sources:
///   - { id: digits, kind: csv, path: scenarios/data/digits.csv, licence: CC-BY-4.0, pii: false, region: eu }
/// ```
///
/// The runtime decodes the file with Yams; ids must be unique. A ``DiscoveryRequest`` carries
/// ``sources`` to the agent, a ``PrepareRequest`` one of them.
public struct DataCatalog: Sendable, Hashable, Codable {
    /// The sources, in file order.
    public var sources: [CatalogSource]

    /// A catalog of `sources`, whose ids must be unique.
    public init(sources: [CatalogSource]) {
        precondition(Set(sources.map(\.id)).count == sources.count, "source ids repeat")
        self.sources = sources
    }

    /// The source with id `id`.
    public func source(_ id: String) -> CatalogSource? {
        self.sources.first { $0.id == id }
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case sources
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.sources = try container.decode([CatalogSource].self, forKey: .sources)
        var seen = Set<String>()
        for source in self.sources where !seen.insert(source.id).inserted {
            throw DecodingError.dataCorruptedError(
                forKey: .sources,
                in: container,
                debugDescription: "source id '\(source.id)' appears twice"
            )
        }
    }
}
