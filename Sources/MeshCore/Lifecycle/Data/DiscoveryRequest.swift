/// The input of `data.discover`: a use case's data policy and the catalog to search.
///
/// ```swift
/// let request = DiscoveryRequest(useCaseID: "digits-uc", policy: template.dataPolicy,
///                                preferredSourceIDs: ["digits"], catalog: catalog.sources)
/// let spec = TaskSpec(id: id, role: .data, work: DataWork.discover.rawValue, input: request.encoded(), duration: cost)
/// ```
public struct DiscoveryRequest: Sendable, Hashable {
    /// The use case the data is for (1-128 bytes).
    public var useCaseID: String
    /// What the use case accepts.
    public var policy: DataPolicy
    /// The sources the use case asks for, in order of preference; empty means every source in
    /// the catalog is a candidate. When given, only these are considered.
    public var preferredSourceIDs: [String]
    /// The catalog's sources.
    public var catalog: [CatalogSource]

    /// A request.
    public init(useCaseID: String, policy: DataPolicy, preferredSourceIDs: [String] = [], catalog: [CatalogSource]) {
        self.useCaseID = useCaseID
        self.policy = policy
        self.preferredSourceIDs = preferredSourceIDs
        self.catalog = catalog
    }

    /// The task input bytes (docs/DATA.md, "Bytes").
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 256 + 256 * self.catalog.count)
        DataProtocol.writeHeader(DataProtocol.discoveryRequestMagic, into: &writer)
        writer.write(self.useCaseID)
        self.policy.encode(into: &writer)
        DataCodec.writeStrings(self.preferredSourceIDs, into: &writer)
        DataCodec.writeCount(self.catalog.count, into: &writer)
        for source in self.catalog { source.encode(into: &writer) }
        return writer.bytes
    }

    /// Reads task input bytes, bounding every count and rejecting trailing bytes.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        try DataProtocol.readHeader(DataProtocol.discoveryRequestMagic, "discovery_request", from: &reader)
        self.useCaseID = try DataProtocol.readUseCaseID("discovery_request.use_case", from: &reader)
        self.policy = try DataPolicy(from: &reader, field: "discovery_request.policy")
        self.preferredSourceIDs = try DataCodec.readStrings(
            "discovery_request.preferred",
            maximum: DataProtocol.maximumSources,
            maxLength: 64,
            from: &reader
        )
        let count = try ComputeCodec.readCount(
            "discovery_request.catalog",
            maximum: DataProtocol.maximumSources,
            elementSize: 20,
            from: &reader
        )
        var catalog: [CatalogSource] = []
        catalog.reserveCapacity(count)
        for index in 0..<count {
            catalog.append(try CatalogSource(from: &reader, field: "discovery_request.catalog[\(index)]"))
        }
        self.catalog = catalog
        try reader.expectEnd("discovery_request")
    }
}
