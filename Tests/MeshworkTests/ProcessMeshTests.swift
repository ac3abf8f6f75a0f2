import Foundation
import MeshProcessTesting
import MeshCore
import MeshServer
import MeshStore
import Synchronization
import Testing

/// Layer 4: the mesh as a user runs it, through the built binary.
@Suite("meshwork up / run as processes", .serialized)
struct ProcessMeshTests {
    static func relayScenario(name: String, tokens: Int, extra: String = "") -> String {
        """
        name: \(name)
        seed: 7
        workflow:
          relay: { tokens: \(tokens), interarrival_us: 100, duration_us: [1000, 5000] }
        \(extra)
        """
    }

    static func referenceDigest(tokens: Int) -> String {
        Orchestrator.runLocally(RelayWorkflow(tokens: tokens, seed: 7, interarrival: 100, durationRange: 1_000...5_000)) { spec in
            .done(RelayWork.output(input: spec.input, task: spec.id))
        }.digest.text
    }

    @Test func upRunsEveryAgentAsAProcessAndMatchesTheReference() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(Self.relayScenario(name: "small", tokens: 300), named: "small.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--json"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        #expect(json["lost"] as? Int == 0)
        #expect(json["applied_twice"] as? Int == 0)
        #expect(json["handoffs"] as? Int == 1_800)
        #expect((json["processes"] as? Int ?? 0) >= 8)
        #expect(json["digest"] as? String == Self.referenceDigest(tokens: 300))
        let runDirectory = directory + "/" + (json["run_dir"] as? String ?? "")
        #expect(FileManager.default.fileExists(atPath: runDirectory + "/mesh.sqlite"))
        #expect(FileManager.default.fileExists(atPath: runDirectory + "/summary.json"))
        for pid in MeshworkBinary.joinedPIDs(runDirectory: runDirectory) {
            #expect(!MeshworkBinary.isAlive(pid), "agent process \(pid) outlived the run")
        }

        let inProcess = try await MeshworkBinary.run(["run", scenario, "--json"], in: directory)
        #expect(inProcess.status == 0, "stderr: \(inProcess.stderr)")
        #expect(inProcess.json?["digest"] as? String == json["digest"] as? String)
        #expect(inProcess.json?["processes"] as? Int == 1)
    }

