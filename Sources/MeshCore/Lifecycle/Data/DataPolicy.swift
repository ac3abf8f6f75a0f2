/// What data a use case accepts: part of its template, checked against every catalog source by
/// ``ComplianceRule``.
///
/// ```yaml
/// data_policy: { pii_allowed: false, licences: [CC-BY-4.0, CC0-1.0], regions: [eu, us] }
/// ```
///
/// Licences and regions compare without regard to case; an empty list accepts nothing.
public struct DataPolicy: Sendable, Hashable, Codable {
    /// Whether a source holding personally identifiable information may be used (default false).
    public var piiAllowed: Bool
    /// The licences accepted.
    public var licences: [String]
    /// The regions data may reside in.
    public var regions: [String]

    /// A policy.
    public init(piiAllowed: Bool = false, licences: [String], regions: [String]) {
        self.piiAllowed = piiAllowed
        self.licences = licences
        self.regions = regions
    }

    /// Whether `licence` is one of ``licences``.
    public func accepts(licence: String) -> Bool {
        self.licences.contains { $0.lowercased() == licence.lowercased() }
    }

    /// Whether `region` is one of ``regions``.
    public func allows(region: String) -> Bool {
        self.regions.contains { $0.lowercased() == region.lowercased() }
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case piiAllowed = "pii_allowed"
        case licences, regions
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.piiAllowed = try container.decodeIfPresent(Bool.self, forKey: .piiAllowed) ?? false
        self.licences = try container.decode([String].self, forKey: .licences)
        self.regions = try container.decode([String].self, forKey: .regions)
        for (key, list) in [(CodingKeys.licences, self.licences), (.regions, self.regions)] {
            guard list.count <= 256, list.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key,
                    in: container,
                    debugDescription: "at most 256 names of 1 to 256 bytes"
                )
            }
        }
    }

    // MARK: Wire

    func encode(into writer: inout WireWriter) {
        writer.write(self.piiAllowed)
        DataCodec.writeStrings(self.licences, into: &writer)
        DataCodec.writeStrings(self.regions, into: &writer)
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        self.piiAllowed = try reader.readBool(field + ".pii_allowed")
        self.licences = try DataCodec.readStrings(field + ".licences", maximum: 256, from: &reader)
        self.regions = try DataCodec.readStrings(field + ".regions", maximum: 256, from: &reader)
    }
}
