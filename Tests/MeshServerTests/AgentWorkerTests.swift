import MeshAgents
import MeshCompute
import MeshCore
import Foundation
import MeshServer
import Synchronization
import Testing

/// The pipeline and monitoring agents' workers over a real HTTP server: the good path, and every
/// bad input a peer can send answered with a clear failure while the server keeps serving.
@Suite("Pipeline and monitoring workers", .serialized)
struct AgentWorkerTests {
    static func assignment(_ work: String, _ input: [UInt8], context: [String: String] = [:]) -> Assignment {
        Assignment(task: TaskID(unchecked: "t/\(work)"), work: work, input: input, simTime: .zero, context: context)
    }

    static var testRows: LabeledRows {
        let rows = 40
        return LabeledRows(
            features: TensorFrame(rows: rows, columns: 64, values: Array(Fixtures.digits.rawTest.prefix(rows * 64))),
            labels: Array(Fixtures.digits.testLabels.prefix(rows)))
    }

    static func deployRequest(version: Int = 1, alias: String = "staging") -> DeployRequest {
        let model = Fixtures.modelA
        return DeployRequest(
            name: "digits", version: version, alias: alias, precision: "int8", standardizer: Fixtures.digits.scaler,
            dataset: "sha256:ab", fp32: SerializedWeights(WeightsFile.encode(model)),
            int8: SerializedWeights(WeightsFile.encode(QuantizedMLP(quantizing: model))))
    }

    static func done(_ report: WorkReport) throws -> [UInt8] {
        guard case .done(let bytes) = report.outcome else {
            Issue.record("failed: \(report.outcome)")
            throw WireError(.invalidField, "failed")
        }
        return bytes
    }

