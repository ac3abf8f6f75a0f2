import Foundation
import MeshAgents
import MeshCompute
import MeshCore
import MeshTesting
import Testing

/// Layer 2: compute tasks negotiated over the in-memory network with two compute agents running
/// `ComputeWorker` on a real `ComputeNode`, checked against a run with no mesh.
@Suite("Compute in a mesh")
struct ComputeMeshTests {
    static let agents: [(AgentID, Role)] = [
        (AgentID(unchecked: "compute-1"), .compute), (AgentID(unchecked: "compute-2"), .compute),
    ]

    static func workflow(seeds: [UInt64] = [1, 2], epochs: Int = 3) -> ComputeTrialsWorkflow {
        ComputeTrialsWorkflow(
            seeds: seeds,
            architecture: "mlp:32",
            hyperparameters: Hyperparameters(epochs: epochs),
            train: NodeFixtures.trainRows,
            test: NodeFixtures.testRows,
            classLabels: NodeFixtures.classLabels
        )
    }

    /// The same workflow with the port called inline, on an executor thread (never the pool).
    static func reference(
        _ workflow: ComputeTrialsWorkflow,
        on node: ComputeNode
    ) async -> LocalRun<ComputeTrialsWorkflow> {
        await node.executor.run {
            Orchestrator.runLocally(workflow) { spec in
                do {
                    let request = try ComputeRequest(decoding: spec.input)
                    return .done(try ComputeNode.performInline(request).encoded())
                } catch let error as ComputeFailure {
                    return .failed(error.reportedReason)
                } catch {
                    return .failed("\(error)")
                }
            }
        }
    }

    /// The first seed whose train task the award rule gives to `agent` (both agents bid with free slots).
    static func seed(trainedBy agent: AgentID) -> UInt64 {
        (1...64).first { seed in
            let task = ComputeTrialsWorkflow.trainTask(seed)
            return Self.agents.map(\.0).max {
                AwardRule.weight(task: task, agent: $0) < AwardRule.weight(task: task, agent: $1)
            }
                == agent
        }!
    }

    @Test func twoTrialsTrainAndEvaluateOnTwoComputeAgentsWithTheLocalDigest() async throws {
        let node = ComputeNode()
        defer { node.shutdown() }
        let seeds = Self.agents.map { Self.seed(trainedBy: $0.0) }
        let workflow = Self.workflow(seeds: seeds)
        let mesh = TestMesh(
            workflow: workflow,
            agents: Self.agents,
            worker: CompositeWorker([RelayWorker(), ComputeWorker(port: node)])
        )
        let report = try await mesh.run(timeout: .seconds(120))
        let meshed = await mesh.coordinator.workflow
        let reference = await Self.reference(workflow, on: node)

        #expect(meshed.failures.isEmpty, "\(meshed.failures)")
        #expect(meshed.evaluations.count == 2)
        #expect(report.handoffs == 4)
        #expect(report.digest == reference.digest.text)
        #expect(meshed.outputs == reference.workflow.outputs)
        #expect(mesh.journal.entries.count == reference.records.count)

        // Each trial's model is what MeshCompute trains directly, and its evaluation what the report says.
        for seed in seeds {
            let model = MLP(
                architecture: .mlp(hidden: [32]),
                inputs: 64,
                classLabels: NodeFixtures.classLabels,
                seed: seed
            )
            let trained = try Trainer.train(
                model,
                on: NodeFixtures.data(NodeFixtures.digits.train),
                configuration: TrainingConfiguration(epochs: 3, seed: seed)
            ).model
            let output = try #require(meshed.outputs[ComputeTrialsWorkflow.trainTask(seed).rawValue])
            guard case .trained(let response) = try ComputeResponse(decoding: output) else {
                Issue.record("trial \(seed) did not return a trained model")
                continue
            }
            #expect(response.weights.bytes == WeightsFile.encode(trained))
            let test = NodeFixtures.data(NodeFixtures.digits.test)
            let direct = try EvaluationReport(logits: trained.logits(test.features), data: test)
            #expect(meshed.evaluations[seed]?.accuracy == direct.accuracy)
            #expect(meshed.evaluations[seed]?.confusionMatrix == direct.confusionMatrix)
        }
        #expect(meshed.evaluations[seeds[0]] != meshed.evaluations[seeds[1]])  // different seeds, different models

        let awards = mesh.journal.physicalEvents.filter { $0.kind == "award" }
        #expect(awards.count >= 4 && awards.allSatisfy { $0.agent.hasPrefix("compute-") })
        // The award rule is a function of task and agent ids, and the seeds were picked so that each
        // agent trains one trial.
        #expect(Set(awards.map { $0.agent.split(separator: "#")[0] }) == ["compute-1", "compute-2"])
    }