    @Test func killingAgentsMidRunLosesNothingAndKeepsTheDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let faults = """
            faults:
              - { kill: any-agent, start: 0.05, every: 0.4 }
            supervisor: { max_restarts: 50, within_seconds: 10 }
            """
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "killed", tokens: 1_500, extra: faults), named: "killed.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--json", "--quiet"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        #expect(json["lost"] as? Int == 0)
        #expect(json["applied_twice"] as? Int == 0)
        #expect(json["mismatched"] as? Int == 0)
        #expect((json["restarts"] as? Int ?? 0) >= 1)
        #expect(json["digest"] as? String == Self.referenceDigest(tokens: 1_500))
    }

    /// The network faults a scenario scripts — loss, duplication, delay with reordering, a cut
    /// of one agent, a slow joiner — change the physical journal, never the logical one: `up`
    /// and `run` print the digest of the fault-free workflow, and the physical journal counts
    /// what each fault did.
    @Test func scriptedNetworkFaultsKeepTheDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let faults = """
            agents: { data: 2 }
            faults:
              - { drop: any, rate: 0.1, for: 2 }
              - { duplicate: model, rate: 0.3, kinds: [result, award, bid] }
              - { delay: data, ms: 20, jitter_ms: 20, rate: 0.5 }
              - { cut: pipeline, start: 0.3, for: 1 }
              - { slow_join: monitoring-1, for: 0.5 }
            """
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "lossy", tokens: 1_000, extra: faults), named: "lossy.yaml", in: directory)
        for command in ["up", "run"] {
            let result = try await MeshworkBinary.run([command, scenario, "--json", "--quiet"], in: directory)
            #expect(result.status == 0, "\(command) stderr: \(result.stderr)")
            let json = try #require(result.json, "\(command) stdout: \(result.stdout)")
            #expect(json["lost"] as? Int == 0, "\(command)")
            #expect(json["applied_twice"] as? Int == 0, "\(command)")
            #expect(json["digest"] as? String == Self.referenceDigest(tokens: 1_000), "\(command)")
            let store = try RunStore.openReadOnly(at: directory + "/" + (json["run_dir"] as? String ?? ""))
            defer { try? store.close() }
            let events = try store.physicalEvents(kind: "network-fault").map(\.detail)
            #expect(events.count == 4, "\(command): one line per network fault: \(events)")
            #expect(events.contains { $0.hasPrefix("duplicate model:") && !$0.contains("duplicated=0 ") }, "\(command): \(events)")
            #expect(events.contains { $0.hasPrefix("delay data:") && !$0.hasSuffix("delayed=0") }, "\(command): \(events)")
            // What the reliable streams did about it, per agent incarnation.
            let links = try store.physicalEvents(kind: "link")
            let linked: Set<String> = Set(links.map { String($0.agent.prefix { $0 != "#" }) })
            #expect(linked.count == 8, "\(command): \(links)")
            #expect(links.allSatisfy { $0.detail.contains("retransmitted=") }, "\(command)")
        }
    }

    @Test func aKilledCoordinatorResumesFromTheJournalWithTheSameDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let faults = """
            faults:
              - { kill: coordinator, start: 0.3, every: 1.5, times: 2 }
            """
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "headless", tokens: 2_000, extra: faults), named: "headless.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--json", "--quiet"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        #expect(json["lost"] as? Int == 0)
        #expect(json["applied_twice"] as? Int == 0)
        #expect(json["restarts"] as? Int == 2)
        #expect(json["digest"] as? String == Self.referenceDigest(tokens: 2_000))
        let store = try RunStore.openReadOnly(at: directory + "/" + (json["run_dir"] as? String ?? ""))
        defer { try? store.close() }
        // A coordinator records its start once it has opened the store. On a loaded machine a
        // kill (0.3 s in, then 1.5 s later) can come before the process got that far, so of the
        // three coordinators one to three starts are recorded; the last is always a resumed one.
        let starts = try store.physicalEvents(kind: "coordinator-started").map(\.detail)
        #expect((1...3).contains(starts.count), "\(starts)")
        #expect(starts.last?.contains("resume=true") == true, "\(starts)")
    }

    @Test func upResumeFinishesARunWhoseWholeMeshWasKilled() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "orphan", tokens: 3_000), named: "orphan.yaml", in: directory)
        let killed = try await MeshworkBinary.run(["up", scenario, "--quiet"], in: directory) { pid in
            // Once a few thousand records are journaled, SIGKILL the supervisor and every process it started.
            for _ in 0..<1_200 {
                let runs = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/runs")) ?? []
                if let run = runs.first, MeshworkBinary.journaledRecords(runDirectory: directory + "/runs/" + run) > 4_000 { break }
                try? await Task.sleep(for: .milliseconds(25))
            }
            kill(pid, SIGKILL)
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/runs")) ?? []
            for run in runs {
                for child in MeshworkBinary.startedPIDs(runDirectory: directory + "/runs/" + run) { kill(child, SIGKILL) }
            }
        }
        #expect(killed.status != 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: directory + "/runs").first)
        let resumed = try await MeshworkBinary.run(["up", "--resume", "runs/" + run, "--json", "--quiet"], in: directory)
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let json = try #require(resumed.json, "stdout: \(resumed.stdout)")
        #expect(json["lost"] as? Int == 0)
        #expect(json["applied_twice"] as? Int == 0)
        #expect(json["digest"] as? String == Self.referenceDigest(tokens: 3_000))
    }

    /// The repository's root (agents/ and scenarios/data/ are read relative to it).
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The whole loop across processes, small: intake to a registered model, quantized,
    /// deployed and tested over HTTP, promoted, watched for 8 simulated hours, drifted at hour 2,
    /// alerted, retrained and promoted again, with two agents for several roles (a version may be
    /// deployed on either pipeline agent); `run` (one process) and `replay` give the same digest.
    @Test func theLifecycleRunsAcrossProcessesFromIntakeToARetrainedModelInProduction() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Nobody listens at the webhook: delivery fails, the run does not. `run` (one process)
        // must agree with two agents for several roles.
        let scenario = try MeshworkBinary.writeScenario(
            TestScenarios.smallLifecycle(
                monitoring: ["webhook: http://127.0.0.1:9/alerts"], agents: "{ data: 2, pipeline: 2, monitoring: 2, compute: 2 }"),
            named: "lifecycle.yaml", in: directory)
        let runs = directory + "/runs"
        let up = try await MeshworkBinary.run(["up", scenario, "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot)
        #expect(up.status == 0, "stderr: \(up.stderr)")
        let json = try #require(up.json, "stdout: \(up.stdout)")
        #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0 && json["failed_tasks"] as? Int == 0)
        #expect((json["processes"] as? Int ?? 0) >= 9)
        let outcome = try #require((json["use_cases"] as? [[String: Any]])?.first)
        #expect(outcome["state"] as? String == "accepted")
        #expect(outcome["model"] as? String == "digits-classifier@v2", "\(outcome)")
        #expect(outcome["deployments"] as? Int == 2 && outcome["promotions"] as? Int == 2)
        #expect((outcome["alerts"] as? Int ?? 0) >= 1 && outcome["retrains"] as? Int == 1)
        let before = try #require(outcome["accuracy_before_drift"] as? Double)
        let drifted = try #require(outcome["accuracy_on_drift_before_retrain"] as? Double)
        let after = try #require(outcome["accuracy_on_drift_after_retrain"] as? Double)
        #expect(before > drifted && after > drifted, "\(before) \(drifted) \(after)")
        // The registries follow the journal: aliases, alert, stream metrics, telemetry.
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let store = try RunStore.openReadOnly(at: runs + "/" + run)
        #expect(try store.alias("production", of: "digits-classifier") == 2)
        #expect(try store.aliasHistory(of: "digits-classifier").count == 4)
        #expect(try store.alerts().contains { $0.rule == "DataDrift" })
        #expect(try store.metrics("stream_held_out_accuracy").count == 8)
        #expect(try store.readJournal().entries.contains { $0.record.kind == "alert.notified" && $0.record.field("status") == "firing" })
        let telemetry = try store.physicalEvents(kind: "telemetry")
        #expect(telemetry.contains { $0.task.hasSuffix("/serving-test") && $0.detail.contains("load.p99_ms=") })
        #expect(telemetry.contains { $0.task.contains("/window/") && $0.detail.contains("window.inference=http://") })
        let inProcess = try await MeshworkBinary.run(["run", scenario, "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot)
        #expect(inProcess.status == 0, "stderr: \(inProcess.stderr)")
        #expect(inProcess.json?["digest"] as? String == json["digest"] as? String)
        // Replayed in one process against this code: no divergence.
        let replay = try await MeshworkBinary.run(["replay", runs + "/" + run, "--json"], in: Self.repositoryRoot)
        #expect(replay.status == 0, "stderr: \(replay.stderr)")
        #expect(replay.json?["digest"] as? String == json["digest"] as? String)
        #expect(replay.json?["divergence"] is NSNull, "\(replay.stdout)")
        // A what-if where no window counts as drifted: the first record it changes is a window's
        // result, and the branch never retrains.
        let whatIf = try await MeshworkBinary.run(
            ["replay", runs + "/" + run, "--json", "--set", "workflow.lifecycle.monitoring.rule.min_ks_features=64",
             "--set", "workflow.lifecycle.monitoring.rule.min_psi_features=64"],
            in: Self.repositoryRoot)
        #expect(whatIf.status == 0, "stderr: \(whatIf.stderr)")
        let divergence = try #require(whatIf.json?["divergence"] as? [String: Any], "\(whatIf.stdout)")
        let expected = try #require(divergence["expected"] as? [String: Any])
        #expect((expected["subject"] as? String)?.contains("/window/") == true, "\(expected)")
        #expect((whatIf.json?["use_cases"] as? [[String: Any]])?.first?["retrains"] as? Int == 0)
        // The same change as a branch from the promotion (the first window is dispatched when
        // it commits, so under the new rule): the journal before it is the parent's, the branch
        // is a run of its own with its parent, and replaying it agrees.
        let entries = try store.readJournal().entries
        let firstWindow = try #require(entries.firstIndex { $0.record.kind == "task.done" && $0.record.subject.hasSuffix("/promote") })
        let branch = try await MeshworkBinary.run(
            ["replay", runs + "/" + run, "--json", "--from", String(firstWindow), "--runs", runs,
             "--set", "workflow.lifecycle.monitoring.rule.min_ks_features=64",
             "--set", "workflow.lifecycle.monitoring.rule.min_psi_features=64"],
            in: Self.repositoryRoot)
        #expect(branch.status == 0, "stderr: \(branch.stderr)")
        let branched = try #require(branch.json, "\(branch.stdout)")
        #expect(branched["branch_record"] as? Int == firstWindow)
        let branchDivergence = try #require(branched["divergence"] as? [String: Any], "\(branch.stdout)")
        #expect((branchDivergence["index"] as? Int ?? 0) >= firstWindow)
        #expect((branched["use_cases"] as? [[String: Any]])?.first?["retrains"] as? Int == 0)
        let branchDirectory = try #require(branched["branch_dir"] as? String)
        let parentage = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: branchDirectory + "/parent.json"))) as? [String: Any])
        #expect(parentage["parent"] as? String == runs + "/" + run)
        let branchStore = try RunStore.openReadOnly(at: branchDirectory)
        let branchEntries = try branchStore.readJournal().entries
        try branchStore.close()
        #expect(branchEntries.prefix(firstWindow).map(\.record) == entries.prefix(firstWindow).map(\.record))
        let again = try await MeshworkBinary.run(["replay", branchDirectory, "--json"], in: Self.repositoryRoot)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.json?["divergence"] is NSNull, "\(again.stdout)")
        #expect(again.json?["digest"] as? String == branched["digest"] as? String)
        // Branching at the end changes nothing.
        let atEnd = try await MeshworkBinary.run(
            ["replay", runs + "/" + run, "--json", "--from", String(entries.count), "--runs", runs,
             "--set", "workflow.lifecycle.monitoring.rule.min_ks_features=64"],
            in: Self.repositoryRoot)
        #expect(atEnd.json?["digest"] as? String == json["digest"] as? String, "\(atEnd.stdout) \(atEnd.stderr)")
        let beyond = try await MeshworkBinary.run(
            ["replay", runs + "/" + run, "--from", String(entries.count + 1), "--runs", runs], in: Self.repositoryRoot)
        #expect(beyond.status == 2 && beyond.stderr.contains("the run has records 0 to"), "\(beyond.stderr)")
    }

    /// The pipeline agent SIGKILLed while it serves: its restart serves the deployed versions
    /// again from its state directory, and the run ends with the digest of a run without faults.
    @Test func killingThePipelineAgentWhileItServesKeepsTheDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lifecycle = """
            name: pipeline-chaos
            seed: 42
            workflow:
              lifecycle:
                use_cases: [agents/usecases/digits.yaml]
                search: { rung_epochs: [2, 4], max_models: 1 }
                serving: { load_milliseconds: 100 }
                monitoring: { hours: 24, window_rows: 40, drift: { at_hour: 8 }, retrain: { windows: 1, epochs: 3 } }
            agents: { compute: 2 }
            """
        let chaos = try MeshworkBinary.writeScenario(
            lifecycle + "\nfaults:\n  - { kill: pipeline, start: 1.5, every: 1.5, times: 3 }\n", named: "chaos.yaml", in: directory)
        let calm = try MeshworkBinary.writeScenario(lifecycle, named: "calm.yaml", in: directory)
        let runs = directory + "/runs"
        let up = try await MeshworkBinary.run(["up", chaos, "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot)
        #expect(up.status == 0, "stderr: \(up.stderr)")
        let reference = try await MeshworkBinary.run(["run", calm, "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot)
        #expect(reference.status == 0, "stderr: \(reference.stderr)")
        #expect((up.json?["restarts"] as? Int ?? 0) >= 1, "\(up.stdout)")
        #expect(up.json?["failed_tasks"] as? Int == 0)
        #expect(up.json?["digest"] as? String == reference.json?["digest"] as? String)
    }

    /// `up --hold`: after the workflow, the mesh stays up and the pipeline agent's inference API
    /// answers a client (as `curl` would) until SIGINT, which stops every process.
    @Test func holdKeepsTheInferenceAPIAnsweringUntilInterrupted() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            """
            name: hold
            seed: 42
            workflow:
              lifecycle:
                use_cases: [agents/usecases/digits.yaml]
                search: { rung_epochs: [2, 4], max_models: 1 }
                serving: { load_milliseconds: 100 }
            agents: { compute: 2 }
            """, named: "hold.yaml", in: directory)
        let runs = directory + "/runs"
        let rows = try Self.digitsRows(3)
        let answers = Mutex<[Int]?>(nil)
        let result = try await MeshworkBinary.run(
            ["up", scenario, "--hold", "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot
        ) { pid in
            defer { kill(pid, SIGINT) }
            for _ in 0..<1_200 {
                try? await Task.sleep(for: .milliseconds(100))
                // The hold begins once the workflow ended: `up` writes the summary and the report,
                // then says "the mesh is up". Production answers earlier (monitoring goes on after
                // the promotion), and a SIGINT then stops the workflow, not the hold.
                guard let run = (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first,
                    FileManager.default.fileExists(atPath: runs + "/" + run + "/report.html"),
                    let store = try? RunStore.openReadOnly(at: runs + "/" + run),
                    let joined = try? store.physicalEvents(kind: "joined"),
                    let detail = joined.first(where: { $0.detail.contains("inference=") })?.detail,
                    let url = detail.split(separator: " ").first(where: { $0.hasPrefix("inference=") })?.dropFirst(10),
                    let client = try? await InferenceClient.connect(url: String(url))
                else { continue }
                defer { client.close() }
                // Production exists once the promotion is done.
                if let labels = try? await client.labels(path: "/v2/models/digits-classifier/infer", rows: rows.features) {
                    answers.withLock { $0 = labels }
                    return
                }
            }
        }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("the mesh is up"), "stderr: \(result.stderr)")
        let labels = try #require(answers.withLock { $0 }, "the inference API never answered")
        #expect(zip(labels, rows.labels).filter { $0 == $1 }.count >= 2, "\(labels) for \(rows.labels)")
        let outcome = try #require((result.json?["use_cases"] as? [[String: Any]])?.first)
        #expect(outcome["production"] as? String == "digits-classifier@v1")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let pids = MeshworkBinary.joinedPIDs(runDirectory: runs + "/" + run)
        #expect(pids.count >= 8)
        for pid in pids { #expect(!MeshworkBinary.isAlive(pid), "process \(pid) outlived the supervisor") }
    }

    /// A live human: the gates wait for `meshwork approve` / `meshwork reject`, whose decisions
    /// (who, why) the journal keeps; an unknown gate id is a usage error naming what waits.
    @Test func aPersonDecidesTheGatesOfALiveMesh() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            """
            name: live
            seed: 42
            workflow:
              lifecycle:
                use_cases: [agents/usecases/digits.yaml]
                search: { rung_epochs: [2], max_models: 1, pretrained: false }
                human: { live: true, live_timeout_seconds: 150 }
            """, named: "live.yaml", in: directory)
        let runs = directory + "/runs"
        let decided = Mutex<[String]>([])
        let unknown = Mutex<MeshworkBinary.Result?>(nil)
        let result = try await MeshworkBinary.run(["up", scenario, "--json", "--quiet", "--runs", runs], in: Self.repositoryRoot) { _ in
            for _ in 0..<1_500 {
                try? await Task.sleep(for: .milliseconds(100))
                guard let listed = try? await MeshworkBinary.run(["gates", "--runs", runs], in: Self.repositoryRoot) else { continue }
                let ids = listed.stdout.split(separator: "\n").filter { $0.hasPrefix("uc.") }.compactMap { $0.split(separator: " ").first }
                for id in ids.map(String.init) {
                    if unknown.withLock({ $0 }) == nil {
                        let wrong = try? await MeshworkBinary.run(["approve", "uc.nope", "--runs", runs], in: Self.repositoryRoot)
                        unknown.withLock { $0 = wrong }
                    }
                    let arguments = id.hasSuffix("gate-model-acceptance")
                        ? ["reject", id, "--who", "tester", "--reason", "not yet", "--runs", runs]
                        : ["approve", id, "--who", "tester", "--reason", "go", "--runs", runs]
                    if (try? await MeshworkBinary.run(arguments, in: Self.repositoryRoot))?.status == 0 {
                        decided.withLock { $0.append(id) }
                    }
                }
                if decided.withLock({ $0.contains { $0.hasSuffix("gate-model-acceptance") } }) { return }
            }
        }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(decided.withLock { $0 } == ["uc.digits-classifier.gate-usecase-approval", "uc.digits-classifier.gate-model-acceptance"])
        let outcome = try #require((result.json?["use_cases"] as? [[String: Any]])?.first)
        #expect(outcome["state"] as? String == "rejected" && outcome["reason"] as? String == "not yet", "\(outcome)")
        let wrong = try #require(unknown.withLock { $0 })
        #expect(wrong.status == 2 && wrong.stderr.contains("no gate uc.nope is waiting"), "\(wrong.stderr)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let decisions = try RunStore.openReadOnly(at: runs + "/" + run).readJournal().entries.filter { $0.record.kind == "gate.decision" }
        #expect(decisions.map { $0.record.field("who") } == ["tester", "tester"])
    }

    /// The first `count` rows of the digits CSV, raw, with their labels.
    static func digitsRows(_ count: Int) throws -> LabeledRows {
        let text = try String(contentsOfFile: Self.repositoryRoot + "/scenarios/data/digits.csv", encoding: .utf8)
        var values: [Float] = []
        var labels: [Int] = []
        for line in text.split(separator: "\n").dropFirst().prefix(count) {
            let cells = line.split(separator: ",").map { Float(String($0))! }
            values += cells.dropLast()
            labels.append(Int(cells.last!))
        }
        return LabeledRows(features: TensorFrame(rows: count, columns: values.count / count, values: values), labels: labels)
    }

    @Test func exceedingTheRestartIntensityStopsTheMeshWithAClearMessage() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let faults = """
            faults:
              - { kill: data, start: 0.0, every: 0.2 }
            supervisor: { max_restarts: 1, within_seconds: 60 }
            """
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "crashy", tokens: 100_000, extra: faults), named: "crashy.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--quiet"], in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("restart intensity"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("data-1"))
    }

    @Test func sigtermStopsEveryProcessOfTheMesh() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            Self.relayScenario(name: "endless", tokens: 2_000_000), named: "endless.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--quiet"], in: directory) { pid in
            // Wait until agents have joined (the physical journal says so), then ask the supervisor to stop.
            for _ in 0..<600 {
                let runs = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/runs")) ?? []
                if let run = runs.first, MeshworkBinary.joinedPIDs(runDirectory: directory + "/runs/" + run).count >= 7 { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            kill(pid, SIGTERM)
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("interrupted"), "stderr: \(result.stderr)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: directory + "/runs").first)
        let pids = MeshworkBinary.joinedPIDs(runDirectory: directory + "/runs/" + run)
        #expect(pids.count >= 7)
        for pid in pids { #expect(!MeshworkBinary.isAlive(pid), "process \(pid) outlived the supervisor") }
    }
}

@Suite("Bad input at the command line")
struct BadInputTests {
    @Test(arguments: [
        ("name: x\nseed: 1\nworkflow:\n  relay: { tokens: ten }\n", "bad.yaml:4", "workflow.relay.tokens"),
        ("name: x\nseed: 1\nworkflow:\n  relay: { tokns: 5 }\n", "bad.yaml:4", "unknown field 'tokns'"),
        ("name: x\nworkflow:\n  relay: {}\n", "bad.yaml:1", "seed: missing required field"),
        ("name: x\nseed: 1\nworkflow: { relay: {} }\nagents: { dta: 2 }\n", "bad.yaml:4", "a role"),
        ("name: x\nseed: 1\nworkflow: { relay: {} }\nfaults:\n  - { kill: any-agent, for: 2 }\n", "bad.yaml:5", "faults[0]"),
        ("name: x\nseed: 1\nworkflow: { relay: {} }\nfaults:\n  - { drop: data, rate: 1.5 }\n", "bad.yaml:5", "0 < rate <= 1"),
        ("name: x\nseed: 1\nworkflow: { relay: {} }\nfaults:\n  - { cut: data }\n", "bad.yaml:5", "'for: SECONDS'"),
        ("name: x\nseed: 1\nworkflow: { relay: {} }\nfaults:\n  - { delay: data, ms: 5, kinds: [bids] }\n", "bad.yaml:5", "not 'bids'"),
        ("name: x\nseed: [1\n", "bad.yaml:", "invalid YAML"),
        ("", "bad.yaml:1", "empty"),
    ])
    func malformedScenariosGiveOneLineAndExitCode2(text: String, place: String, mention: String) async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try MeshworkBinary.writeScenario(text, named: "bad.yaml", in: directory)
        for command in ["up", "run"] {
            let result = try await MeshworkBinary.run([command, path], in: directory, timeout: .seconds(30))
            #expect(result.status == 2, "\(command): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(command): \(result.stderr)")
            #expect(result.stderr.contains(place), "\(command): \(result.stderr)")
            #expect(result.stderr.contains(mention), "\(command): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/runs"), "nothing is started for a bad scenario")
        }
    }

    @Test func aMissingScenarioFileIsNamed() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await MeshworkBinary.run(["up", "nowhere.yaml"], in: directory, timeout: .seconds(30))
        #expect(result.status == 2)
        #expect(result.stderr == "error: nowhere.yaml: no such file\n")
    }

    @Test func anAgentWithABadRoleOrEndpointSaysWhy() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let role = try await MeshworkBinary.run(["agent", "--role", "wizard", "--connect", "ipc:///tmp/x"], in: directory, timeout: .seconds(30))
        #expect(role.status == 2 && role.stderr.contains("--role wizard"))
        let endpoint = try await MeshworkBinary.run(["agent", "--role", "data", "--connect", "carrier-pigeon://x"], in: directory, timeout: .seconds(30))
        #expect(endpoint.status == 1 && endpoint.stderr.contains("carrier-pigeon://x"), "\(endpoint.stderr)")
    }
}
