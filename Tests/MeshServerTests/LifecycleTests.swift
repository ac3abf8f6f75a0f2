import Foundation
import MeshCompute
import NIOCore
import NIOPosix
import Testing

@testable import MeshServer

/// Binding, ports, and shutdown.
@Suite struct LifecycleTests {
    @Test func portZeroBindsEphemeralPorts() async throws {
        let first = InferenceServer(registry: ModelRegistry())
        let second = InferenceServer(registry: ModelRegistry())
        let a = try await first.start()
        do {
            let b = try await second.start()
            #expect(a > 0 && b > 0 && a != b)
            #expect(first.url == "http://127.0.0.1:\(a)")
            // The same port again is refused with the bind error, and the first server still serves.
            let clash = InferenceServer(registry: ModelRegistry(), configuration: .init(port: a))
            await #expect(throws: (any Error).self) { try await clash.start() }
            await clash.stop()
            let client = try await HTTPClientConnection.connect(port: a)
            defer { client.close() }
            #expect(try await client.request("GET", "/v2/health/live").status == 200)
        } catch {
            await first.stop()
            await second.stop()
            throw error
        }
        await first.stop()
        await second.stop()
    }

    @Test func stopClosesConnectionsAndIsIdempotent() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let server = InferenceServer(registry: registry)
        let port = try await server.start()
        let client = try await HTTPClientConnection.connect(port: port)
        defer { client.close() }
        #expect(try await client.request("GET", "/v2/health/ready").status == 200)
        await server.stop()
        #expect(server.port == nil)
        await server.stop()
        // The idle keep-alive connection was closed and nothing listens any more.
        await #expect(throws: (any Error).self) { _ = try await client.request("GET", "/v2/health/ready") }
        await #expect(throws: (any Error).self) { _ = try await HTTPClientConnection.connect(port: port) }
    }

    @Test func requestInFlightFinishesDuringStop() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let executor = ComputeExecutor(name: "test.inference")
        defer { executor.shutdown() }
        let server = InferenceServer(registry: registry, configuration: .init(inlineRowLimit: 1), executor: executor)
        let port = try await server.start()
        let client = try await HTTPClientConnection.connect(port: port)
        defer { client.close() }
        // Hold the executor so the request (2 rows > inline limit 1) is in flight when stop begins.
        let gate = DispatchSemaphore(value: 0)
        let blocker = Task { await executor.run { gate.wait() } }
        let body = Fixtures.inferBody(Fixtures.rawRows(2), rows: 2)
        async let response = client.request("POST", "/v2/models/digits/infer", body: body)
        for _ in 0..<10_000 where server.requestsInFlight == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(server.requestsInFlight == 1)
        async let stopped: Void = server.stop()
        try await Task.sleep(for: .milliseconds(50))
        gate.signal()
        await blocker.value
        #expect(try await response.status == 200)
        await stopped
        #expect(server.requestsInFlight == 0)
        await #expect(throws: (any Error).self) { _ = try await HTTPClientConnection.connect(port: port) }
    }

    @Test(arguments: [nil, 1, 3] as [Int?])
    func threadingModesServeTheSameAnswers(eventLoopThreads: Int?) async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let configuration = InferenceServer.Configuration(
            inlineRowLimit: 4,
            eventLoopThreads: eventLoopThreads
        )
        try await withServer(registry, configuration: configuration) { _, client in
            for rows in [1, 40] {
                let raw = Fixtures.rawRows(rows)
                let response = try await client.request(
                    "POST",
                    "/v2/models/digits/infer",
                    body: Fixtures.inferBody(raw, rows: rows)
                )
                #expect(response.status == 200)
                let logits = try #require(outputData(try json(response), "logits"))
                let expected = Fixtures.expectedLogits(raw, rows: rows, model: Fixtures.modelA)
                #expect(zip(logits, expected).allSatisfy { abs($0 - Double($1)) <= 1e-5 })
            }
        }
    }

    @Test func loadTestReportsWithoutErrors() async throws {
        let registry = ModelRegistry()
        try registry.deploy(try Fixtures.versions().0, alias: "production")
        let server = InferenceServer(registry: registry)
        let port = try await server.start()
        let report = try await LoadTest.run(
            .init(
                port: port,
                path: "/v2/models/digits/infer",
                body: Fixtures.inferBody(Fixtures.rawRows(1), rows: 1),
                connections: 4,
                duration: .milliseconds(500),
                warmUp: .milliseconds(100),
                minimumRequests: 20
            )
        )
        await server.stop()
        #expect(report.requests >= 20)
        #expect(report.errors == 0)
        #expect(report.p50Milliseconds > 0 && report.p50Milliseconds <= report.p99Milliseconds)
        let refused = try await Self.loadAgainstMissingModel()
        #expect(refused.non2xx == refused.requests && refused.requests > 0)
    }

    private static func loadAgainstMissingModel() async throws -> LoadTestReport {
        let server = InferenceServer(registry: ModelRegistry())
        let port = try await server.start()
        let report = try await LoadTest.run(
            .init(port: port, path: "/v2/models/none/infer", body: Array("{}".utf8), connections: 2,
                  duration: .seconds(1), warmUp: .zero, minimumRequests: 10)
        )
        await server.stop()
        return report
    }
}
