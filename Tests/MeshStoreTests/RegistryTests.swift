import Foundation
import MeshCore
import MeshStore
import Testing

@Suite("Registries: use cases, data, models, aliases, approvals, metrics, alerts")
struct RegistryTests {
    @Test func theChainOfRegistriesKeepsItsKeysAndHistory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (path, store) = try makeRun(in: directory)

        let useCase = UseCase(id: "churn-eu", name: "Churn (EU)", template: "churn.yaml", stage: "intake", created: .seconds(1))
        #expect(try store.registerUseCase(useCase))
        #expect(try !store.registerUseCase(useCase), "a use case is registered once")
        try store.setStage(useCase: "churn-eu", stage: "data", at: .seconds(2))
        #expect(storeError { try store.setStage(useCase: "nope", stage: "data", at: .seconds(2)) }?.code == .invalidArgument)

        let source = DataSource(id: "crm", kind: "csv", location: "data/crm.csv", licence: "internal", region: "eu", containsPII: true)
        #expect(try store.registerDataSource(source))
        #expect(try store.dataSources() == [source])
        #expect(try store.rejectSource("crm", for: "churn-eu", rule: "pii", reason: "holds e-mail addresses", at: .seconds(2)))
        #expect(try store.rejectedSources(for: "churn-eu").map(\.rule) == ["pii"])

        let dataset = DatasetVersion(contentHash: String(repeating: "a", count: 64), useCase: "churn-eu", name: "churn", rows: 1_000, profileJSON: #"{"classes":2}"#, created: .seconds(3))
        #expect(try store.addDatasetVersion(dataset))
        #expect(try !store.addDatasetVersion(dataset))
        #expect(try store.datasetVersion(dataset.contentHash) == dataset)

        for version in 1...2 {
            let model = ModelVersionRecord(
                model: "churn-mlp", version: version, useCase: "churn-eu", datasetHash: dataset.contentHash, baseModel: "mlp-base",
                hyperparametersJSON: #"{"lr":0.001}"#, seed: UInt64.max - UInt64(version), metricsJSON: #"{"macro_f1":0.8}"#,
                created: .seconds(UInt64(3 + version)))
            #expect(try store.registerModelVersion(model))
        }
        #expect(try store.modelVersions("churn-mlp").map(\.seed) == [UInt64.max - 1, UInt64.max - 2], "u64 seeds kept exactly")
        try store.setAlias("staging", of: "churn-mlp", to: 1, by: "pipeline-1", reason: "deployed", at: .seconds(6))
        try store.setAlias("production", of: "churn-mlp", to: 1, by: "alice", reason: "approved", at: .seconds(7))
        let rollback = try store.setAlias("production", of: "churn-mlp", to: 2, by: "alice", reason: "promoted", at: .seconds(8))
        #expect(rollback.previousVersion == 1)
        #expect(try store.alias("production", of: "churn-mlp") == 2)
        #expect(try store.aliasHistory(of: "churn-mlp").map(\.version) == [1, 1, 2])
        #expect(storeError { try store.setAlias("staging", of: "churn-mlp", to: 9, by: "x", reason: "", at: .seconds(9)) }?.code == .invalidArgument,
            "an alias must point at a registered version")

        let approval = Approval(gate: "promotion", subject: "churn-mlp@2", decision: .approved, decidedBy: "alice", reason: "better F1", time: .seconds(7))
        #expect(try store.recordApproval(approval))
        var second = approval
        second.decision = .rejected
        #expect(try !store.recordApproval(second), "the first decision stands")
        #expect(try store.approvals() == [approval])

        try store.appendMetrics([
            MetricSample(series: "psi", labels: ["feature": "age", "model": "churn-mlp"], time: .seconds(10), value: 0.05),
            MetricSample(series: "psi", labels: ["model": "churn-mlp", "feature": "age"], time: .seconds(11), value: 0.31),
            MetricSample(series: "psi", labels: ["model": "churn-mlp", "feature": "age"], time: .seconds(11), value: 0.99),
        ])
        #expect(try store.metrics("psi", labels: ["model": "churn-mlp", "feature": "age"]).map(\.value) == [0.05, 0.31])

        #expect(try store.raiseAlert(Alert(rule: "psi>0.2", subject: "churn-mlp/age", since: .seconds(11), evidenceJSON: #"{"psi":0.31}"#)))
        #expect(try !store.raiseAlert(Alert(rule: "psi>0.2", subject: "churn-mlp/age", since: .seconds(11), evidenceJSON: "{}")))
        try store.raiseAlert(Alert(rule: "latency.p99>50ms", subject: "churn-mlp", since: .seconds(12), evidenceJSON: "{}"))
        try store.resolveAlerts(rule: "psi>0.2", subject: "churn-mlp/age", at: .seconds(20))
        let alerts = try store.alerts()
        #expect(alerts.map(\.rule) == ["latency.p99>50ms", "psi>0.2"])
        #expect(alerts[1].state == .resolved)
        #expect(alerts[1].resolved == .seconds(20))

        let status = try RunStore.openReadOnly(at: path).status(alertLimit: 1)
        #expect(status.useCases.map(\.stage) == ["data"])
        #expect(status.alerts.count == 1)
    }
}
