import Foundation
import MeshProcessTesting
import MeshCore
import MeshRuntime
import MeshStore
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The run report: built from records (pure), from a store written through the public API, and
/// by `meshwork report`.
@Suite("Run report")
struct ReportTests {
    // MARK: - Fixtures

    static let header = RunReportDocument.Header(
        runID: "lifecycle-test-0001", runDirectory: "runs/lifecycle-test-0001", scenario: "lifecycle-test", seed: 42,
        digest: "sha256:00ff")

    /// A whole lifecycle in miniature: one use case, 6 windows, drift scripted at hour 3, an
    /// alert, a retraining and a second promotion.
    static func lifecycle(reason: String = "approved: the evidence meets the objective") -> [LogicalRecord] {
        var records: [LogicalRecord] = []
        func add(_ seconds: UInt64, _ kind: String, _ subject: String = "digits", _ fields: [(String, String)]) {
            records.append(
                LogicalRecord(
                    time: .seconds(seconds), kind: kind, subject: subject, fields: fields.map { .init($0.0, $0.1) }))
        }
        add(0, "run.started", "lifecycle", [("seed", "42"), ("use_cases", "digits")])
        add(
            0, "catalog.source", "digits-csv",
            [("kind", "csv"), ("licence", "CC-BY-4.0"), ("region", "eu"), ("pii", "false")])
        add(
            300, "usecase.registered", "digits",
            [
                ("title", "Recognise digits"), ("objective", "macro_f1 >= 0.95"), ("p99_ms", "5.0"),
                ("max_bytes", "100000"),
                ("budget_gflop", "500.0"),
            ])
        add(300, "task.done", "uc/digits/intake", [("role", "usecase")])
        add(540, "data.discovery", "digits", [("accepted", "digits-csv"), ("rejected", "")])
        add(
            1140, "usecase.feasibility", "digits",
            [
                ("feasible", "true"), ("summary", "feasible"), ("fitting", "mlp-32,mlp-64"),
                ("estimated_gflop", "40.38"),
            ])
        add(
            1200, "gate.escalated", "digits",
            [
                ("gate", "usecase-approval"), ("target", "digits"), ("unanswered_by", "alice"), ("escalated_to", "bob"),
                ("timeout_minutes", "60"),
            ])
        add(
            1200, "gate.decision", "digits",
            [
                ("gate", "usecase-approval"), ("target", "digits"), ("approved", "true"), ("who", "bob"),
                ("reason", reason),
            ])
        add(
            1300, "dataset.version", "digits",
            [
                ("hash", "sha256:5cb15e403ea22de0f8c0a241b27b6e8c"), ("source", "digits-csv"), ("rows", "1259/179/359"),
                ("features", "4"), ("classes", "10"), ("imputed", "0"), ("duplicates", "0"), ("clipped", "197"),
            ])
        add(
            1400, "model.plan", "digits",
            [("candidates", "mlp-64,mlp-32"), ("trials", "t0=mlp-64/lr0.001,t1=mlp-32/lr0.003")])
        add(
            1500, "search.rung", "digits",
            [
                ("rung", "0"), ("survivors", "t0"), ("eliminated", "t1"), ("scores", "t0=0.9777,t1=0.9665"),
            ])
        add(
            1600, "model.evaluated", "digits",
            [
                ("trial", "t0"), ("accuracy", "0.9749"), ("macro_f1", "0.975"), ("ece", "0.0145"), ("nll", "0.1439"),
                ("worst_classes", "7,1,8"),
            ])
        add(
            1700, "model.registered", "digits",
            [
                ("version", "digits@v1"), ("dataset", "sha256:5cb15e403ea22de0f8c0a241b27b6e8c"),
                ("architecture", "mlp:64"), ("base", ""),
                ("learning_rate", "0.001"), ("epochs", "60"), ("seed", "1"), ("weights", "sha256:8a78"),
                ("accuracy", "0.9749"),
                ("macro_f1", "0.975"), ("meets_objective", "true"),
            ])
        add(
            1800, "gate.decision", "digits",
            [
                ("gate", "model-acceptance"), ("target", "digits@v1"), ("approved", "true"), ("who", "scripted-human"),
                ("reason", "approved"),
            ])
        add(
            1900, "model.optimized", "digits",
            [
                ("version", "digits@v1"), ("fp32_accuracy", "0.9749"), ("int8_accuracy", "0.9721"),
                ("tolerance_points", "0.5"),
                ("int8_bytes", "18744"), ("fp32_bytes", "69008"), ("kept", "int8"),
            ])
        add(
            2000, "pipeline.deployed", "digits",
            [("version", "digits@v1"), ("alias", "staging"), ("precision", "int8")])
        add(
            2100, "pipeline.tested", "digits",
            [
                ("version", "digits@v1"), ("rows", "359"), ("http_accuracy", "0.9721"),
                ("evaluated_accuracy", "0.9721"),
                ("edge_cases", "6/6 refused"), ("edge_case_statuses", "wrong-shape=400,huge-batch=413"),
                ("serving_after_edge_cases", "true"), ("passed", "true"),
            ])
        add(
            2200, "gate.decision", "digits",
            [
                ("gate", "promotion"), ("target", "digits@v1"), ("approved", "true"), ("who", "scripted-human"),
                ("reason", "ok"),
            ])
        add(
            2300, "pipeline.promoted", "digits",
            [
                ("version", "digits@v1"), ("alias", "production"), ("previous", ""), ("precision", "int8"),
            ])
        add(
            2300, "monitoring.started", "digits",
            [
                ("hours", "6"), ("window_rows", "180"), ("drift_at_hour", "3"), ("drift", "noise sigma 2.0"),
                ("alerts", "DataDrift,AccuracyDrop"),
            ])
        let accuracies = ["0.9778", "0.9667", "0.9722", "0.6667", "0.7111", "0.9611"]
        for window in 0..<6 {
            let drifted = window >= 3
            add(
                2360 + UInt64(window) * 3600, "monitoring.window", "digits",
                [
                    ("window", "\(window)"), ("version", window == 5 ? "2" : "1"), ("rows", "180"),
                    ("accuracy", accuracies[window]),
                    ("held_out_accuracy", accuracies[window]), ("ks_flagged", drifted ? "19" : "0"),
                    ("psi_flagged", drifted ? "14" : "0"),
                    ("max_ks", "0.1"), ("max_psi", drifted ? "1.4" : "0.09"), ("drifted", "\(drifted)"),
                    ("scripted_drift", "\(drifted)"),
                ])
            if window == 3 {
                add(
                    2360 + 3 * 3600, "alert.firing", "digits",
                    [
                        ("alert", "AccuracyDrop"), ("severity", "critical"), ("condition", "accuracy_below"),
                        ("window", "3"),
                        ("starts_at", "1970-01-01T03:39:20Z"), ("version", "1"), ("accuracy", "0.6667"),
                        ("ks_flagged", "19"),
                    ])
                add(
                    2360 + 3 * 3600, "retrain.requested", "digits",
                    [
                        ("alerts", "AccuracyDrop"), ("generation", "2"), ("windows", "3"), ("labelled_rows", "180"),
                        ("evidence", "window 3: accuracy 0.6667"),
                    ])
                add(
                    2380 + 3 * 3600, "dataset.version", "digits",
                    [
                        ("hash", "sha256:24e920d614c618026e2d349492a38911"), ("source", "digits-csv"),
                        ("rows", "1439/179/359"),
                        ("extra_rows", "180"), ("generation", "2"),
                    ])
                add(
                    2400 + 3 * 3600, "model.retrained", "digits",
                    [
                        ("generation", "2"), ("trial", "t0"), ("from", "v1"), ("validation_accuracy", "0.9888"),
                        ("weights", "3d3f"),
                    ])
                add(
                    2420 + 3 * 3600, "model.evaluated", "digits",
                    [
                        ("trial", "t0"), ("accuracy", "0.9889"), ("macro_f1", "0.9889"), ("ece", "0.0105"),
                        ("nll", "0.0423"),
                        ("worst_classes", "7,8,6"),
                    ])
                add(
                    2440 + 3 * 3600, "model.registered", "digits",
                    [
                        ("version", "digits@v2"), ("dataset", "sha256:24e920d614c618026e2d349492a38911"),
                        ("architecture", "mlp:64"),
                        ("base", ""), ("learning_rate", "0.001"), ("epochs", "90"), ("seed", "1"),
                        ("weights", "sha256:3d3f"),
                        ("accuracy", "0.9889"), ("macro_f1", "0.9889"), ("meets_objective", "true"),
                    ])
                add(
                    2500 + 3 * 3600, "pipeline.deployed", "digits",
                    [
                        ("version", "digits@v2"), ("alias", "staging"), ("precision", "int8"),
                    ])
                add(
                    2600 + 3 * 3600, "pipeline.tested", "digits",
                    [
                        ("version", "digits@v2"), ("rows", "359"), ("http_accuracy", "0.9889"),
                        ("evaluated_accuracy", "0.9889"),
                        ("edge_cases", "6/6 refused"), ("edge_case_statuses", "wrong-shape=400,huge-batch=413"),
                        ("serving_after_edge_cases", "true"), ("passed", "true"),
                    ])
                add(
                    2300 + 4 * 3600 + 1800, "pipeline.promoted", "digits",
                    [
                        ("version", "digits@v2"), ("alias", "production"), ("previous", "digits@v1"),
                        ("precision", "int8"),
                    ])
            }
        }
        add(
            2360 + 5 * 3600, "alert.resolved", "digits",
            [
                ("alert", "AccuracyDrop"), ("window", "5"), ("starts_at", "1970-01-01T03:39:20Z"),
                ("ends_at", "1970-01-01T05:39:20Z"),
            ])
        add(
            2400 + 5 * 3600, "usecase.ended", "digits",
            [
                ("state", "accepted"), ("model", "digits@v2"),
                ("reason", "monitored for 6 hours; 1 retraining(s); production v2"),
            ])
        return records
    }

