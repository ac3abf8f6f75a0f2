import Foundation
import Synchronization
public import Logging
public import MeshAgents
public import MeshCore
import MeshStore
public import MeshZeroMQ
import ServiceLifecycle
import UnixSignals

/// Runs the coordinator and the mesh's forwarder as this process: `meshwork coordinator`.
///
/// It speaks to a supervisor through stdout lines (docs/ARCHITECTURE.md, "Processes"):
/// `READY <endpoint>` once the forwarder is bound (before the run's store is opened),
/// `PROGRESS <json>` periodically, and
/// `REPORT <json>` when the workflow has finished.
public enum CoordinatorProcess {
    /// Binds `bind`, coordinates `scenario` into `run`, and returns the report once the workflow finished.
    ///
    /// With `resume`, the run's journal is read back and the workflow goes on where it stopped
    /// (a restarted coordinator); agents still running rejoin by themselves.
    public static func run(
        scenario: Scenario,
        bind: String,
        run: RunDirectory,
        resume: Bool = false,
        hold: Bool = false,
        security: CoordinatorSecurity? = nil,
        logger: Logger
    ) async throws -> RunReport {
        ProcessEnvironment.prepareChildProcess()
        let forwarder: ZeroMQForwarder
        let transport: ZeroMQTransport
        do {
            var forwarderOptions = ZeroMQForwarder.Options()
            var transportOptions = ZeroMQTransport.Options(name: "coordinator")
            if let security {
                forwarderOptions.security = security.forwarder
                transportOptions.security = try security.transport()
            }
            forwarder = try ZeroMQForwarder(binding: try MeshEndpoint(bind), options: forwarderOptions, logger: logger)
            transport = try ZeroMQTransport(connectingTo: forwarder.endpoint, options: transportOptions, logger: logger)
            // Subscribed before READY: the hellos of agents started on it wait in the transport
            // until the coordinator runs, instead of being dropped by the forwarder (no subscriber
            // yet) and repeated after a backoff.
            try transport.subscribe(.agent(.coordinator))
        } catch {
            throw RuntimeError(.transport, "cannot bind the mesh at \(bind): \(error)")
        }
        // READY as soon as the mesh is bound: the agents load and connect while the run's store
        // opens (its migrations took a quarter of a second of a loaded machine's start-up).
        ProcessEnvironment.emitLine("READY \(forwarder.endpoint)")
        let store = try RunStore.openForCoordinator(run: run, scenario: scenario, resume: resume)
        let artifacts: ArtifactBlobStore
        do {
            artifacts = ArtifactBlobStore(try ArtifactStore(runDirectory: run.path))
        } catch {
            throw RuntimeError(.runDirectory, "\(run.path): cannot open the artifact store: \(error)")
        }
        defer { try? store.close() }
        let reloading = security.map { security in
            Task { await Self.reloadOnHangup(security, forwarder: forwarder, transport: transport, logger: logger) }
        }
        defer { reloading?.cancel() }
        let journal = SQLiteJournal(store)
        let recorded = resume ? try store.readJournal().entries : []
        let awards = resume ? try store.highestAwards() : [:]
        try journal.appendPhysical([PhysicalEvent(
            kind: "coordinator-started", agent: "coordinator", detail: "pid=\(ProcessEnvironment.pid) host=\(ProcessEnvironment.hostName) resume=\(resume) endpoint=\(forwarder.endpoint)",
            at: .zero)])
        // With `hold`, the report goes out when the workflow finishes and the mesh stays up until
        // SIGTERM; without, once the coordinator has stopped.
        let reported = Mutex(false)
        let announce: @Sendable (RunReport) -> Void = { report in
            let first = reported.withLock { done in
                defer { done = true }
                return !done
            }
            guard first else { return }
            try? store.finish(digest: report.digest)
            if let line = try? ReportCodec.encode(report) { ProcessEnvironment.emitLine("REPORT " + line) }
        }
        let ignore: @Sendable (RunReport) -> Void = { _ in }
        // The scenario's network faults sit between the coordinator and the mesh.
        let networkFaults = NetworkFaults(scenario.faults, seed: scenario.seed)
        let faulty = networkFaults.isEmpty ? nil : FaultyTransport(wrapping: transport, faults: networkFaults)
        let consumer = Consumer(
            scenario: scenario, transport: faulty ?? transport, journal: journal, runID: run.id, recorded: recorded,
            awards: awards, hold: hold, artifacts: artifacts, onFinished: hold ? announce : ignore, logger: logger)
        let report = try await scenario.withWorkflow(consumer)
        faulty?.record(in: journal)
        // The report first: the forwarder's linger can take seconds, and a supervisor that has the
        // report knows the run is over even if this process dies while lingering.
        try store.finish(digest: report.digest)
        announce(report)
        await forwarder.stop()
        return report
    }

