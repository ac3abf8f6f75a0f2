/// A rule a catalog source must keep to be used for a use case; discovery names the rule that
/// rejected a source.
///
/// Rules are checked in declaration order and every broken one is reported.
public enum ComplianceRule: String, Sendable, Hashable, CaseIterable {
    /// A preferred source id that the catalog does not hold.
    case unknownSource = "unknown-source"
    /// The source holds PII and the policy does not allow it.
    case piiNotAllowed = "pii-not-allowed"
    /// The source's licence is not one the policy accepts.
    case licenceNotAccepted = "licence-not-accepted"
    /// The source resides in a region the policy does not allow.
    case regionNotAllowed = "region-not-allowed"

    /// Why `source` breaks this rule under `policy`, or nil when it keeps it
    /// (``unknownSource`` is decided by discovery, never here).
    public func violation(by source: CatalogSource, under policy: DataPolicy) -> String? {
        switch self {
        case .unknownSource:
            return nil
        case .piiNotAllowed:
            guard source.pii, !policy.piiAllowed else { return nil }
            let columns = source.piiColumns.isEmpty ? "" : " (columns \(source.piiColumns.joined(separator: ", ")))"
            return "source \(source.id) holds personal data\(columns); the use case's policy does not allow PII"
        case .licenceNotAccepted:
            guard !policy.accepts(licence: source.licence) else { return nil }
            return "licence \(source.licence) is not one of the accepted [\(policy.licences.joined(separator: ", "))]"
        case .regionNotAllowed:
            guard !policy.allows(region: source.region) else { return nil }
            return "region \(source.region) is not one of the allowed [\(policy.regions.joined(separator: ", "))]"
        }
    }
}
