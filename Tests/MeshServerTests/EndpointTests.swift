import Foundation
import MeshCompute
import MeshCore
import Testing

@testable import MeshServer

/// Every endpoint's happy path against real trained weights, over HTTP on 127.0.0.1.
@Suite struct EndpointTests {
    private func registry() throws -> (ModelRegistry, ModelVersion, ModelVersion) {
        let registry = ModelRegistry()
        let (one, two) = try Fixtures.versions()
        try registry.deploy(one, alias: "production")
        try registry.deploy(two, alias: "staging")
        return (registry, one, two)
    }

    @Test func healthAndServerMetadata() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry) { _, client in
            let live = try await client.request("GET", "/v2/health/live")
            #expect(live.status == 200)
            #expect(try json(live)["live"] as? Bool == true)
            let ready = try await client.request("GET", "/v2/health/ready")
            #expect(ready.status == 200)
            #expect(try json(ready)["ready"] as? Bool == true)
            let server = try await client.request("GET", "/v2")
            #expect(try json(server)["name"] as? String == "meshwork")
            #expect(server.header("content-type") == "application/json")
            let list = try json(try await client.request("GET", "/v2/models"))
            let models = list["models"] as? [[String: Any]]
            #expect(models?.first?["name"] as? String == "digits")
            #expect(models?.first?["versions"] as? [String] == ["1", "2"])
            #expect(models?.first?["aliases"] as? [String: String] == ["production": "1", "staging": "2"])
        }
    }

    @Test func modelMetadata() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry) { _, client in
            let response = try await client.request("GET", "/v2/models/digits")
            #expect(response.status == 200)
            let object = try json(response)
            #expect(object["name"] as? String == "digits")
            #expect(object["versions"] as? [String] == ["1", "2"])
            #expect(object["platform"] as? String == "meshwork-mlp")
            let inputs = object["inputs"] as? [[String: Any]]
            #expect(inputs?.count == 1)
            #expect(inputs?.first?["name"] as? String == "input")
            #expect(inputs?.first?["datatype"] as? String == "FP32")
            #expect(inputs?.first?["shape"] as? [Int] == [-1, 64])
            let outputs = object["outputs"] as? [[String: Any]]
            #expect(outputs?.map { $0["name"] as? String } == ["logits", "label", "probabilities"])
            #expect(outputs?.first?["shape"] as? [Int] == [-1, 10])
            let parameters = object["parameters"] as? [String: Any]
            #expect(parameters?["version"] as? String == "1")
            #expect(parameters?["precision"] as? String == "fp32")
            #expect(parameters?["dataset_hash"] as? String == "sha256:abc")
            #expect((parameters?["metrics"] as? [String: Double])?["accuracy"] == 0.95)
            #expect(parameters?["class_labels"] as? [Int] == Array(0...9))

            let staging = try json(try await client.request("GET", "/v2/models/digits@staging"))
            #expect((staging["parameters"] as? [String: Any])?["version"] as? String == "2")
            #expect((staging["parameters"] as? [String: Any])?["precision"] as? String == "int8")
            #expect((staging["parameters"] as? [String: Any])?["available_precisions"] as? [String] == ["fp32", "int8"])
            let byNumber = try json(try await client.request("GET", "/v2/models/digits/versions/2"))
            #expect((byNumber["parameters"] as? [String: Any])?["version"] as? String == "2")
        }
    }

    @Test func modelReadiness() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry) { _, client in
            let ready = try await client.request("GET", "/v2/models/digits/ready")
            #expect(ready.status == 200)
            #expect(try json(ready)["ready"] as? Bool == true)
            #expect(try json(ready)["version"] as? String == "1")
            #expect(try await client.request("GET", "/v2/models/digits@staging/ready").status == 200)
            #expect(try await client.request("GET", "/v2/models/digits/versions/2/ready").status == 200)
            let missing = try await client.request("GET", "/v2/models/digits@canary/ready")
            #expect(missing.status == 404)
            #expect((try json(missing)["error"] as? String)?.contains("canary") == true)
        }
    }

    @Test func inferMatchesMeshComputeFP32() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry) { _, client in
            let rows = 5
            let raw = Fixtures.rawRows(rows)
            for nested in [false, true] {
                let response = try await client.request(
                    "POST",
                    "/v2/models/digits/infer",
                    body: Fixtures.inferBody(raw, rows: rows, nested: nested, extra: #""id":"req-\"7\"","#)
                )
                #expect(response.status == 200)
                let object = try json(response)
                #expect(object["model_name"] as? String == "digits")
                #expect(object["model_version"] as? String == "1")
                #expect(object["id"] as? String == "req-\"7\"")
                #expect((object["parameters"] as? [String: Any])?["alias"] as? String == "production")
                let logits = try #require(outputData(object, "logits"))
                let expected = Fixtures.expectedLogits(raw, rows: rows, model: Fixtures.modelA)
                #expect(logits.count == expected.count)
                for (served, direct) in zip(logits, expected) { #expect(abs(served - Double(direct)) <= 1e-5) }
                let outputs = object["outputs"] as? [[String: Any]]
                #expect(outputs?.first?["shape"] as? [Int] == [rows, 10])
                #expect(outputs?.first?["datatype"] as? String == "FP32")
                let labels = try #require(outputData(object, "label")).map { Int($0) }
                var standardized = raw
                Fixtures.digits.scaler.apply(to: &standardized)
                let direct = try Fixtures.modelA.predictLabels(Matrix(rows: rows, columns: 64, values: standardized))
                #expect(labels == direct)
                #expect(outputs?.last?["datatype"] as? String == "INT64")
                #expect(outputs?.last?["shape"] as? [Int] == [rows])
            }
        }
    }

    @Test func inferInt8ByVersionAndAlias() async throws {
        let (registry, _, _) = try self.registry()
        let int8 = QuantizedMLP(quantizing: Fixtures.modelB)
        try await withServer(registry) { _, client in
            let raw = Fixtures.rawRows(3, from: 10)
            let expected = Fixtures.expectedLogits(raw, rows: 3, int8: int8)
            for path in ["/v2/models/digits/versions/2/infer", "/v2/models/digits@staging/infer"] {
                let response = try await client.request("POST", path, body: Fixtures.inferBody(raw, rows: 3))
                #expect(response.status == 200)
                let object = try json(response)
                #expect(object["model_version"] as? String == "2")
                #expect((object["parameters"] as? [String: Any])?["precision"] as? String == "int8")
                let logits = try #require(outputData(object, "logits"))
                for (served, direct) in zip(logits, expected) { #expect(abs(served - Double(direct)) <= 1e-5) }
            }
        }
    }

    @Test func requestedOutputsAndProbabilities() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry) { _, client in
            let raw = Fixtures.rawRows(2)
            let body = Fixtures.inferBody(raw, rows: 2, extra: #""outputs":[{"name":"probabilities"},{"name":"label"}],"#)
            let object = try json(try await client.request("POST", "/v2/models/digits/infer", body: body))
            #expect((object["outputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["label", "probabilities"])
            let probabilities = try #require(outputData(object, "probabilities"))
            #expect(probabilities.count == 20)
            #expect(abs(probabilities[0..<10].reduce(0, +) - 1) < 1e-5)
            #expect(outputData(object, "logits") == nil)
        }
    }

    @Test func largeBatchRunsOnTheExecutorAndMatches() async throws {
        let (registry, _, _) = try self.registry()
        try await withServer(registry, configuration: .init(inlineRowLimit: 8)) { _, client in
            let rows = 300
            let raw = Fixtures.rawRows(rows)
            let response = try await client.request("POST", "/v2/models/digits/infer", body: Fixtures.inferBody(raw, rows: rows))
            #expect(response.status == 200)
            let logits = try #require(outputData(try json(response), "logits"))
            let expected = Fixtures.expectedLogits(raw, rows: rows, model: Fixtures.modelA)
            #expect(logits.count == rows * 10)
            #expect(zip(logits, expected).allSatisfy { abs($0 - Double($1)) <= 1e-5 })
            // Accuracy through HTTP, as the pipeline's end-to-end test measures it.
            let labels = try #require(outputData(try json(response), "label")).map { Int($0) }
            let correct = zip(labels, Fixtures.digits.testLabels.prefix(rows)).filter { $0 == $1 }.count
            #expect(Double(correct) / Double(rows) > 0.8)
        }
    }

    @Test func statisticsCountRequests() async throws {
        let (registry, one, _) = try self.registry()
        try await withServer(registry) { _, client in
            let body = Fixtures.inferBody(Fixtures.rawRows(2), rows: 2)
            for _ in 0..<7 { _ = try await client.request("POST", "/v2/models/digits/infer", body: body) }
            _ = try await client.request("POST", "/v2/models/digits/infer", body: Array("{}".utf8))
            let statistics = one.statistics
            #expect(statistics.requests == 7)
            #expect(statistics.rows == 14)
            #expect(statistics.failures == 1)
            #expect(statistics.window == 7)
            #expect(statistics.p50Seconds > 0 && statistics.p50Seconds <= statistics.p99Seconds)
            #expect(registry.statistics("digits")?.requests == 7)
            let object = try json(try await client.request("GET", "/v2/models/digits/stats"))
            let stats = try #require(object["model_stats"] as? [[String: Any]])
            #expect(stats.count == 2)
            #expect(stats.first?["inference_count"] as? Int == 7)
            #expect(stats.first?["failure_count"] as? Int == 1)
            #expect(((stats.first?["latency"] as? [String: Any])?["p99_ms"] as? Double ?? 0) > 0)
            let staging = try json(try await client.request("GET", "/v2/models/digits@staging/stats"))
            #expect((staging["model_stats"] as? [[String: Any]])?.first?["version"] as? String == "2")
        }
    }
}
