import Foundation
import MeshCore
import Testing

/// The data agent's catalog, compliance rules and discovery (MeshCore, pure).
@Suite("Data discovery")
struct DataDiscoveryTests {
    static let strict = DataPolicy(piiAllowed: false, licences: ["CC-BY-4.0", "CC0-1.0"], regions: ["eu"])

    static func source(
        _ id: String,
        licence: String = "CC-BY-4.0",
        pii: Bool = false,
        region: String = "eu"
    ) -> CatalogSource {
        CatalogSource(
            id: id,
            kind: .csv(path: "scenarios/data/\(id).csv"),
            licence: licence,
            pii: pii,
            piiColumns: pii ? ["name_code"] : [],
            region: region
        )
    }

    @Test func piiRuleRejectsPersonalDataUnlessThePolicyAllowsIt() {
        let people = Self.source("people", pii: true)
        let detail = ComplianceRule.piiNotAllowed.violation(by: people, under: Self.strict)
        #expect(detail?.contains("name_code") == true)
        var lenient = Self.strict
        lenient.piiAllowed = true
        #expect(ComplianceRule.piiNotAllowed.violation(by: people, under: lenient) == nil)
        #expect(ComplianceRule.piiNotAllowed.violation(by: Self.source("plain"), under: Self.strict) == nil)
    }

    @Test func licenceRuleAcceptsOnlyListedLicencesWhateverTheirCase() {
        #expect(ComplianceRule.licenceNotAccepted.violation(by: Self.source("a", licence: "cc-by-4.0"), under: Self.strict) == nil)
        let detail = ComplianceRule.licenceNotAccepted.violation(by: Self.source("a", licence: "proprietary"), under: Self.strict)
        #expect(detail == "licence proprietary is not one of the accepted [CC-BY-4.0, CC0-1.0]")
        let none = DataPolicy(licences: [], regions: ["eu"])
        #expect(ComplianceRule.licenceNotAccepted.violation(by: Self.source("a"), under: none) != nil)
    }

    @Test func regionRuleAcceptsOnlyListedRegions() {
        #expect(ComplianceRule.regionNotAllowed.violation(by: Self.source("a", region: "EU"), under: Self.strict) == nil)
        let detail = ComplianceRule.regionNotAllowed.violation(by: Self.source("a", region: "us"), under: Self.strict)
        #expect(detail == "region us is not one of the allowed [eu]")
    }

    @Test func discoveryNamesEveryBrokenRuleAndKeepsCatalogOrder() {
        let catalog = [
            Self.source("a"), Self.source("b", licence: "proprietary", pii: true, region: "us"), Self.source("c"),
        ]
        let report = DiscoveryReport(answering: DiscoveryRequest(useCaseID: "uc", policy: Self.strict, catalog: catalog))
        #expect(report.useCaseID == "uc")
        #expect(report.accepted == ["a", "c"])
        #expect(report.rejected.map(\.rule) == [.piiNotAllowed, .licenceNotAccepted, .regionNotAllowed])
        #expect(report.rejected.allSatisfy { $0.sourceID == "b" })
        #expect(report.rejectedSourceIDs == ["b"])
    }

    @Test func preferredSourcesAreTheOnlyCandidatesInPreferenceOrder() {
        let catalog = [Self.source("a"), Self.source("b"), Self.source("people", pii: true)]
        let report = DiscoveryReport(
            answering: DiscoveryRequest(
                useCaseID: "uc",
                policy: Self.strict,
                preferredSourceIDs: ["b", "nope", "a", "b"],
                catalog: catalog
            )
        )
        #expect(report.accepted == ["b", "a"])
        #expect(report.rejected == [.init(sourceID: "nope", rule: .unknownSource, detail: "no source nope in the catalog")])
        let onlyPII = DiscoveryReport(
            answering: DiscoveryRequest(useCaseID: "uc", policy: Self.strict, preferredSourceIDs: ["people"], catalog: catalog)
        )
        #expect(onlyPII.accepted.isEmpty)
        #expect(onlyPII.rejected.map(\.rule) == [.piiNotAllowed])
    }

    @Test func discoveryOnTheRealCatalog() throws {
        let catalog = try DataFixtures.catalog()
        #expect(
            catalog.sources.map(\.id) == [
                "digits", "breast-cancer", "gaussian-mixture", "people-pii", "ragged", "digits-live",
            ]
        )
        let digits = try #require(catalog.source("digits"))
        #expect(digits.kind == .csv(path: "scenarios/data/digits.csv"))
        #expect(digits.classes == Array(0...9) && digits.licence == "CC-BY-4.0" && !digits.pii && digits.region == "eu")
        #expect(catalog.source("breast-cancer")?.region == "us")
        #expect(catalog.source("people-pii")?.pii == true && catalog.source("people-pii")?.piiColumns == ["name_code"])
        #expect(catalog.source("ragged")?.kind == .csv(path: "scenarios/data/ragged.csv"))
        #expect(catalog.source("digits-live")?.kind == .stream)
        guard case .synthetic(let generator) = catalog.source("gaussian-mixture")?.kind else {
            Issue.record("gaussian-mixture is not synthetic")
            return
        }
        #expect(generator == GaussianMixture(classes: 4, features: 16, rowsPerClass: 250, separation: 1.5))

