import Foundation
import Testing

@testable import MeshServer

/// Every refusal: a 4xx with a JSON error naming the problem, and the next good request on the same
/// connection succeeds.
@Suite struct EdgeCaseTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var method: String = "POST"
        var path: String = "/v2/models/digits/infer"
        var body: String
        var status: Int
        var code: String
        /// A word the error message must contain.
        var mentions: String
        var testDescription: String { self.label }
    }

    static let row = Array(repeating: "1", count: 64).joined(separator: ",")

    static func input(shape: String = "[1,64]", datatype: String = "\"FP32\"", data: String = "[\(row)]") -> String {
        "{\"inputs\":[{\"name\":\"input\",\"shape\":\(shape),\"datatype\":\(datatype),\"data\":\(data)}]}"
    }

    static let cases: [Case] = [
        Case(label: "wrong feature count", body: input(shape: "[1,63]"), status: 400, code: "shapeMismatch", mentions: "[N, 64]"),
        Case(label: "shape of rank 1", body: input(shape: "[64]"), status: 400, code: "shapeMismatch", mentions: "shape"),
        Case(label: "data count differs from shape", body: input(shape: "[2,64]"), status: 400, code: "shapeMismatch", mentions: "128"),
        Case(label: "non-integer shape", body: input(shape: "[1.5,64]"), status: 400, code: "shapeMismatch", mentions: "shape"),
        Case(label: "wrong datatype", body: input(datatype: "\"BYTES\""), status: 400, code: "unsupportedDatatype", mentions: "BYTES"),
        Case(label: "datatype not a string", body: input(datatype: "32"), status: 400, code: "invalidRequest", mentions: "datatype"),
        Case(label: "string in data", body: input(data: "[\"1\"," + row.dropFirst(2) + "]"), status: 400, code: "nonNumeric", mentions: "string"),
        Case(label: "null in data", body: input(data: "[null," + row.dropFirst(2) + "]"), status: 400, code: "nonNumeric", mentions: "null"),
        Case(label: "boolean in data", body: input(data: "[true," + row.dropFirst(2) + "]"), status: 400, code: "nonNumeric", mentions: "boolean"),
        Case(label: "NaN", body: input(data: "[NaN," + row.dropFirst(2) + "]"), status: 400, code: "nonFinite", mentions: "finite"),
        Case(label: "Infinity", body: input(data: "[-Infinity," + row.dropFirst(2) + "]"), status: 400, code: "nonFinite", mentions: "finite"),
        Case(label: "beyond FP32", body: input(data: "[1e39," + row.dropFirst(2) + "]"), status: 400, code: "nonFinite", mentions: "value 0"),
        Case(label: "empty batch", body: input(shape: "[0,64]", data: "[]"), status: 400, code: "emptyBatch", mentions: "empty"),
        Case(label: "batch above the limit", body: input(shape: "[9,64]", data: "[" + Array(repeating: row, count: 9).joined(separator: ",") + "]"), status: 413, code: "batchTooLarge", mentions: "limit of 8"),
        Case(label: "body above the limit", body: input(data: "[" + Array(repeating: "0.000000000", count: 700).joined(separator: ",") + "]"), status: 413, code: "bodyTooLarge", mentions: "8192 bytes"),
        Case(label: "unknown model", path: "/v2/models/nope/infer", body: input(), status: 404, code: "modelNotFound", mentions: "nope"),
        Case(label: "unknown alias", path: "/v2/models/digits@canary/infer", body: input(), status: 404, code: "modelNotFound", mentions: "canary"),
        Case(label: "unknown version", path: "/v2/models/digits/versions/9/infer", body: input(), status: 404, code: "modelNotFound", mentions: "version 9"),
        Case(label: "version not a number", path: "/v2/models/digits/versions/x/infer", body: input(), status: 404, code: "modelNotFound", mentions: "'x'"),
        Case(label: "truncated JSON", body: String(input().dropLast(3)), status: 400, code: "malformedJSON", mentions: "ends"),
        Case(label: "not JSON", body: "inputs=1", status: 400, code: "malformedJSON", mentions: "byte 0"),
        Case(label: "trailing garbage", body: input() + "x", status: 400, code: "malformedJSON", mentions: "end of the body"),
        Case(label: "empty body", body: "", status: 400, code: "malformedJSON", mentions: "ends"),
        Case(label: "no inputs", body: "{\"id\":\"1\"}", status: 400, code: "invalidRequest", mentions: "inputs"),
        Case(label: "two inputs", body: "{\"inputs\":[{\"name\":\"input\"},{\"name\":\"input\"}]}", status: 400, code: "invalidRequest", mentions: "more than one"),
        Case(label: "wrong input name", body: input().replacingOccurrences(of: "\"input\"", with: "\"x\""), status: 400, code: "invalidRequest", mentions: "\"x\""),
        Case(label: "no data", body: "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\"}]}", status: 400, code: "invalidRequest", mentions: "data"),
        Case(label: "unknown output", body: "{\"outputs\":[{\"name\":\"embedding\"}]," + input().dropFirst(), status: 400, code: "invalidRequest", mentions: "embedding"),
        Case(label: "nesting too deep", body: input(data: String(repeating: "[", count: 40) + String(repeating: "]", count: 40)), status: 400, code: "malformedJSON", mentions: "deeper"),
        Case(label: "wrong method on infer", method: "GET", body: "", status: 405, code: "methodNotAllowed", mentions: "POST"),
        Case(label: "wrong method on metadata", method: "POST", path: "/v2/models/digits", body: "{}", status: 405, code: "methodNotAllowed", mentions: "GET"),
        Case(label: "unknown endpoint", method: "GET", path: "/v2/models/digits/explain", body: "", status: 404, code: "notFound", mentions: "explain"),
        Case(label: "outside /v2", method: "GET", path: "/metrics", body: "", status: 404, code: "notFound", mentions: "/metrics"),
    ]

    @Test(arguments: Self.cases)
    func refusedWithJSONErrorThenServes(_ testCase: Case) async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let configuration = InferenceServer.Configuration(maximumBatchRows: 8, maximumBodyBytes: 8192)
        try await withServer(registry, configuration: configuration) { _, client in
            let response = try await client.request(testCase.method, testCase.path, body: Array(testCase.body.utf8))
            #expect(response.status == testCase.status)
            #expect(response.header("content-type") == "application/json")
            let object = try json(response)
            let message = try #require(object["error"] as? String)
            #expect(object["code"] as? String == testCase.code)
            #expect(message.contains(testCase.mentions), "\(message)")
            if testCase.status == 405 { #expect(response.header("allow") != nil) }

            let good = try await client.request(
                "POST",
                "/v2/models/digits/infer",
                body: Fixtures.inferBody(Fixtures.rawRows(1), rows: 1)
            )
            #expect(good.status == 200)
            #expect(try json(good)["model_version"] as? String == "1")
        }
    }

    @Test func malformedHTTPClosesOnlyThatConnection() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry) { server, client in
            let bad = try await HTTPClientConnection.connect(port: server.port!)
            defer { bad.close() }
            let response = try await bad.send(raw: Array("NOT HTTP AT ALL\r\n\r\n".utf8))
            #expect(response.status == 400)
            #expect(try await client.request("GET", "/v2/health/ready").status == 200)
        }
    }
}