    /// On each SIGHUP, reads the coordinator's key file and roster again and hands them to the
    /// forwarder (key rotation, docs/MULTI-HOST.md): added keys are admitted, the connections of
    /// revoked ones dropped. A file that does not read keeps the keys in force, and says why.
    static func reloadOnHangup(
        _ initial: CoordinatorSecurity, forwarder: ZeroMQForwarder, transport: ZeroMQTransport, logger: Logger
    ) async {
        guard let paths = initial.paths else { return }
        var current = initial
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            do {
                let next = try CoordinatorSecurity(secretKey: paths.secretKey, roster: paths.roster)
                try await forwarder.update(security: next.forwarder)
                if next.identity.keyPair != current.identity.keyPair {
                    // Its own connection authenticates with the server key pair: connect again with the new one.
                    try transport.rekey(try next.transport())
                }
                logger.notice(
                    "SIGHUP: keys and roster read again",
                    metadata: ["mesh.roster": "\(next.roster.count)", "mesh.key": "\(next.identity.publicKey)"])
                current = next
            } catch {
                logger.error("SIGHUP: keeping the keys in force: \(error)")
            }
        }
    }

    private struct Consumer: WorkflowConsumer {
        let scenario: Scenario
        let transport: any MeshTransport
        let journal: SQLiteJournal
        let runID: String
        let recorded: [JournalEntry]
        let awards: [TaskID: UInt64]
        let hold: Bool
        let artifacts: ArtifactBlobStore
        let onFinished: @Sendable (RunReport) -> Void
        let logger: Logger

        func consume<W: Workflow>(_ workflow: W) async throws -> RunReport {
            var restored: RestoredOrchestrator<W>?
            if !self.recorded.isEmpty {
                do {
                    restored = try Orchestrator.restore(workflow, from: self.recorded)
                } catch {
                    throw RuntimeError(.journal, "cannot resume from the journal: \(error)")
                }
            }
            var configuration = CoordinatorConfiguration(
                runID: self.runID, incarnation: ProcessEnvironment.newIncarnation(), pid: ProcessEnvironment.pid,
                host: ProcessEnvironment.hostName, expectedAgents: self.scenario.agentIDs.map(\.id))
            configuration.holdAfterFinish = self.hold
            configuration.wallClockPacing = self.scenario.clock == .wall
            let coordinator = Coordinator(
                configuration: configuration, workflow: workflow, transport: self.transport, journal: self.journal,
                clock: SystemClock(), logger: self.logger, restored: restored, awardFloor: self.awards,
                blobStore: self.artifacts,
                onProgress: { progress in
                    if let line = try? ReportCodec.encode(progress) { ProcessEnvironment.emitLine("PROGRESS " + line) }
                },
                onFinished: self.onFinished)
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [.init(service: coordinator, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "coordinator")],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.logger))
            try await group.run()
            return await coordinator.report
        }
    }
}

/// The coordinator's CURVE identity and the roster of agents its forwarder admits (tcp).
public struct CoordinatorSecurity: Sendable {
    /// The coordinator's key file (its public key is the agents' `--server-key`).
    public var identity: MeshKeys.Identity
    /// Public key → agent.
    public var roster: [String: ForwarderSecurity.Peer]

    /// The files it was read from: SIGHUP reads them again.
    var paths: (secretKey: String, roster: String)?

    public init(identity: MeshKeys.Identity, roster: [String: ForwarderSecurity.Peer]) {
        self.identity = identity
        self.roster = roster
    }

    /// Reads the coordinator's secret key file and the roster.
    public init(secretKey: String, roster: String) throws(RuntimeError) {
        self.identity = try MeshKeys.readSecret(path: secretKey)
        self.roster = try MeshKeys.readRoster(path: roster)
        self.paths = (secretKey, roster)
    }

    /// The forwarder's keys and roster: the coordinator's own connection authenticates with the
    /// server's key pair, as `coordinator`.
    var forwarder: ForwarderSecurity {
        var roster = self.roster
        roster[self.identity.keyPair.publicKey] = .init(id: .coordinator, role: .coordinator)
        return ForwarderSecurity(keyPair: self.identity.keyPair, roster: roster)
    }

    /// The coordinator's own connection: its key pair, and the same pair's public key as server key.
    func transport() throws(TransportError) -> TransportSecurity {
        try TransportSecurity(keyPair: self.identity.keyPair, serverKey: self.identity.keyPair.publicKey)
    }
}

/// JSON for the lines between coordinator and supervisor.
enum ReportCodec {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: some StringProtocol) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