    @Test func deployTestPromoteAndAWindowThroughTheAPI() async throws {
        let pipeline = PipelineWorker()
        let url = try await pipeline.start()
        defer { Task { await pipeline.stop() } }
        let deployed = try CanonicalJSON.decode(
            DeploymentReport.self,
            from: try Self.done(await pipeline.performReporting(Self.assignment(ServingWork.deploy, Self.deployRequest().encoded()))),
            what: "report")
        #expect(deployed == DeploymentReport(name: "digits", version: 1, alias: "staging", precision: "int8"))
        // A re-driven deploy of the same version is a no-op that answers the same.
        #expect(try Self.done(await pipeline.performReporting(Self.assignment(ServingWork.deploy, Self.deployRequest().encoded())))
            == CanonicalJSON.encode(deployed))
        let test = ServingTestRequest(name: "digits", version: 1, connections: 2, milliseconds: 100, rows: Self.testRows)
        let tested = await pipeline.performReporting(Self.assignment(ServingWork.test, test.encoded()))
        let report = try CanonicalJSON.decode(ServingTestReport.self, from: try Self.done(tested), what: "report")
        #expect(report.passed, "\(report.edgeCases)")
        #expect(report.edgeCases.map(\.name) == ["wrong-shape", "wrong-type", "empty-batch", "huge-batch", "not-json", "unknown-model"])
        #expect(report.accuracy > 0.8)
        #expect(tested.telemetry["load.errors"] == "0" && tested.telemetry["load.p99_ms"] != nil)
        let promoted = await pipeline.performReporting(
            Self.assignment(ServingWork.promote, PromoteRequest(name: "digits", version: 1, alias: "production").encoded()))
        _ = try Self.done(promoted)
        #expect(pipeline.registry.aliases("digits") == ["staging": 1, "production": 1])
        // A window: accuracy over HTTP on every row and on the held-out part, drift measured.
        let reference = DriftReference(rows: Self.testRows.features, seed: 1)
        let window = WindowRequest(
            useCase: "uc", name: "digits", version: 1, window: 0, rule: DriftRule(), rows: Self.testRows, heldOutFrom: 20,
            reference: reference)
        let monitoring = MonitoringWorker()
        let measured = await monitoring.performReporting(
            Self.assignment(ServingWork.window, window.encoded(), context: ["pipeline-1.inference": url]))
        let windowReport = try CanonicalJSON.decode(WindowReport.self, from: try Self.done(measured), what: "report")
        #expect(windowReport.rows == 40 && windowReport.heldOutRows == 20)
        #expect(windowReport.correct == report.correct, "the same rows and version give the same answers")
        #expect(!windowReport.drifted && windowReport.ksFlagged == 0, "a window against its own reference")
        #expect(measured.telemetry["window.inference"] == url)
    }

    @Test func badInputIsAnsweredWithAClearFailureAndTheServerKeepsServing() async throws {
        let pipeline = PipelineWorker()
        let url = try await pipeline.start()
        defer { Task { await pipeline.stop() } }
        func failure(_ work: String, _ input: [UInt8], context: [String: String] = [:], worker: (any Worker)? = nil) async -> String {
            switch await (worker ?? pipeline).performReporting(Self.assignment(work, input, context: context)).outcome {
            case .failed(let reason): return reason
            case .done: return "done"
            }
        }
        #expect(await failure(ServingWork.deploy, [1, 2, 3]).hasPrefix("malformedRequest: pipeline.deploy: "))
        var broken = Self.deployRequest()
        broken.fp32 = SerializedWeights(Array(repeating: 7, count: 64))
        broken.int8 = nil
        broken.head.precision = "fp32"
        #expect(await failure(ServingWork.deploy, broken.encoded()).hasPrefix("pipeline.deploy: "))
        #expect(await failure(ServingWork.promote, PromoteRequest(name: "digits", version: 9, alias: "production").encoded())
            .contains("no version 9"))
        let test = ServingTestRequest(name: "digits", version: 3, connections: 1, milliseconds: 0, rows: Self.testRows)
        #expect(await failure(ServingWork.test, test.encoded()).hasPrefix("unknownModel: digits@v3"))
        #expect(await failure(ServingWork.test, Array(test.encoded().dropLast(5))).hasPrefix("malformedRequest"))
        let window = WindowRequest(
            useCase: "uc", name: "digits", version: 1, window: 0, rule: DriftRule(), rows: Self.testRows, heldOutFrom: 20,
            reference: DriftReference(rows: Self.testRows.features, seed: 1))
        let monitoring = MonitoringWorker()
        #expect(await failure(ServingWork.window, window.encoded(), worker: monitoring).hasPrefix("noInference"))
        #expect(await failure(ServingWork.window, window.encoded(), context: ["p.inference": url], worker: monitoring)
            .contains("HTTP 404"), "version 1 is not deployed yet")
        #expect(await failure(ServingWork.window, window.encoded(), context: ["p.inference": "http://127.0.0.1:1"], worker: monitoring)
            .hasPrefix("inference: cannot connect"))
        #expect(await failure(ServingWork.window, [0], worker: monitoring).hasPrefix("malformedRequest"))
        // After all that, a deploy and a window still work.
        _ = try Self.done(await pipeline.performReporting(Self.assignment(ServingWork.deploy, Self.deployRequest().encoded())))
        _ = try Self.done(await monitoring.performReporting(Self.assignment(ServingWork.window, window.encoded(), context: ["p.inference": url])))
    }

    @Test func alertsArePostedToTheWebhookInAlertmanagersShape() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let rule = AlertRule(name: "DataDrift", condition: .drift, forMinutes: 60, severity: "warning")
        let payload = AlertmanagerPayload(
            rule: rule, subject: "digits", firing: true, startsAt: SimTime(microseconds: 3_600_000_000), endsAt: nil,
            summary: "window 3: drifted", run: "seed-42")
        let notification = AlertNotification(webhook: "http://127.0.0.1:\(receiver.port)/alerts", payload: payload)
        let report = await MonitoringWorker().performReporting(Self.assignment(ServingWork.notify, CanonicalJSON.encode(notification)))
        let output = try Self.done(report)
        #expect(try CanonicalJSON.decode([String: String].self, from: output, what: "o") == ["alert": "DataDrift", "status": "firing"])
        #expect(report.telemetry["webhook.status"] == "200")
        let bodies = receiver.bodies.withLock { $0 }
        #expect(bodies.count == 1)
        let posted = try #require(bodies.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] })
        #expect(posted["version"] as? String == "4" && posted["status"] as? String == "firing")
        let alerts = try #require(posted["alerts"] as? [[String: Any]])
        #expect((alerts.first?["labels"] as? [String: String])?["alertname"] == "DataDrift")
        #expect(alerts.first?["startsAt"] as? String == "1970-01-01T01:00:00Z")
        // A webhook that is down: the same output, the failure in the telemetry, three tries.
        let down = AlertNotification(webhook: "http://127.0.0.1:1/alerts", payload: payload)
        let failed = await MonitoringWorker().performReporting(Self.assignment(ServingWork.notify, CanonicalJSON.encode(down)))
        #expect(try Self.done(failed) == output)
        #expect(failed.telemetry["webhook.attempts"] == "3" && failed.telemetry["webhook.error"] != nil)
    }

    @Test func aRestartedPipelineServesWhatWasDeployedBefore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-state-\(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = PipelineWorker(stateDirectory: directory)
        _ = try Self.done(await first.performReporting(Self.assignment(ServingWork.deploy, Self.deployRequest(version: 1).encoded())))
        _ = try Self.done(await first.performReporting(Self.assignment(ServingWork.deploy, Self.deployRequest(version: 2).encoded())))
        _ = try Self.done(await first.performReporting(
            Self.assignment(ServingWork.promote, PromoteRequest(name: "digits", version: 1, alias: "production").encoded())))
        let second = PipelineWorker(stateDirectory: directory)
        #expect(second.registry.versions("digits") == [1, 2])
        #expect(second.registry.aliases("digits") == ["staging": 2, "production": 1])
        // A damaged file is skipped, not fatal.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/digits@v3.deploy"))
        #expect(PipelineWorker(stateDirectory: directory).registry.versions("digits") == [1, 2])
    }
}