    @Test func aBadRequestFailsItsTaskWithTheReasonAndTheRunGoesOn() async throws {
        let node = ComputeNode()
        defer { node.shutdown() }
        // Seed 3 trains on rows whose labels include one outside the classes: its task fails.
        var bad = NodeFixtures.trainRows
        bad.labels[5] = 99
        var workflow = Self.workflow(seeds: [3], epochs: 1)
        workflow = ComputeTrialsWorkflow(
            seeds: [3, 4],
            architecture: workflow.architecture,
            hyperparameters: workflow.hyperparameters,
            train: bad,
            test: NodeFixtures.testRows,
            classLabels: NodeFixtures.classLabels
        )
        let mesh = TestMesh(workflow: workflow, agents: Self.agents, worker: ComputeWorker(port: node))
        let report = try await mesh.run(timeout: .seconds(120))
        let meshed = await mesh.coordinator.workflow
        #expect(meshed.failures.count == 2)
        #expect(
            meshed.failures["trial/3/train"]
                == "labelOutOfRange: training data, row 5: label 99 is not one of the classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
        )
        let reference = await Self.reference(workflow, on: node)
        #expect(report.digest == reference.digest.text)
        #expect(mesh.journal.entries.contains { $0.record.kind == "task.failed" })
    }

    /// Off by default: `MESHWORK_MEASURE=1 swift test --scratch-path .build-node --filter ComputeMeshMeasurements`.
    @Suite(
        "Compute mesh measurements",
        .serialized,
        .enabled(if: ProcessInfo.processInfo.environment["MESHWORK_MEASURE"] != nil)
    )
    struct Measurements {
        @Test(arguments: [1, 20])
        func aTrainRequestThroughTheMeshAgainstADirectCall(epochs: Int) async throws {
            let node = ComputeNode()
            defer { node.shutdown() }
            let workflow = ComputeMeshTests.workflow(seeds: [5], epochs: epochs)
            guard case .schedule(let spec, _) = workflow.trainSpec else { return }
            let request = try ComputeRequest(decoding: spec.input)
            var direct: [Duration] = []
            var port: [Duration] = []
            var meshed: [Duration] = []
            var awarded: [Duration] = []
            for _ in 0..<5 {
                let clock = ContinuousClock()
                var start = clock.now
                _ = try await node.executor.run { () throws(ComputeFailure) in try ComputeNode.performInline(request) }
                direct.append(clock.now - start)
                start = clock.now
                _ = try await node.perform(request)
                port.append(clock.now - start)
                let single = SingleTaskWorkflow(spec: spec)
                let mesh = TestMesh(
                    workflow: single,
                    agents: [ComputeMeshTests.agents[0]],
                    worker: ComputeWorker(port: node)
                )
                _ = try await mesh.run(timeout: .seconds(300))
                // From the coordinator's own clock: the agent joined (the workflow starts then) or the
                // award was sent, to the result's arrival. The join handshake itself is not counted.
                let events = mesh.journal.physicalEvents
                let joined = try #require(events.first { $0.kind == "joined" }).monotonicNanoseconds
                let award = try #require(events.first { $0.kind == "award" }).monotonicNanoseconds
                let result = try #require(events.first { $0.kind == "result" }).monotonicNanoseconds
                meshed.append(.nanoseconds(Int64(result - joined)))
                awarded.append(.nanoseconds(Int64(result - award)))
            }
            func median(_ values: [Duration]) -> Double {
                let sorted = values.sorted()
                let middle = sorted[sorted.count / 2].components
                return Double(middle.seconds) * 1e3 + Double(middle.attoseconds) / 1e15
            }
            print(
                "compute mesh measurement: train \(epochs) epoch(s), request \(spec.input.count) bytes: direct \(median(direct)) ms, port \(median(port)) ms, in-process mesh from join \(median(meshed)) ms, from award \(median(awarded)) ms (medians of 5)"
            )
        }
    }
}

extension ComputeTrialsWorkflow {
    /// The first train task this workflow schedules.
    var trainSpec: WorkflowStep? {
        var copy = self
        return copy.start().first { if case .schedule = $0 { true } else { false } }
    }
}

/// One task, then done: for timing a single hand-off.
struct SingleTaskWorkflow: Workflow {
    let spec: TaskSpec
    mutating func start() -> [WorkflowStep] { [.schedule(self.spec, at: .zero)] }
    mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] { [.finish] }
    mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] { [.finish] }
    mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] { [] }
    func audit() -> WorkflowAudit { WorkflowAudit(expectedTasks: 1, verified: 0, mismatched: 0) }
}
