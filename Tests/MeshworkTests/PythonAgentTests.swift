import Foundation
import MeshCore
import MeshProcessTesting
import MeshRuntime
import MeshStore
import Synchronization
import Testing

/// A program in another language joins a live mesh from docs/WIRE.md alone:
/// `examples/python-agent/meshwork_agent.py` (Python, pyzmq) joins a `meshwork up` relay run as
/// an extra monitoring agent, is admitted, bids, takes awards and returns results, and the run
/// still gives the reference digest (who does a task is physical, never journaled).
@Suite("A Python agent joins a live mesh", .serialized)
struct PythonAgentTests {
    static let requirement: Comment = "needs python3 with pyzmq (`make test-deps` installs pyzmq from PyPI)"

    @Test(.enabled(requirement) { await PythonAgent.isAvailable() })
    func aPythonAgentTakesAwardsInARelayRunAndTheDigestHolds() async throws {
        let counts = try await Self.runRelayWithPythonAgent(name: "python", tokens: 1_500)
        #expect(counts["joins"] as? Int ?? 0 >= 1, "a loaded machine can make it rejoin")
    }

    /// The coordinator is killed twice mid-run and resumes from its journal: the Python agent
    /// hears the newer coordinator incarnation, rejoins as a new incarnation of its own, sends
    /// again the results not yet acknowledged, and the digest still holds.
    @Test(.enabled(requirement) { await PythonAgent.isAvailable() })
    func aPythonAgentRejoinsARestartedCoordinatorAndTheDigestHolds() async throws {
        let counts = try await Self.runRelayWithPythonAgent(
            name: "python-headless", tokens: 4_000,
            extra: "faults:\n  - { kill: coordinator, start: 0.3, every: 1.5, times: 2 }\n", restarts: 2)
        #expect(counts["joins"] as? Int ?? 0 >= 2, "\(counts)")
    }

    /// Starts the Python agent as `monitoring-9`, runs `meshwork up` on a relay scenario with
    /// `--endpoint`, checks the run and what the agent did, and returns the agent's counts.
    static func runRelayWithPythonAgent(
        name: String, tokens: Int, extra: String = "", restarts: Int = 0
    ) async throws -> [String: Any] {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            ProcessMeshTests.relayScenario(name: name, tokens: tokens, extra: extra), named: name + ".yaml", in: directory)
        let endpoint = "ipc://\(directory)/mesh"
        // Started first: it says hello until the forwarder exists and the coordinator welcomes it.
        let python = try PythonAgent.start(
            ["--endpoint", endpoint, "--id", "monitoring-9", "--role", "monitoring", "--join-timeout", "120",
             "--max-seconds", "300"])
        defer { python.kill() }

        let up = try await MeshworkBinary.run(["up", scenario, "--json", "--quiet", "--endpoint", endpoint], in: directory)
        if up.status != 0 { python.kill() }
        let agent = await python.finish()
        #expect(up.status == 0, "stderr: \(up.stderr)")
        let json = try #require(up.json, "stdout: \(up.stdout)")
        #expect(json["lost"] as? Int == 0)
        #expect(json["applied_twice"] as? Int == 0)
        #expect(json["mismatched"] as? Int == 0)
        #expect(json["restarts"] as? Int == restarts)
        #expect(json["handoffs"] as? Int == tokens * 6)
        #expect(json["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: tokens))

        // The Python agent left on the coordinator's shutdown (0) — or, when a loaded machine made
        // it rejoin just as the run ended and it missed that one broadcast, gave up waiting for a
        // welcome (3); either way it says what it did.
        #expect(agent.status == 0 || agent.status == 3, "python stderr: \(agent.stderr)")
        let counts = try #require(agent.json, "python stdout: \(agent.stdout) stderr: \(agent.stderr)")
        #expect(counts["rejected"] as? Int == 0)
        let results = counts["results"] as? Int ?? 0
        #expect(results >= 1, "\(counts)")
        #expect(counts["awards"] as? Int ?? 0 >= results, "\(counts)")

