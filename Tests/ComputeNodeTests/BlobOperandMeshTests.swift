import Logging
import MeshAgents
import MeshCompute
import MeshCore
import MeshRuntime
import MeshTesting
import Testing

/// Layer 2: a compute agent built as `meshwork agent --role compute` builds it (the worker's node
/// resolving blobs through its own agent) evaluates a model whose weights and rows it is given
/// by hash only: it fetches both from the coordinator's store into its own cache.
@Suite("Blob operands over the mesh")
struct BlobOperandMeshTests {
    /// Schedules one compute task per request and keeps what comes back.
    struct RequestsWorkflow: Workflow {
        let requests: [ComputeRequest]
        private(set) var outputs: [Int: [UInt8]] = [:]
        private(set) var failures: [Int: String] = [:]

        init(requests: [ComputeRequest]) {
            self.requests = requests
        }

        static func task(_ index: Int) -> TaskID { TaskID(unchecked: "blob-operands/\(index)") }

        mutating func start() -> [WorkflowStep] {
            self.requests.enumerated().map { index, request in
                .schedule(
                    TaskSpec(id: Self.task(index), role: .compute, work: request.work, input: request.encoded(), duration: 1_000),
                    at: .zero)
            }
        }

        mutating func taskCompleted(_ task: TaskSpec, output: [UInt8], at: SimTime) -> [WorkflowStep] {
            self.outputs[self.index(task)] = output
            return self.outputs.count + self.failures.count == self.requests.count ? [.finish] : []
        }

        mutating func taskFailed(_ task: TaskSpec, reason: String, at: SimTime) -> [WorkflowStep] {
            self.failures[self.index(task)] = reason
            return self.outputs.count + self.failures.count == self.requests.count ? [.finish] : []
        }

        mutating func wake(_ tag: String, at: SimTime) -> [WorkflowStep] { [] }

        func audit() -> WorkflowAudit {
            WorkflowAudit(expectedTasks: self.requests.count, verified: self.outputs.count, mismatched: self.failures.count)
        }

        private func index(_ task: TaskSpec) -> Int { Int(task.id.rawValue.split(separator: "/").last!)! }
    }

    @Test func aComputeAgentFetchesItsBlobOperandsFromTheCoordinator() async throws {
        let served = MemoryBlobStore()
        let cache = MemoryBlobStore()
        let weightsHash = try served.put(NodeFixtures.directWeights.bytes)
        let datasetHash = try served.put(NodeFixtures.testRows.encodedBlob())
        let unknown = BlobHash(of: [4, 5, 6])
        let workflow = RequestsWorkflow(requests: [
            .evaluate(EvaluateRequest(model: .blob(weightsHash), data: .blob(datasetHash))),
            .quantize(QuantizeRequest(model: .blob(unknown))),
        ])
        let network = InMemoryNetwork()
        let logger = Logger(label: "blob-operands", factory: { _ in SwiftLogNoOpLogHandler() })
        let id = AgentID(unchecked: "compute-1")
        var configuration = CoordinatorConfiguration(runID: "blob-operands", incarnation: 1, pid: 1, host: "memory")
        configuration.expectedAgents = [id]
        let coordinator = Coordinator(
            configuration: configuration, workflow: workflow, transport: network.makeTransport(name: "coordinator"),
            journal: MemoryJournal(), clock: SystemClock(), logger: logger, blobStore: served)
        let late = LateBoundAgent()
        let agent = Agent(
            configuration: AgentConfiguration(id: id, role: .compute, capacity: 2, incarnation: 1, pid: 1, host: "memory"),
            transport: network.makeTransport(name: "compute-1"),
            worker: AgentProcess.worker(for: .compute, resolveBlob: late.resolver()), clock: SystemClock(), logger: logger,
            blobStore: cache)
        late.bind(agent)
        let agentRun = Task { try await agent.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await coordinator.run() }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                throw CancellationError()
            }
            try await group.next()
            group.cancelAll()
        }
        await agent.stop()
        _ = try? await agentRun.value

        let finished = await coordinator.workflow
        let inline = try ComputeNode.performInline(
            .evaluate(EvaluateRequest(model: .inline(NodeFixtures.directWeights), data: .inline(NodeFixtures.testRows))))
        #expect(finished.outputs[0] == inline.encoded(), "\(finished.failures)")
        #expect(finished.failures[1]?.hasPrefix("blobUnavailable: ") == true, "\(finished.failures)")
        #expect(cache.hashes == [weightsHash, datasetHash])
        #expect(await agent.statistics.blobsFetched == 2)
    }
}