        let report = DiscoveryReport(
            answering: DiscoveryRequest(useCaseID: "digits-uc", policy: Self.strict, catalog: catalog.sources)
        )
        #expect(report.accepted == ["digits", "gaussian-mixture", "ragged", "digits-live"])
        #expect(report.rejected.map { "\($0.sourceID) \($0.rule.rawValue)" } == [
            "breast-cancer region-not-allowed", "people-pii pii-not-allowed", "people-pii licence-not-accepted",
        ])
        let everywhere = DataPolicy(piiAllowed: true, licences: ["CC-BY-4.0", "CC0-1.0", "proprietary"], regions: ["eu", "us"])
        let all = DiscoveryReport(answering: DiscoveryRequest(useCaseID: "x", policy: everywhere, catalog: catalog.sources))
        #expect(all.accepted == catalog.sources.map(\.id) && all.rejected.isEmpty)
    }

    @Test func theCatalogFileHoldsExactlyTheseSources() throws {
        let text = try DataFixtures.text("agents/catalog.yaml")
        let blocks = text.components(separatedBy: "\n  - ").dropFirst()
        let sources = try DataFixtures.catalog().sources
        #expect(blocks.count == sources.count)
        for (block, source) in zip(blocks, sources) {
            let lines = Set(block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
            for line in DataFixtures.catalogFileLines(of: source) {
                #expect(lines.contains(line), "\(source.id): \(line)")
            }
        }
    }

    @Test func catalogDecodingRejectsWhatItDoesNotUnderstand() throws {
        func decode(_ json: String) throws -> DataCatalog {
            try JSONDecoder().decode(DataCatalog.self, from: Data(json.utf8))
        }
        let good = #"{"sources":[{"id":"a","kind":"csv","path":"a.csv","licence":"CC0-1.0","region":"eu"}]}"#
        let catalog = try decode(good)
        #expect(catalog.sources == [CatalogSource(id: "a", kind: .csv(path: "a.csv"), licence: "CC0-1.0", region: "eu")])
        #expect(catalog.sources[0].labelColumn == "label" && !catalog.sources[0].pii)
        let bad = [
            #"{"sources":[{"id":"a","kind":"csv","path":"a.csv","licence":"x","region":"eu","licence_url":"u"}]}"#,
            #"{"sources":[{"id":"a","kind":"csv","licence":"x","region":"eu"}]}"#,
            #"{"sources":[{"id":"a","kind":"parquet","path":"a","licence":"x","region":"eu"}]}"#,
            #"{"sources":[{"id":"a b","kind":"csv","path":"a.csv","licence":"x","region":"eu"}]}"#,
            #"{"sources":[{"id":"a","kind":"stream","path":"a.csv","licence":"x","region":"eu"}]}"#,
            #"{"sources":[{"id":"a","kind":"synthetic","generator":{"classes":1,"features":2,"rows_per_class":3},"licence":"x","region":"eu"}]}"#,
            #"{"sources":[{"id":"a","kind":"csv","path":"a.csv","licence":"x","region":"eu","classes":[1,1]}]}"#,
            #"{"sources":[{"id":"a","kind":"csv","path":"a.csv","licence":"x","region":"eu"},{"id":"a","kind":"stream","licence":"x","region":"eu"}]}"#,
            #"{"sources":[],"owner":"me"}"#,
        ]
        for json in bad {
            #expect(throws: DecodingError.self, "\(json)") { try decode(json) }
        }
        let policy = try JSONDecoder().decode(DataPolicy.self, from: Data(#"{"licences":["CC0-1.0"],"regions":["eu"]}"#.utf8))
        #expect(policy == DataPolicy(piiAllowed: false, licences: ["CC0-1.0"], regions: ["eu"]))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(DataPolicy.self, from: Data(#"{"licences":[],"regions":[],"pii":true}"#.utf8))
        }
        let options = try JSONDecoder().decode(
            PreparationOptions.self,
            from: Data(#"{"split":{"train":0.8,"test":0.2},"augmentation":{"copies":2,"shift":{"width":8,"height":8}}}"#.utf8)
        )
        #expect(options.split == SplitFractions(train: 0.8, validation: 0, test: 0.2))
        #expect(options.cleaning == CleaningOptions() && options.normalization == .standardize)
        #expect(options.augmentation == AugmentationOptions(copies: 2, shift: .init(width: 8, height: 8)))
        for json in [
            #"{"split":{"train":0.8,"validation":0.1,"test":0.2}}"#, #"{"augmentation":{"copies":1}}"#,
            #"{"cleaning":{"outlier_k":-1}}"#, #"{"normalisation":"none"}"#,
        ] {
            #expect(throws: DecodingError.self, "\(json)") {
                try JSONDecoder().decode(PreparationOptions.self, from: Data(json.utf8))
            }
        }
    }

    @Test func discoveryBytesRoundTripAndRejectEveryTruncation() throws {
        let catalog = try DataFixtures.catalog()
        let request = DiscoveryRequest(
            useCaseID: "uc-1",
            policy: Self.strict,
            preferredSourceIDs: ["digits", "people-pii"],
            catalog: catalog.sources
        )
        let bytes = request.encoded()
        #expect(try DiscoveryRequest(decoding: bytes) == request)
        let report = DiscoveryReport(answering: request)
        let reportBytes = report.encoded()
        #expect(try DiscoveryReport(decoding: reportBytes) == report)
        for length in 0..<bytes.count {
            #expect(throws: WireError.self) { try DiscoveryRequest(decoding: Array(bytes[..<length])) }
        }
        for length in 0..<reportBytes.count {
            #expect(throws: WireError.self) { try DiscoveryReport(decoding: Array(reportBytes[..<length])) }
        }
        #expect(throws: WireError.self) { try DiscoveryRequest(decoding: bytes + [0]) }
        #expect(throws: WireError.self) { try DiscoveryReport(decoding: bytes) }
        var badRule = reportBytes
        let rule = Array("pii-not-allowed".utf8)
        let at = try #require(badRule.indices.first { Array(badRule[$0..<min($0 + rule.count, badRule.count)]) == rule })
        badRule[at] = UInt8(ascii: "x")
        #expect(throws: WireError.self) { try DiscoveryReport(decoding: badRule) }
    }
}

/// Files and sources the data tests share.
enum DataFixtures {
    /// The repository's root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The text of a file under the repository's root.
    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: root + "/" + path, encoding: .utf8)
    }

    /// The sources of `agents/catalog.yaml`, written out here because MeshCoreTests cannot see
    /// Yams (the runtime decodes the file); ``catalogFileLines(of:)`` ties the two together.
    static func catalog() throws -> DataCatalog {
        let cc = "CC-BY-4.0"
        return DataCatalog(sources: [
            CatalogSource(id: "digits", kind: .csv(path: "scenarios/data/digits.csv"), licence: cc, region: "eu", classes: Array(0...9)),
            CatalogSource(
                id: "breast-cancer",
                kind: .csv(path: "scenarios/data/breast_cancer.csv"),
                licence: cc,
                region: "us",
                classes: [0, 1]
            ),
            CatalogSource(
                id: "gaussian-mixture",
                kind: .synthetic(GaussianMixture(classes: 4, features: 16, rowsPerClass: 250, separation: 1.5)),
                licence: "CC0-1.0",
                region: "eu"
            ),
            CatalogSource(
                id: "people-pii",
                kind: .csv(path: "scenarios/data/pii-people.csv"),
                licence: "proprietary",
                pii: true,
                piiColumns: ["name_code"],
                region: "eu",
                classes: [0, 1]
            ),
            CatalogSource(id: "ragged", kind: .csv(path: "scenarios/data/ragged.csv"), licence: "CC0-1.0", region: "eu"),
            CatalogSource(id: "digits-live", kind: .stream, licence: cc, region: "eu", classes: Array(0...9)),
        ])
    }

    /// The lines `agents/catalog.yaml` must hold for `source`, as the file writes them.
    static func catalogFileLines(of source: CatalogSource) -> [String] {
        var lines = ["id: \(source.id)", "kind: \(source.kind.name)"]
        switch source.kind {
        case .csv(let path): lines.append("path: \(path)")
        case .synthetic(let g):
            lines.append(
                "generator: { classes: \(g.classes), features: \(g.features), rows_per_class: \(g.rowsPerClass), "
                    + "separation: \(g.separation), seed_salt: \(g.seedSalt) }"
            )
        case .stream: break
        }
        lines += ["licence: \(source.licence)", "pii: \(source.pii)", "region: \(source.region)"]
        if !source.piiColumns.isEmpty { lines.append("pii_columns: [\(source.piiColumns.joined(separator: ", "))]") }
        if let classes = source.classes { lines.append("classes: [\(classes.map(String.init).joined(separator: ", "))]") }
        return lines
    }

    /// A CSV source at `path`.
    static func csv(_ id: String, _ path: String, classes: [Int]? = nil) -> CatalogSource {
        CatalogSource(id: id, kind: .csv(path: path), licence: "CC-BY-4.0", region: "eu", classes: classes)
    }
}