        // The coordinator saw the same: it admitted monitoring-9 and committed results it returned.
        let store = try RunStore.openReadOnly(at: directory + "/" + (json["run_dir"] as? String ?? ""))
        defer { try? store.close() }
        let joined = try store.physicalEvents(kind: "joined").filter { $0.agent.hasPrefix("monitoring-9#") }
        #expect(!joined.isEmpty)
        #expect(joined.allSatisfy { $0.detail.contains("role=monitoring") }, "\(joined)")
        let committed = try store.physicalEvents(kind: "result").filter { $0.agent.hasPrefix("monitoring-9#") }
        #expect(!committed.isEmpty)
        #expect(committed.count <= results, "committed \(committed.count), the agent returned \(results)")
        #expect(committed.allSatisfy { $0.task.hasPrefix("relay/") && $0.task.hasSuffix("/4") }, "monitoring is stage 4")
        return counts
    }

    /// The same over tcp with CURVE: `meshwork up --endpoint tcp://127.0.0.1:0` makes the keys and
    /// the roster; once the mesh runs, the test adds monitoring-9's public key to the roster and
    /// sends SIGHUP to the coordinator (key rotation's path), then starts the Python agent with its
    /// secret key and the coordinator's public key. It is admitted, takes awards and returns
    /// results, and the digest holds; a second Python agent whose key is not in the roster gets
    /// nothing in (no welcome: it gives up, status 3) and the coordinator logs its key as refused.
    @Test(.enabled(requirement) { await PythonAgent.isAvailable() })
    func aPythonAgentJoinsATcpMeshWithCurveKeys() async throws {
        let tokens = 3_000
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            ProcessMeshTests.relayScenario(name: "python-tcp", tokens: tokens), named: "python-tcp.yaml", in: directory)
        let runs = directory + "/runs"
        let keys = directory + "/keys"
        let member = try MeshKeys.generate(id: AgentID("monitoring-9")!, role: .monitoring, directory: keys)
        let stranger = try MeshKeys.generate(id: AgentID("monitoring-8")!, role: .monitoring, directory: keys)
        let agents = Mutex<[PythonAgent]>([])
        defer { for agent in agents.withLock({ $0 }) { agent.kill() } }

        let up = try await MeshworkBinary.run(
            ["up", scenario, "--endpoint", "tcp://127.0.0.1:0", "--json", "--quiet", "--runs", runs], in: directory,
            timeout: .seconds(600)
        ) { _ in
            do {
                let run = try await KeyRotationTests.waitFor("the run directory") {
                    (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first.map { runs + "/" + $0 }
                }
                let coordinator = try await KeyRotationTests.waitFor("the coordinator's start") { KeyRotationTests.coordinator(in: run) }
                let roster = run + "/keys/roster.yaml"
                var entries = try MeshKeys.readRosterEntries(path: roster)
                entries.append(.init(id: member.id, role: .monitoring, keys: [member.publicKey]))
                try MeshKeys.writeRoster(entries, to: roster)
                kill(coordinator.pid, SIGHUP)
                _ = try await KeyRotationTests.waitFor("the coordinator to read the roster again") {
                    KeyRotationTests.log("coordinator", of: run).contains("SIGHUP: keys and roster read again") ? true : nil
                }
                let common = ["--endpoint", coordinator.endpoint, "--role", "monitoring", "--server-key", run + "/keys/coordinator.pub"]
                let admitted = try PythonAgent.start(
                    common + ["--id", "monitoring-9", "--secret-key", keys + "/monitoring-9.key", "--join-timeout", "120", "--max-seconds", "300"])
                let refused = try PythonAgent.start(
                    common + ["--id", "monitoring-8", "--secret-key", keys + "/monitoring-8.key", "--join-timeout", "5"])
                agents.withLock { $0 = [admitted, refused] }
            } catch {
                Issue.record("the Python agents did not start: \(error)")
            }
        }
        let started = agents.withLock { $0 }
        try #require(started.count == 2, "stderr: \(up.stderr)")
        if up.status != 0 { started[0].kill() }
        let agent = await started[0].finish()
        let outsider = await started[1].finish()
        #expect(up.status == 0, "stderr: \(up.stderr)")
        let json = try #require(up.json, "stdout: \(up.stdout)")
        #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0 && json["mismatched"] as? Int == 0)
        #expect(json["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: tokens))

        #expect(agent.status == 0 || agent.status == 3, "python stderr: \(agent.stderr)")
        let counts = try #require(agent.json, "python stdout: \(agent.stdout) stderr: \(agent.stderr)")
        #expect(counts["rejected"] as? Int == 0)
        #expect(counts["results"] as? Int ?? 0 >= 1, "\(counts)")
        let run = runs + "/" + ((json["run_dir"] as? String ?? "") as NSString).lastPathComponent
        let store = try RunStore.openReadOnly(at: run)
        defer { try? store.close() }
        let committed = try store.physicalEvents(kind: "result").filter { $0.agent.hasPrefix("monitoring-9#") }
        #expect(!committed.isEmpty, "the coordinator committed no result of the Python agent")

        // The outsider: no welcome (it gives up with status 3), nothing of it joined, its key refused.
        #expect(outsider.status == 3, "stderr: \(outsider.stderr)")
        #expect((outsider.json?["joins"] as? Int) == 0, "stdout: \(outsider.stdout)")
        #expect(try store.physicalEvents(kind: "joined").allSatisfy { !$0.agent.hasPrefix("monitoring-8#") })
        let log = KeyRotationTests.log("coordinator", of: run)
        #expect(log.split(separator: "\n").contains { $0.contains("refused a connection") && $0.contains(stranger.publicKey) })
    }

    /// Bad input: a tcp mesh (which needs CURVE keys) is refused with the reason, and with nobody
    /// to welcome it the agent gives up after its join timeout with status 3.
    @Test(.enabled(requirement) { await PythonAgent.isAvailable() })
    func thePythonAgentRefusesTcpAndGivesUpWithoutAWelcome() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let tcp = try PythonAgent.start(["--endpoint", "tcp://127.0.0.1:5555"])
        defer { tcp.kill() }
        let refused = await tcp.finish()
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("CURVE"), "stderr: \(refused.stderr)")

        let badID = try PythonAgent.start(["--endpoint", "ipc://\(directory)/mesh", "--id", "no spaces"])
        defer { badID.kill() }
        let invalid = await badID.finish()
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("--id"), "stderr: \(invalid.stderr)")

        let lonely = try PythonAgent.start(["--endpoint", "ipc://\(directory)/nobody", "--join-timeout", "1"])
        defer { lonely.kill() }
        let gaveUp = await lonely.finish()
        #expect(gaveUp.status == 3, "stderr: \(gaveUp.stderr)")
        let counts = try #require(gaveUp.json, "stdout: \(gaveUp.stdout)")
        #expect(counts["joins"] as? Int == 0)
        #expect(counts["hellos"] as? Int ?? 0 >= 2, "it repeats hello until its timeout")
    }
}

