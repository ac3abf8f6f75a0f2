import Foundation
import MeshCore
import Testing

@testable import MeshAgents

/// The data worker parses a CSV file once for many preparations (a fleet prepares one file
/// thousands of times), and what it prepares from a kept parse is the same bytes.
@Suite("Data worker parse cache")
struct DataWorkerParseCacheTests {
    static let root = DataWorkerTests.root

    static func request(_ useCase: String, path: String = "scenarios/data/digits.csv", seed: UInt64 = 7) -> PrepareRequest {
        PrepareRequest(
            useCaseID: useCase,
            source: CatalogSource(id: "digits", kind: .csv(path: path), licence: "CC-BY-4.0", region: "eu", classes: Array(0...9)),
            seed: seed)
    }

    static func describe(_ result: Result<[UInt8], DataError>) -> String {
        switch result {
        case .success(let bytes): "done \(bytes.count)"
        case .failure(let error): error.reportedReason
        }
    }

    @Test func aKeptParseGivesTheSameBytesAsAFreshOne() throws {
        let cache = ParsedSourceCache()
        let fresh = try DataWorker.prepareNow(Self.request("uc-1"), baseDirectory: Self.root).get()
        let first = try DataWorker.prepareNow(Self.request("uc-1"), baseDirectory: Self.root, sources: cache).get()
        #expect(cache.count == 1)
        let again = try DataWorker.prepareNow(Self.request("uc-1"), baseDirectory: Self.root, sources: cache).get()
        #expect(first == fresh && again == fresh)
        // Another use case and seed: a different split from the same parse, as without the cache.
        let other = try DataWorker.prepareNow(Self.request("uc-2", seed: 9), baseDirectory: Self.root, sources: cache).get()
        #expect(other == (try DataWorker.prepareNow(Self.request("uc-2", seed: 9), baseDirectory: Self.root).get()))
        #expect(other != fresh)
        #expect(cache.count == 1)
    }

    @Test func anotherTextPathOrLabelColumnIsParsedAfresh() throws {
        let text = try String(contentsOfFile: Self.root + "/scenarios/data/digits.csv", encoding: .utf8)
        let request = Self.request("uc-1")
        let parsed = ParsedCSVSource(text: text, for: request)
        #expect(parsed.matches(text: text, for: request))
        #expect(!parsed.matches(text: text + "\n", for: request))
        #expect(!parsed.matches(text: text, for: Self.request("uc-1", path: "data/digits.csv")))
        var relabelled = request
        relabelled.source.labelColumn = "digit"
        #expect(!parsed.matches(text: text, for: relabelled))
        var imputing = request
        imputing.cleaning.imputeMissing.toggle()
        #expect(!parsed.matches(text: text, for: imputing))
        // A different spelling of the same characters is a different text.
        #expect(!ParsedCSVSource(text: "caf\u{E9},label\n1,0\n", for: request).matches(text: "cafe\u{301},label\n1,0\n", for: request))

        let cache = ParsedSourceCache(limit: 2)
        _ = cache.parsed(text: text, for: request)
        _ = cache.parsed(text: text, for: relabelled)
        _ = cache.parsed(text: text, for: imputing)
        #expect(cache.count == 2)
    }

    @Test func aBadFileFailsTheSameWayFromAKeptParse() throws {
        let path = "scenarios/data/ragged.csv"
        let request = PrepareRequest(
            useCaseID: "uc-1", source: CatalogSource(id: "bad", kind: .csv(path: path), licence: "CC0-1.0", region: "eu"), seed: 1)
        let cache = ParsedSourceCache()
        let fresh = DataWorker.prepareNow(request, baseDirectory: Self.root)
        let first = DataWorker.prepareNow(request, baseDirectory: Self.root, sources: cache)
        let kept = DataWorker.prepareNow(request, baseDirectory: Self.root, sources: cache)
        guard case .failure(let error) = fresh else {
            Issue.record("a ragged file prepared")
            return
        }
        #expect(error.reportedReason.contains("ragged.csv:7:4: ragged row"))
        #expect(Self.describe(first) == Self.describe(fresh))
        #expect(Self.describe(kept) == Self.describe(fresh))
        #expect(cache.count == 1)
    }

    @Test func preparationsWaitingForOneSlotAllFinishAndShareOneParse() async throws {
        let worker = DataWorker(baseDirectory: Self.root, maximumConcurrentPreparations: 1)
        #expect(worker.maximumConcurrentPreparations == 1)
        let outcomes = await withTaskGroup(of: Result<[UInt8], DataError>.self) { group in
            for index in 0..<4 { group.addTask { await worker.prepare(Self.request("uc-\(index % 2)")) } }
            var all: [Result<[UInt8], DataError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let bytes = outcomes.compactMap { try? $0.get() }
        #expect(bytes.count == 4)
        #expect(Set(bytes).count == 2)
        #expect(worker.sources.count == 1)
    }
}
