import Foundation
import MeshCompute
import Testing

@testable import MeshServer

/// `production` switches atomically while requests keep coming: none fails, each is answered by
/// exactly one of the two versions, with that version's logits.
@Suite struct PromotionUnderLoadTests {
    @Test func promoteAndRollBackWhileHammering() async throws {
        let registry = ModelRegistry()
        let (one, two) = try Fixtures.versions()
        try registry.deploy(one, alias: "production")
        try registry.deploy(two, alias: "staging")
        let raw = Fixtures.rawRows(1, from: 20)
        let body = Fixtures.inferBody(raw, rows: 1)
        let expected = [
            "1": Fixtures.expectedLogits(raw, rows: 1, model: Fixtures.modelA),
            "2": Fixtures.expectedLogits(raw, rows: 1, int8: QuantizedMLP(quantizing: Fixtures.modelB)),
        ]
        let clients = 4
        let requestsPerClient = 250

        try await withServer(registry) { server, _ in
            let port = server.port!
            let outcome = try await withThrowingTaskGroup(of: [String: Int].self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        let client = try await HTTPClientConnection.connect(port: port)
                        defer { client.close() }
                        var seen: [String: Int] = [:]
                        for _ in 0..<requestsPerClient {
                            let response = try await client.request("POST", "/v2/models/digits/infer", body: body)
                            guard response.status == 200 else {
                                seen["status \(response.status)", default: 0] += 1
                                continue
                            }
                            let object = try json(response)
                            let version = object["model_version"] as? String ?? "?"
                            let logits = outputData(object, "logits") ?? []
                            let matches =
                                expected[version].map { reference in
                                    logits.count == reference.count
                                        && zip(logits, reference).allSatisfy { abs($0 - Double($1)) <= 1e-5 }
                                } ?? false
                            seen[matches ? version : "mismatch \(version)", default: 0] += 1
                        }
                        return seen
                    }
                }
                // The switcher: promote staging (2) to production, roll back to 1, again and again.
                group.addTask {
                    var switches = 0
                    for _ in 0..<200 {
                        try registry.promote("digits", from: "staging", to: "production")
                        await Task.yield()
                        try registry.rollback("digits", alias: "production")
                        await Task.yield()
                        switches += 2
                    }
                    return ["switches": switches]
                }
                var total: [String: Int] = [:]
                for try await part in group { total.merge(part, uniquingKeysWith: +) }
                return total
            }
            #expect(outcome["switches"] == 400)
            let answered = (outcome["1"] ?? 0) + (outcome["2"] ?? 0)
            #expect(answered == clients * requestsPerClient, "\(outcome)")
            #expect(outcome.keys.filter { $0 != "1" && $0 != "2" && $0 != "switches" }.isEmpty, "\(outcome)")
        }
        #expect(registry.version("digits")?.version == 1)
        #expect(registry.history("digits", alias: "production").isEmpty)
        #expect(one.statistics.requests + two.statistics.requests == clients * requestsPerClient)
    }
}