    static let telemetry = [
        RunReportDocument.Telemetry(
            agent: "pipeline-1#1", task: "uc/digits/serving-test",
            detail:
                "load.connections=4 load.errors=0 load.p50_ms=4.436 load.p99_ms=12.849 load.requests=820 load.rps=820"),
        RunReportDocument.Telemetry(
            agent: "pipeline-1#1", task: "uc/digits/g2/serving-test",
            detail:
                "load.connections=4 load.errors=0 load.p50_ms=3.858 load.p99_ms=10.863 load.requests=906 load.rps=906"),
        RunReportDocument.Telemetry(
            agent: "monitoring-1#1", task: "uc/digits/window/0",
            detail: "window.inference=http://127.0.0.1:1 window.inference_ms=134"),
        RunReportDocument.Telemetry(
            agent: "monitoring-1#1", task: "uc/digits/window/1",
            detail: "window.inference=http://127.0.0.1:1 window.inference_ms=170"),
    ]

    // MARK: - The document

    @Test func theModelLinksRecordsStageByStage() {
        let document = RunReportDocument(header: Self.header, records: Self.lifecycle(), telemetry: Self.telemetry)
        #expect(document.records == Self.lifecycle().count)
        #expect(document.tasksDone == 1)
        #expect(document.catalog.map(\.id) == ["digits-csv"])
        #expect(document.useCases.map(\.id) == ["digits"])
        let useCase = document.useCases[0]
        #expect(useCase.title == "Recognise digits")
        #expect(useCase.rungs.first?.scores.map(\.trial) == ["t0", "t1"])
        #expect(useCase.registeredModels.map(\.version) == ["digits@v1", "digits@v2"])
        // The retraining's dataset keeps the schema of the one before.
        #expect(useCase.datasets.map(\.features) == [4, 4])
        #expect(useCase.datasets.map(\.generation) == [1, 2])
        #expect(useCase.deployments.map(\.version) == ["digits@v1", "digits@v2"])
        // The second deployment is generation 2: its load test is the g2 one.
        #expect(useCase.deployments.map { $0.load?.requests } == [820, 906])
        #expect(useCase.deployments.allSatisfy { $0.test?.passed == true })
        #expect(useCase.promotions.map(\.previous) == ["", "digits@v1"])
        #expect(useCase.windows.count == 6)
        #expect(useCase.windowInferenceMilliseconds == [134, 170])
        #expect(useCase.alerts.first?.resolvedWindow == "5")
        #expect(useCase.retrainings.first?.validationAccuracy == 0.9888)
        #expect(useCase.decisions.first?.escalation?.escalatedTo == "bob")
        #expect(useCase.decisions.dropFirst().allSatisfy { $0.escalation == nil })
        #expect(useCase.ending?.state == "accepted")
        // The timeline is in simulated-time order.
        #expect(useCase.timeline.map(\.time) == useCase.timeline.map(\.time).sorted())
    }

