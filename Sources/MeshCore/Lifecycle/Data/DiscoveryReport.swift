/// The output of `data.discover`: the sources a use case may use, and for every other candidate
/// the rule that rejected it.
///
/// It is a pure function of the request (``init(answering:)``); the worker only decodes and
/// encodes.
///
/// ```swift
/// let report = try DiscoveryReport(decoding: output)
/// if report.accepted.isEmpty { /* infeasible: report.rejected names each rule */ }
/// ```
public struct DiscoveryReport: Sendable, Hashable {
    /// The use case the report answers.
    public var useCaseID: String
    /// The compliant sources: the preferred ones in preference order when the request named
    /// some, otherwise every catalog source in catalog order.
    public var accepted: [String]
    /// One entry per broken rule per rejected candidate, in candidate order then rule order.
    public var rejected: [Rejection]

    /// A rule that rejected a source.
    public struct Rejection: Sendable, Hashable {
        /// The source.
        public var sourceID: String
        /// The rule it broke.
        public var rule: ComplianceRule
        /// Why, in words.
        public var detail: String

        /// A rejection.
        public init(sourceID: String, rule: ComplianceRule, detail: String) {
            self.sourceID = sourceID
            self.rule = rule
            self.detail = DataCodec.clipped(detail, maximumBytes: 1024)
        }
    }

    /// A report from parts.
    public init(useCaseID: String, accepted: [String], rejected: [Rejection]) {
        self.useCaseID = useCaseID
        self.accepted = accepted
        self.rejected = rejected
    }

    /// Checks every candidate source against the request's policy.
    ///
    /// Candidates are the preferred ids (each once, in order) when there are any, otherwise the
    /// whole catalog; a preferred id the catalog lacks is rejected as ``ComplianceRule/unknownSource``.
    public init(answering request: DiscoveryRequest) {
        self.useCaseID = request.useCaseID
        self.accepted = []
        self.rejected = []
        var candidates: [String] = []
        var seen = Set<String>()
        for id in request.preferredSourceIDs.isEmpty ? request.catalog.map(\.id) : request.preferredSourceIDs
        where seen.insert(id).inserted {
            candidates.append(id)
        }
        for id in candidates {
            guard let source = request.catalog.first(where: { $0.id == id }) else {
                self.rejected.append(
                    Rejection(sourceID: id, rule: .unknownSource, detail: "no source \(id) in the catalog")
                )
                continue
            }
            let broken = ComplianceRule.allCases.compactMap { rule in
                rule.violation(by: source, under: request.policy).map {
                    Rejection(sourceID: id, rule: rule, detail: $0)
                }
            }
            if broken.isEmpty {
                self.accepted.append(id)
            } else {
                self.rejected.append(contentsOf: broken)
            }
        }
    }

    /// The rejected sources, each once, in report order.
    public var rejectedSourceIDs: [String] {
        var seen = Set<String>()
        return self.rejected.map(\.sourceID).filter { seen.insert($0).inserted }
    }

    /// The task output bytes (docs/DATA.md, "Bytes").
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 64 + 128 * self.rejected.count)
        DataProtocol.writeHeader(DataProtocol.discoveryReportMagic, into: &writer)
        writer.write(self.useCaseID)
        DataCodec.writeStrings(self.accepted, into: &writer)
        DataCodec.writeCount(self.rejected.count, into: &writer)
        for rejection in self.rejected {
            writer.write(rejection.sourceID)
            writer.write(rejection.rule.rawValue)
            writer.write(rejection.detail)
        }
        return writer.bytes
    }

    /// Reads task output bytes, rejecting an unknown rule and trailing bytes.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        try DataProtocol.readHeader(DataProtocol.discoveryReportMagic, "discovery_report", from: &reader)
        self.useCaseID = try DataProtocol.readUseCaseID("discovery_report.use_case", from: &reader)
        self.accepted = try DataCodec.readStrings(
            "discovery_report.accepted",
            maximum: DataProtocol.maximumSources,
            maxLength: 64,
            from: &reader
        )
        let count = try ComputeCodec.readCount(
            "discovery_report.rejected",
            maximum: DataProtocol.maximumSources * ComplianceRule.allCases.count,
            elementSize: 6,
            from: &reader
        )
        var rejected: [Rejection] = []
        rejected.reserveCapacity(count)
        for index in 0..<count {
            let field = "discovery_report.rejected[\(index)]"
            let sourceID = try reader.readString(field + ".source", maxLength: 64)
            let name = try reader.readString(field + ".rule", maxLength: 64)
            guard let rule = ComplianceRule(rawValue: name) else {
                throw WireError(.invalidField, "\(field).rule: \"\(name)\" is not a compliance rule")
            }
            let detail = try reader.readString(field + ".detail", maxLength: 1024)
            rejected.append(Rejection(sourceID: sourceID, rule: rule, detail: detail))
        }
        self.rejected = rejected
        try reader.expectEnd("discovery_report")
    }
}
