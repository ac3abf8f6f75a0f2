import Foundation
@preconcurrency import Glibc
public import Logging
import MeshAgents
public import MeshCore
import MeshStore
import MeshZeroMQ
import Synchronization

/// `meshwork run`: the same coordinator and agents as `meshwork up`, in one process, over
/// ZeroMQ `inproc://` with one shared context.
public enum InProcessMesh {
    /// Runs `scenario` to the end in this process and returns its summary.
    public static func run(scenario: Scenario, run: RunDirectory, showProgress: Bool, logger: Logger) async throws -> RunSummary {
        let processFaults = scenario.faults.filter { !$0.action.isNetwork }
        if !processFaults.isEmpty, showProgress {
            ProcessEnvironment.emitError(
                "note: the scenario's \(processFaults.count) process fault(s) need separate processes; `meshwork run` skips them")
        }
        let start = ContinuousClock.now
        let context: ZeroMQContext
        let forwarder: ZeroMQForwarder
        do {
            context = try ZeroMQContext()
            forwarder = try ZeroMQForwarder(binding: try MeshEndpoint("inproc://meshwork-\(run.id)"), context: context, logger: logger)
        } catch {
            throw RuntimeError(.transport, "cannot start the in-process mesh: \(error)")
        }
        let store = try RunStore.openForCoordinator(run: run, scenario: scenario, resume: false)
        defer { try? store.close() }
        let journal = SQLiteJournal(store)
        try journal.appendPhysical([PhysicalEvent(
            kind: "coordinator-started", agent: "coordinator",
            detail: "pid=\(ProcessEnvironment.pid) host=\(ProcessEnvironment.hostName) resume=false", at: .zero)])
        let artifacts: ArtifactBlobStore
        do {
            artifacts = ArtifactBlobStore(try ArtifactStore(runDirectory: run.path))
        } catch {
            throw RuntimeError(.runDirectory, "\(run.path): cannot open the artifact store: \(error)")
        }
        let consumer = Consumer(
            scenario: scenario, context: context, endpoint: forwarder.endpoint, journal: journal, runID: run.id,
            artifacts: artifacts, showProgress: showProgress, logger: logger)
        let outcome: Outcome
        do {
            outcome = try await scenario.withWorkflow(consumer)
        } catch {
            await forwarder.stop()
            await context.terminate()
            throw error
        }
        await forwarder.stop()
        await context.terminate()
        try store.finish(digest: outcome.report.digest)
        let wall = ContinuousClock.now - start
        return try RunSummary.make(
            scenario: scenario, report: outcome.report, store: store, restarts: 0,
            wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18,
            workflowSeconds: outcome.workflowSeconds, run: run, mode: "in-process")
    }

    struct Outcome {
        var report: RunReport
        var workflowSeconds: Double
    }

    private struct Consumer: WorkflowConsumer {
        let scenario: Scenario
        let context: ZeroMQContext
        let endpoint: MeshEndpoint
        let journal: SQLiteJournal
        let runID: String
        /// The run's artifacts: served by the coordinator and, in one process, every agent's cache too.
        let artifacts: ArtifactBlobStore
        let showProgress: Bool
        let logger: Logger

        func consume<W: Workflow>(_ workflow: W) async throws -> Outcome {
            let clock = SystemClock()
            let incarnation = ProcessEnvironment.newIncarnation()
            var configuration = CoordinatorConfiguration(
                runID: self.runID, incarnation: incarnation, pid: ProcessEnvironment.pid, host: ProcessEnvironment.hostName,
                expectedAgents: self.scenario.agentIDs.map(\.id))
            configuration.wallClockPacing = self.scenario.clock == .wall
            let stopwatch = Stopwatch()
            let zeroMQ = try ZeroMQTransport(
                connectingTo: self.endpoint, context: self.context, options: .init(name: "coordinator"), logger: self.logger)
            // Network faults apply in one process too: they sit between the coordinator and the mesh.
            let networkFaults = NetworkFaults(self.scenario.faults, seed: self.scenario.seed)
            let faulty = networkFaults.isEmpty ? nil : FaultyTransport(wrapping: zeroMQ, faults: networkFaults)
            let coordinator = Coordinator(
                configuration: configuration, workflow: workflow, transport: faulty ?? zeroMQ,
                journal: self.journal, clock: clock, logger: self.logger, blobStore: self.artifacts,
                onProgress: { progress in if progress.started { stopwatch.start() } })
            var agents: [Agent] = []
            for (id, role) in self.scenario.agentIDs {
                let transport = try ZeroMQTransport(
                    connectingTo: self.endpoint, context: self.context, options: .init(name: id.rawValue), logger: self.logger)
                let late = LateBoundAgent()
                let (worker, services) = try await AgentProcess.makeWorker(
                    for: role, logger: self.logger, resolveBlob: late.resolver())
                let agent = Agent(
                    configuration: AgentConfiguration(
                        id: id, role: role, incarnation: incarnation, pid: ProcessEnvironment.pid, host: ProcessEnvironment.hostName,
                        services: services),
                    transport: transport, worker: worker, clock: clock, logger: self.logger, blobStore: self.artifacts)
                late.bind(agent)
                agents.append(agent)
            }
            let expected = self.scenario.expectedHandoffs
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in agents { group.addTask { try await agent.run() } }
                group.addTask {
                    let interactive = isatty(STDERR_FILENO) != 0
                    while !(await coordinator.isFinished) {
                        try? await Task.sleep(for: interactive ? .milliseconds(250) : .seconds(1))
                        let progress = await coordinator.progress
                        guard self.showProgress else { continue }
                        let line = ProgressLine.format(
                            scenario: self.scenario.name, progress: progress, expected: expected, processes: 1, restarts: 0)
                        if interactive {
                            ProcessEnvironment.emitErrorFragment("\r\u{1B}[2K" + line)
                        } else {
                            ProcessEnvironment.emitError(line)
                        }
                    }
                    if self.showProgress, interactive { ProcessEnvironment.emitErrorFragment("\r\u{1B}[2K") }
                }
                try await coordinator.run()
                stopwatch.stop()
                faulty?.record(in: self.journal)
                for agent in agents { await agent.stop() }
                try await group.waitForAll()
            }
            return Outcome(report: await coordinator.report, workflowSeconds: stopwatch.seconds)
        }
    }
}

/// When the workflow started and ended, for the hand-offs-per-second figure.
final class Stopwatch: Sendable {
    private let times = Mutex<(start: ContinuousClock.Instant?, end: ContinuousClock.Instant?)>((nil, nil))

    /// Marks the start (the first call wins).
    func start() { self.times.withLock { if $0.start == nil { $0.start = .now } } }
    /// Marks the end.
    func stop() { self.times.withLock { $0.end = .now } }

    /// Seconds from start to end (0 when either is missing).
    var seconds: Double {
        self.times.withLock { times in
            guard let start = times.start, let end = times.end else { return 0 }
            let elapsed = end - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
    }
}