    @Test func theMarkdownHasEverySectionAndItsFigures() {
        let document = RunReportDocument(header: Self.header, records: Self.lifecycle(), telemetry: Self.telemetry)
        let markdown = ReportMarkdown.render(document)
        for section in [
            "# Meshwork run report: lifecycle-test", "## Use case digits: Recognise digits", "### Timeline", "### Data",
            "### Model search", "### Evaluation on the test set", "### Optimization: FP32 and INT8", "### Serving",
            "### Monitoring", "### Alerts", "### Retraining", "### Decisions", "## Calling the inference API",
        ] {
            #expect(markdown.contains(section + "\n"), "missing \(section)")
        }
        for figure in [
            "`sha256:00ff`", "seed 42", "97.49 %", "97.21 %", "-0.28 points", "18,744 B (18.3 KiB)", "12.85 ms",
            "3.86 ms",
            "Load tests (wall clock):", "t0 97.77 %, t1 96.65 %",
            "![Held-out accuracy per monitoring window (digits)](report-accuracy.svg)",
            "alice did not answer within 60 min; escalated to bob", "152 ms (median", "/v2/health/ready",
            "/v2/models/digits/infer", "\"shape\":[1,4]", "\"data\":[0,0,0,0]", "--hold", "1970-01-01T00:05:00Z",
            "`wrong-shape → 400`",
        ] {
            #expect(markdown.contains(figure), "missing \(figure)")
        }
        // The alert resolved, so it does not read as still firing.
        #expect(!markdown.contains("still firing"))
        // Deterministic: the same records give the same bytes.
        #expect(
            markdown
                == ReportMarkdown.render(
                    RunReportDocument(header: Self.header, records: Self.lifecycle(), telemetry: Self.telemetry)))
    }

    @Test func theChartIsWellFormedSVGWithItsMarkers() throws {
        let document = RunReportDocument(header: Self.header, records: Self.lifecycle(), telemetry: Self.telemetry)
        let files = document.chartFiles
        #expect(files.map(\.fileName) == ["report-accuracy.svg"])
        let svg = try #require(files.first?.svg)
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let elements = try Self.parseXML(svg)
        #expect(elements["svg"] == 1)
        #expect(elements["polyline"] == 1)
        #expect(elements["circle"] == 6)
        #expect((elements["rect"] ?? 0) >= 4)  // the background and the 3 drifted windows' KS bars
        #expect(svg.contains("drift scripted at hour 3"))
        #expect(svg.contains("v1 promoted"))
        #expect(svg.contains("v2 promoted"))
        #expect(!svg.contains("<script"))
        // The HTML inlines the same chart (without the XML declaration).
        let html = ReportHTML.render(document)
        #expect(html.contains("<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("<?xml"))
    }

    @Test func journalValuesAreEscapedInHTMLAndMarkdown() throws {
        let hostile = "<script>alert(\"x\")</script> & | **bold** [link](http://x)"
        let document = RunReportDocument(header: Self.header, records: Self.lifecycle(reason: hostile), telemetry: [])
        let html = ReportHTML.render(document)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; | **bold** [link](http://x)"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        try Self.expectBalancedHTML(html)

        let markdown = ReportMarkdown.render(document)
        #expect(!markdown.replacingOccurrences(of: "\\<", with: "").contains("<script"))
        #expect(markdown.contains("\\<script>alert(\"x\")\\</script> & \\| \\*\\*bold\\*\\* \\[link\\](http://x)"))
        // Each table row still has as many cells as its header.
        let decisions = try #require(markdown.components(separatedBy: "### Decisions\n\n").last)
        let rows = decisions.split(separator: "\n").prefix { $0.hasPrefix("|") }
        let widths = Set(rows.map { row in row.replacingOccurrences(of: "\\|", with: "").count(where: { $0 == "|" }) })
        #expect(widths.count == 1, "\(rows)")
    }

    @Test func anEmptyRunSaysSo() throws {
        let header = RunReportDocument.Header(
            runID: "empty-0001", runDirectory: "runs/empty-0001", scenario: "empty", seed: 1, digest: nil)
        let document = RunReportDocument(header: header, records: [], telemetry: [])
        #expect(document.useCases.isEmpty)
        #expect(document.chartFiles.isEmpty)
        let markdown = ReportMarkdown.render(document)
        #expect(markdown.contains("The journal is empty"))
        #expect(markdown.contains("none (empty journal)"))
        let html = ReportHTML.render(document)
        #expect(html.contains("The journal is empty"))
        try Self.expectBalancedHTML(html)
    }

    @Test func aRunWithoutUseCasesSaysSo() {
        let records = (0..<3).map { index in
            LogicalRecord(time: .seconds(UInt64(index)), kind: "task.done", subject: "relay/000000/\(index)")
        }
        let document = RunReportDocument(header: Self.header, records: records, telemetry: [])
        #expect(document.useCases.isEmpty)
        #expect(ReportMarkdown.render(document).contains("This run has no use cases"))
    }

    @Test func aUseCaseCutShortShowsOnlyTheStagesItReached() {
        let records = Array(Self.lifecycle().prefix { $0.kind != "model.plan" })
        let document = RunReportDocument(header: Self.header, records: records, telemetry: [])
        let markdown = ReportMarkdown.render(document)
        #expect(markdown.contains("**not ended**"))
        #expect(markdown.contains("### Data\n"))
        #expect(!markdown.contains("### Model search"))
        #expect(!markdown.contains("### Monitoring"))
        #expect(document.chartFiles.isEmpty)
    }

    // MARK: - From a store

    @Test func theWriterReadsAStoreAndWritesTheSameFilesTwice() throws {
        let parent = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = try Self.makeStore(in: parent)

        let files = try RunReportWriter.write(runDirectory: path)
        #expect(files.markdown == path + "/report.md")
        #expect(files.html == path + "/report.html")
        #expect(files.charts == [path + "/report-accuracy.svg"])
        let markdown = try String(contentsOfFile: files.markdown, encoding: .utf8)
        let html = try String(contentsOfFile: files.html, encoding: .utf8)
        let svg = try String(contentsOfFile: files.charts[0], encoding: .utf8)
        #expect(markdown.contains("`report-test-0001`"))
        #expect(markdown.contains("seed 42"))
        #expect(markdown.contains("12.85 ms"))
        _ = try Self.parseXML(svg)

        _ = try RunReportWriter.write(runDirectory: path)
        #expect(try String(contentsOfFile: files.markdown, encoding: .utf8) == markdown)
        #expect(try String(contentsOfFile: files.html, encoding: .utf8) == html)
        #expect(try String(contentsOfFile: files.charts[0], encoding: .utf8) == svg)
    }

    @Test func meshworkReportWritesTheFilesAndRefusesWhatIsNotARun() async throws {
        let parent = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = try Self.makeStore(in: parent)

        let result = try await Self.runMeshwork(["report", path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(path + "/report.html"))
        #expect(FileManager.default.fileExists(atPath: path + "/report.md"))

        let missing = try await Self.runMeshwork(["report", parent + "/no-such-run"])
        #expect(missing.status == 2, "\(missing.output)")
        #expect(missing.output.contains("not a run directory"))
    }

    // MARK: - Helpers

    /// A run directory with a store holding the lifecycle records and telemetry.
    static func makeStore(in parent: String) throws -> String {
        let path = parent + "/report-test-0001"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let store = try RunStore.create(
            at: path, run: RunInfo(id: "report-test-0001", scenario: "lifecycle-test", seed: 42))
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        let entries = Self.lifecycle().enumerated().map { index, record in
            JournalEntry(index: UInt64(index), record: record, digest: digest.append(record))
        }
        try journal.appendLogical(entries)
        try journal.appendPhysical(
            Self.telemetry.enumerated().map { index, event in
                PhysicalEvent(
                    kind: "telemetry", agent: event.agent, task: event.task, detail: event.detail,
                    at: MonotonicTime(nanoseconds: UInt64(index)))
            })
        try store.finish(digest: digest.text)
        try store.close()
        return path
    }

    /// Runs the built binary to its end (it writes a few files; no timeout needed beyond the test's).
    /// On a thread of its own, so its blocking read and wait do not hold a cooperative thread.
    static func runMeshwork(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.runMeshworkBlocking(arguments) }) }.start()
        }
    }

    static func runMeshworkBlocking(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MeshworkBinary.path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Parses `xml`, returning how many of each element it holds; throws when it is not well-formed.
    static func parseXML(_ xml: String) throws -> [String: Int] {
        final class Counter: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            func parser(
                _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                self.elements[elementName, default: 0] += 1
            }
        }
        let parser = XMLParser(data: Data(xml.utf8))
        let counter = Counter()
        parser.delegate = counter
        guard parser.parse() else {
            throw ParseFailure(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        return counter.elements
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks that every HTML element opened is closed, in order (void elements aside).
    static func expectBalancedHTML(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let void: Set<String> = ["meta", "br", "img", "hr", "link", "input"]
        var stack: [String] = []
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else {
                Issue.record("a `<` never closed", sourceLocation: sourceLocation)
                return
            }
            let tag = rest[rest.index(after: open)..<close]
            rest = rest[rest.index(after: close)...]
            if tag.hasPrefix("!") || tag.hasPrefix("?") || tag.hasSuffix("/") { continue }
            let name = String(tag.prefix { !$0.isWhitespace }).lowercased()
            if name.hasPrefix("/") {
                let expected = stack.popLast()
                #expect(
                    expected == String(name.dropFirst()), "closing \(name) but \(expected ?? "nothing") is open",
                    sourceLocation: sourceLocation)
            } else if !void.contains(name) {
                stack.append(name)
            }
        }
        #expect(stack.isEmpty, "left open: \(stack)", sourceLocation: sourceLocation)
    }
}
