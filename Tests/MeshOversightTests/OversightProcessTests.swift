import Foundation
import MeshProcessTesting
import MeshCore
import MeshStore
import Testing

/// The oversight page as a user meets it: `meshwork up` of a live mesh prints its address, a
/// person approves a gate in headless Chromium and the use case moves on; `meshwork serve`
/// shows a finished run whose `/metrics` a Prometheus parser reads.
@Suite("Oversight page of real meshes", .serialized)
struct OversightProcessTests {
    static let liveScenario = """
        name: live
        seed: 42
        workflow:
          lifecycle:
            use_cases: [agents/usecases/digits.yaml]
            search: { rung_epochs: [2], max_models: 1, pretrained: false }
            human: { live: true, live_timeout_seconds: 300 }
        """

    static let servingScenario = TestScenarios.smallLifecycle()

    /// Reads `runs/<id>/oversight.json` once `up` wrote it.
    static func oversight(runs: String) throws -> (run: String, url: String, token: String)? {
        guard let run = try? FileManager.default.contentsOfDirectory(atPath: runs).first,
            let data = FileManager.default.contents(atPath: runs + "/" + run + "/oversight.json"),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: String],
            let url = object["url"], let token = object["token"]
        else { return nil }
        return (runs + "/" + run, url, token)
    }

    @Test func aPersonApprovesAGateInTheBrowserAndTheUseCaseMovesOn() async throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = directory + "/live.yaml"
        try Self.liveScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        let runs = directory + "/runs"
        let up = try Support.Child(
            Support.meshwork, ["up", scenario, "--json", "--quiet", "--runs", runs], in: Support.repositoryRoot, logs: directory + "/up")
        defer { up.stop() }

        let (run, url, token) = try await eventually("oversight.json") { try Self.oversight(runs: runs) }
        #expect(up.stderr.contains("oversight: \(url)/?token=\(token)"), "\(up.stderr)")
        let first = "uc.digits-classifier.gate-usecase-approval"
        _ = try await eventually("the use-case approval gate", timeout: .seconds(240)) {
            FileManager.default.fileExists(atPath: run + "/gates/\(first).json") ? true : nil
        }
        let useCases = try await Support.get(url + "/usecases")
        #expect(useCases.body.contains("usecase-approval"), "the blocking gate is shown: \(useCases.body.prefix(2000))")

        // Refused: no token, and a form posted from another origin.
        let noToken = try await Support.post(url, gate: first, ["--origin", url])
        #expect(noToken.status == 403, "\(noToken)")
        let forged = try await Support.post(url, gate: first, ["--token", token, "--origin", "http://evil.example"])
        #expect(forged.status == 403, "\(forged)")

        if Support.which("chromium") != nil {
            let browser = try await Support.run(
                "/usr/bin/env",
                ["python3", Support.client, "browser", url, token, first, "--who", "browser-tester", "--reason", "feasible, go"],
                timeout: .seconds(180))
            #expect(browser.status == 0, "browser: \(browser.stdout) \(browser.stderr)")
            #expect(browser.stdout.contains("decided="), "\(browser.stdout)")
        } else {
            print("SKIP browser: chromium is not installed (make test installs it); deciding over HTTP instead")
            let decided = try await Support.post(
                url, gate: first, ["--token", token, "--origin", url, "--who", "browser-tester", "--reason", "feasible, go"])
            #expect(decided.status == 303, "\(decided)")
        }

        // The use case moves on: the decision is journaled (through the coordinator) and the next gate waits.
        let second = "uc.digits-classifier.gate-model-acceptance"
        _ = try await eventually("the model-acceptance gate", timeout: .seconds(300)) {
            FileManager.default.fileExists(atPath: run + "/gates/\(second).json") ? true : nil
        }
        let store = try RunStore.openReadOnly(at: run)
        let decisions = try store.approvals().filter { $0.gate == "usecase-approval" }
        #expect(decisions.first?.decidedBy == "browser-tester" && decisions.first?.reason == "feasible, go", "\(decisions)")
        let stage = try store.useCases().first?.stage
        #expect(stage != "feasible" && stage != nil, "stage \(String(describing: stage))")
        try store.close()
        let page = try await Support.get(url + "/usecases")
        #expect(page.body.contains("model-acceptance"), "\(page.body.prefix(2000))")

        // /metrics of the running mesh parses, with agents up.
        let metrics = try await Support.run("/usr/bin/env", ["python3", Support.client, "metrics", url])
        #expect(metrics.status == 0, "\(metrics.stderr)")
        let families = try JSONSerialization.jsonObject(with: Data(metrics.stdout.utf8)) as? [String: [String]] ?? [:]
        for name in ["meshwork_handoffs", "meshwork_negotiation_latency_seconds", "meshwork_agent_up", "meshwork_agent_restarts",
                     "meshwork_gates_pending", "meshwork_journal_lag_seconds", "meshwork_handoffs_in_flight"] {
            #expect(families[name] != nil, "\(name) missing from \(families.keys.sorted())")
        }

        // Rejecting over HTTP with the token header ends the run.
        let rejected = try await Support.post(
            url, gate: second, ["--token", token, "--origin", url, "--decision", "reject", "--who", "http-tester", "--reason", "not yet"])
        #expect(rejected.status == 303, "\(rejected)")
        let status = await up.waitForExit(timeout: .seconds(240))
        #expect(status == 0, "stderr: \(up.stderr)")
        let journal = try RunStore.openReadOnly(at: run).readJournal()
        let who = journal.entries.filter { $0.record.kind == "gate.decision" }.map { $0.record.field("who") }
        #expect(who == ["browser-tester", "http-tester"], "\(who)")
    }

    @Test func aFinishedRunIsServedReadOnlyAndItsMetricsParse() async throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = directory + "/serving.yaml"
        try Self.servingScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        let runs = directory + "/runs"
        let ran = try await Support.run(Support.meshwork, ["run", scenario, "--json", "--quiet", "--runs", runs], timeout: .seconds(600))
        #expect(ran.status == 0, "\(ran.stderr)")
        let run = runs + "/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first))

        let serve = try Support.Child(Support.meshwork, ["serve", run, "--log-format", "json"], in: Support.repositoryRoot, logs: directory + "/serve")
        defer { serve.stop() }
        let url = try await eventually("the served URL", timeout: .seconds(60)) { () -> String? in
            guard let line = serve.stdout.split(separator: "\n").first(where: { $0.hasPrefix("oversight: ") }) else { return nil }
            return line.dropFirst("oversight: ".count).split(separator: " ").first.map { String($0.dropLast()) }
        }
        for (path, mention) in [("/", "Agents"), ("/usecases", "pipeline.promoted"), ("/approvals", "model-acceptance"),
                                ("/models", "Why v2 is in production"), ("/monitoring", "Alert history"), ("/report", "digits-classifier")] {
            let page = try await Support.get(url + path)
            #expect(page.status == 200 && page.body.contains(mention), "\(path): \(page.body.prefix(500))")
        }
        let models = try await Support.get(url + "/models")
        #expect(models.body.contains("DataDrift") && models.body.contains("model-acceptance"), "lineage shows alerts and approvals")

        let metrics = try await Support.run("/usr/bin/env", ["python3", Support.client, "metrics", url])
        #expect(metrics.status == 0, "\(metrics.stderr)")
        let families = try JSONSerialization.jsonObject(with: Data(metrics.stdout.utf8)) as? [String: [String]] ?? [:]
        for name in ["meshwork_handoffs", "meshwork_negotiation_latency_seconds", "meshwork_model_accuracy",
                     "meshwork_model_held_out_accuracy", "meshwork_drift_psi_max", "meshwork_drift_ks_flagged_features",
                     "meshwork_alert_firing", "meshwork_alerts_raised", "meshwork_journal_records", "meshwork_simulated_time_seconds",
                     "meshwork_model_alias_version", "meshwork_reawards", "meshwork_stale_results",
                     "meshwork_retransmits", "meshwork_duplicates_dropped"] {
            #expect(families[name] != nil, "\(name) missing from \(families.keys.sorted())")
        }
        #expect(families["meshwork_negotiation_latency_seconds"]?.contains("meshwork_negotiation_latency_seconds_bucket") == true)
        // deploy/'s dashboard and alerting rules use only names /metrics carries.
        let samples = Set(families.values.flatMap { $0 })
        for file in ["deploy/grafana-dashboard.json", "deploy/prometheus-alerts.yml"] {
            let text = try String(contentsOfFile: Support.repositoryRoot + "/" + file, encoding: .utf8)
            let names = Set(text.matches(of: /meshwork_[a-z_]+/).map { String($0.output) })
            #expect(!names.isEmpty)
            for name in names where families[name] == nil && !samples.contains(name) {
                Issue.record("\(file) names \(name), which /metrics does not carry")
            }
        }

        let refused = try await Support.post(url, gate: "uc.x", ["--token", "t", "--origin", url, "--csrf", "00"])
        #expect(refused.status == 403, "\(refused)")
        // --log-format json: one object a line, with the run's id as metadata.
        let logLine = try await eventually("the refusal's log line", timeout: .seconds(10)) {
            serve.stderr.split(separator: "\n").first { $0.contains("refused a decision") }
        }
        let log = try JSONSerialization.jsonObject(with: Data(logLine.utf8)) as? [String: String]
        #expect(log?["mesh.run"] == (run as NSString).lastPathComponent && log?["mesh.refusal"] == "readOnly", "\(logLine)")
        #expect(log?["level"] == "warning")
        #expect(log?["mesh.sim"] != nil, "every record carries the simulated time the process saw: \(logLine)")
        serve.stop()
        #expect(!serve.isRunning)
    }

    @Test func serveRefusesADirectoryThatIsNotARun() async throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Support.run(Support.meshwork, ["serve", directory], timeout: .seconds(30))
        #expect(result.status == 2 && result.stderr.contains("not a run directory"), "\(result.stderr)")
        let bad = try await Support.run(Support.meshwork, ["serve", directory, "--bind", "nowhere"], timeout: .seconds(30))
        #expect(bad.status == 2, "\(bad.stderr)")
    }
}