/// The example Python agent as a child process: started with pipes read on threads of their
/// own, killed by pid if it outlives its timeout or the test.
final class PythonAgent: @unchecked Sendable {
    // Sendable so a test can start it inside a `whileRunning` closure: its state is the child
    // process and two pipe readers, each used from one task at a time.
    static var script: String { ProcessMeshTests.repositoryRoot + "/examples/python-agent/meshwork_agent.py" }

    private let process: Process
    private let stdout: PipeReader
    private let stderr: PipeReader
    private let watchdog: Watchdog

    private init(process: Process, stdout: PipeReader, stderr: PipeReader, watchdog: Watchdog) {
        self.process = process
        self.stdout = stdout
        self.stderr = stderr
        self.watchdog = watchdog
    }

    /// Whether `python3` runs and imports `zmq`; checked on a thread of its own.
    static func isAvailable() async -> Bool {
        await withCheckedContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", "-c", "import zmq"]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                do {
                    try process.run()
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationStatus == 0)
                } catch {
                    continuation.resume(returning: false)
                }
            }.start()
        }
    }

    /// Starts `python3 meshwork_agent.py arguments…`.
    static func start(_ arguments: [String], timeout: Duration = .seconds(300)) throws -> PythonAgent {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", self.script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return PythonAgent(
            process: process, stdout: PipeReader(out.fileHandleForReading), stderr: PipeReader(err.fileHandleForReading),
            watchdog: Watchdog(pid: process.processIdentifier, timeout: timeout))
    }

    /// Waits for the agent to exit (its pipes close first, so the final wait is immediate).
    func finish() async -> MeshworkBinary.Result {
        let out = await self.stdout.data()
        let err = await self.stderr.data()
        self.process.waitUntilExit()
        self.watchdog.cancel()
        if self.watchdog.fired { Issue.record("the Python agent timed out and was killed") }
        return MeshworkBinary.Result(
            status: self.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    /// Kills the agent by pid if it is still running.
    func kill() {
        guard self.process.isRunning else { return }
        Foundation.kill(self.process.processIdentifier, SIGKILL)
    }
}
