import MeshAgents
import MeshCore
import MeshRuntime
import MeshServer
import MeshTesting
import Testing

/// The lifecycle end to end with the real workers (data from scenarios/data, training on
/// OpenBLAS), over the in-memory mesh and against a local run of the same workflow.
@Suite("Lifecycle over the mesh", .serialized)
struct LifecycleMeshTests {
    /// A small search so debug builds stay quick: one architecture, 2 + 2 epochs.
    static func spec(_ useCase: String, human: HumanPolicy = HumanPolicy()) throws -> LifecycleSpec {
        var files = try ScenarioLoader.parse(
            """
            name: test
            seed: 42
            workflow:
              lifecycle:
                use_cases: [agents/usecases/\(useCase).yaml]
                search: { rung_epochs: [2, 4], max_models: 1 }
            """, file: "test.yaml")
        guard case .lifecycle(let scenario) = files.workflow else { throw LifecycleTestError.notLifecycle }
        var spec = try ScenarioLoader.resolve(scenario)
        spec.human = human
        files.lifecycle = spec
        return spec
    }

    enum LifecycleTestError: Error { case notLifecycle }

    static func workers(_ role: Role) -> any Worker { AgentProcess.worker(for: role) }

    static func run(
        _ spec: LifecycleSpec, workers: @escaping @Sendable (Role) -> any Worker = { Self.workers($0) }
    ) async throws -> (report: RunReport, journal: MemoryJournal, reference: LocalRun<LifecycleWorkflow>) {
        let workflow = LifecycleWorkflow(spec: spec, seed: 42)
        var agents = TestAgents.oneOfEachRole
        agents.append((AgentID(role: .compute, instance: 2), .compute))
        let mesh = TestMesh(workflow: workflow, agents: agents, workers: workers)
        let report = try await mesh.run(timeout: .seconds(600))
        let reference = await Orchestrator.runLocally(workflow) { spec in
            let outcome = await workers(spec.role).perform(
                Assignment(task: spec.id, work: spec.work, input: spec.input, simTime: .zero))
            switch outcome {
            case .done(let bytes): return .done(bytes)
            case .failed(let reason): return .failed(reason)
            }
        }
        return (report, mesh.journal, reference)
    }

    @Test func digitsGoesFromIntakeToAnAcceptedModel() async throws {
        let (report, journal, reference) = try await Self.run(try Self.spec("digits"))
        #expect(report.digest == reference.digest.text)
        let outcome = try #require(report.audit.useCases.first)
        #expect(outcome.state == "accepted", "\(outcome)")
        #expect(outcome.model == "digits-classifier@v1")
        #expect((outcome.testAccuracy ?? 0) > 0.9)
        let kinds = journal.entries.map(\.record.kind)
        for kind in ["usecase.registered", "data.discovery", "usecase.feasibility", "gate.decision", "dataset.version", "model.plan",
                     "model.pretrained", "search.rung", "model.evaluated", "model.registered", "usecase.ended"] {
            #expect(kinds.contains(kind), "no \(kind) record")
        }
        // Trials were spread over both compute nodes.
        let computeAwards = Set(journal.physicalEvents.filter { $0.kind == "award" && $0.task.contains("/r0/") }.map { $0.agent.split(separator: "#")[0] })
        #expect(computeAwards == ["compute-1", "compute-2"])
    }

    @Test func aPolicyWithoutPIIEndsAtFeasibilityNamingTheRule() async throws {
        let (report, journal, reference) = try await Self.run(try Self.spec("people-pii"))
        #expect(report.digest == reference.digest.text)
        let outcome = try #require(report.audit.useCases.first)
        #expect(outcome.state == "infeasible")
        #expect(outcome.reason.contains("pii-not-allowed"), "\(outcome.reason)")
        let feasibility = try #require(journal.entries.first { $0.record.kind == "usecase.feasibility" })
        #expect(feasibility.record.field("feasible") == "false")
        #expect(!journal.entries.contains { $0.record.kind == "dataset.version" })
    }

    @Test func aRaggedCSVEndsWithFileLineAndColumnAndNothingCrashes() async throws {
        let (report, journal, reference) = try await Self.run(try Self.spec("ragged"))
        #expect(report.digest == reference.digest.text)
        let outcome = try #require(report.audit.useCases.first)
        #expect(outcome.state == "data-failed")
        let failure = try #require(journal.entries.first { $0.record.kind == "data.failed" })
        #expect(failure.record.field("reason")?.contains("scenarios/data/ragged.csv:7:") == true, "\(failure.record)")
    }

    @Test func breastCancerRunsTheSameLifecycle() async throws {
        let (report, _, reference) = try await Self.run(try Self.spec("breast-cancer"))
        #expect(report.digest == reference.digest.text)
        let outcome = try #require(report.audit.useCases.first)
        #expect(outcome.state == "accepted" || outcome.state == "rejected", "\(outcome)")
        #expect(outcome.model != nil || outcome.reason.contains("misses"))
        #expect((outcome.testAccuracy ?? 0) > 0.85)
    }

    /// Serving and monitoring over the mesh, against a local run of the same workflow: one
    /// pipeline worker (its HTTP server) serves both, the monitoring worker calls it.
    @Test func servingMonitoringAndRetrainingMatchALocalRun() async throws {
        var spec = try Self.spec("digits")
        spec.serving = ServingSettings(loadMilliseconds: 200)
        spec.monitoring = MonitoringSettings(
            hours: 6, windowRows: 40, drift: .init(atHour: 2), alerts: [AlertRule(name: "DataDrift", condition: .drift)],
            retrain: .init(windows: 2, epochs: 5))
        let pipeline = PipelineWorker()
        let url = try await pipeline.start()
        defer { Task { await pipeline.stop() } }
        let monitoring = MonitoringWorker(fallbackInference: url)
        let (report, journal, reference) = try await Self.run(spec) { role in
            switch role {
            case .pipeline: CompositeWorker([RelayWorker(), pipeline])
            case .monitoring: CompositeWorker([RelayWorker(), monitoring])
            default: Self.workers(role)
            }
        }
        #expect(report.digest == reference.digest.text)
        let outcome = try #require(report.audit.useCases.first)
        #expect(outcome.state == "accepted", "\(outcome)")
        #expect(outcome.production == "digits-classifier@v2" && outcome.retrains == 1 && outcome.promotions == 2)
        let kinds = journal.entries.map(\.record.kind)
        for kind in ["model.optimized", "pipeline.deployed", "pipeline.tested", "pipeline.promoted", "monitoring.started",
                     "monitoring.window", "alert.firing", "retrain.requested", "model.retrained"] {
            #expect(kinds.contains(kind), "no \(kind) record")
        }
        let tested = try #require(journal.entries.first { $0.record.kind == "pipeline.tested" })
        #expect(tested.record.field("edge_cases") == "6/6 refused", "\(tested.record)")
        #expect(tested.record.field("passed") == "true")
        #expect(pipeline.registry.versions("digits-classifier") == [1, 2])
        #expect(pipeline.registry.aliases("digits-classifier")["production"] == 2)
    }
}
