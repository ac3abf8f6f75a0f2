import Foundation
import Testing

@testable import MeshServer

/// The HTTP/1.1 layer of the inference API (NIO's request decoder and ``InferenceHTTPHandler``): pipelined
/// requests, chunked bodies, `Connection: close`, and the load test sharing the server's loops.
@Suite struct HTTPConnectionTests {
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        // Batches of 1 and 6 rows with an inline limit of 4: the 6-row ones go to the executor
        // while later requests wait behind them on the same connection.
        try await withServer(registry, configuration: .init(inlineRowLimit: 4)) { _, client in
            let answers = try await withThrowingTaskGroup(of: (Int, String?, Int).self) { group in
                for index in 0..<12 {
                    let rows = index % 3 == 0 ? 6 : 1
                    let body = Fixtures.inferBody(Fixtures.rawRows(rows, from: index), rows: rows, extra: "\"id\":\"r\(index)\",")
                    group.addTask {
                        let response = try await client.request("POST", "/v2/models/digits/infer", body: body)
                        return (index, try json(response)["id"] as? String, response.status)
                    }
                }
                var answers: [(Int, String?, Int)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(answers.count == 12)
            for (index, id, status) in answers {
                #expect(status == 200)
                #expect(id == "r\(index)")
            }
        }
    }

    @Test func chunkedBodyIsRead() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry) { _, client in
            let raw = Fixtures.rawRows(2)
            let body = Fixtures.inferBody(raw, rows: 2)
            var request = Array("POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            for chunk in stride(from: 0, to: body.count, by: 100).map({ body[$0..<min($0 + 100, body.count)] }) {
                request += Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Array("\r\n".utf8)
            }
            request += Array("0\r\n\r\n".utf8)
            let response = try await client.send(raw: request)
            #expect(response.status == 200)
            let logits = try #require(outputData(try json(response), "logits"))
            let expected = Fixtures.expectedLogits(raw, rows: 2, model: Fixtures.modelA)
            #expect(logits.count == expected.count)
            #expect(zip(logits, expected).allSatisfy { abs($0 - Double($1)) <= 1e-5 })
        }
    }

    @Test func chunkedBodyAboveTheLimitIsRefused() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry, configuration: .init(maximumBodyBytes: 1000)) { _, client in
            var request = Array("POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            for _ in 0..<3 { request += Array("190\r\n".utf8) + Array(repeating: UInt8(ascii: " "), count: 400) + Array("\r\n".utf8) }
            request += Array("0\r\n\r\n".utf8)
            let response = try await client.send(raw: request)
            #expect(response.status == 413)
            #expect(try json(response)["code"] as? String == "bodyTooLarge")
            // The connection still serves.
            #expect(try await client.request("GET", "/v2/health/live").status == 200)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry) { _, client in
            let response = try await client.request("GET", "/v2/health/live", headers: [("Connection", "close")])
            #expect(response.status == 200)
            #expect(response.header("connection") == "close")
            #expect(response.header("date")?.hasSuffix(" GMT") == true)
            await #expect(throws: (any Error).self) { _ = try await client.request("GET", "/v2/health/live") }
        }
    }

    @Test func queryStringsAreIgnored() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        try await withServer(registry) { _, client in
            let response = try await client.request("GET", "/v2/models/digits/ready?verbose=1")
            #expect(response.status == 200)
        }
    }

    @Test func loadTestOnTheServersLoops() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let server = InferenceServer(registry: registry, configuration: .init(eventLoopThreads: 2))
        let port = try await server.start()
        let report: LoadTestReport
        do {
            report = try await LoadTest.run(
                .init(
                    port: port,
                    path: "/v2/models/digits/infer",
                    body: Fixtures.inferBody(Fixtures.rawRows(1), rows: 1),
                    connections: 4,
                    duration: .milliseconds(300),
                    warmUp: .milliseconds(100),
                    minimumRequests: 20
                ),
                onLoopsOf: server
            )
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        #expect(report.requests >= 20)
        #expect(report.errors == 0)
        #expect(registry.statistics("digits", version: 1)?.requests ?? 0 >= report.requests)
    }
}
