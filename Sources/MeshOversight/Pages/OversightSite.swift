public import Foundation
public import MeshRuntime
import MeshCore
public import MeshStore

/// The oversight pages of one run, rendered from its database (opened read-only per request, so
/// the same code shows a running mesh and a finished run) and its live gates.
///
/// Pure apart from reading the store and the gates directory: the HTTP server calls it, and so
/// can a test. Every method reads one snapshot; a run whose database does not exist yet (the
/// coordinator is starting) renders a short "waiting" page.
public struct OversightSite: Sendable {
    /// The run directory (`runs/<id>`).
    public let runDirectory: String
    /// The live gates, or nil for a read-only view of a finished run.
    public let gates: LiveGates?

    /// The pages of the run in `runDirectory`; `gates` nil shows it read-only.
    public init(runDirectory: String, gates: LiveGates?) {
        self.runDirectory = runDirectory
        self.gates = gates
    }

    /// Whether the server shows a live mesh (forms are offered) rather than a finished run.
    public var isLive: Bool { self.gates != nil }

    /// Opens the run's store read-only, or nil while it does not exist yet.
    func openStore() throws(StoreError) -> RunStore? {
        guard FileManager.default.fileExists(atPath: self.runDirectory + "/" + RunStore.fileName) else { return nil }
        return try RunStore.openReadOnly(at: self.runDirectory)
    }

    var runName: String { (self.runDirectory as NSString).lastPathComponent }

    /// Renders one page of the site with its frame; `content` gets the open store.
    func render(
        title: String, path: String, refresh: Bool = false, _ content: (RunStore) throws -> String
    ) -> String {
        let body: String
        do {
            if let store = try self.openStore() {
                defer { try? store.close() }
                body = try content(store)
            } else {
                body = "<p class=\"empty\">waiting for the run's database (the coordinator is starting)…</p>"
            }
        } catch {
            body = "<div class=\"error\">\(HTML.escape("\(error)"))</div>"
        }
        return HTML.page(title: title, here: path, run: self.runName, live: self.isLive, refresh: refresh && self.isLive, body: body)
    }

    /// The gates waiting now (empty for a finished run).
    func pendingGates() -> [LiveGates.Pending] { (try? self.gates?.pending()) ?? [] }

    // MARK: - The mesh

    /// `/`: the run, its agents by host and role with health and restarts, hand-offs in flight.
    public func meshPage(now: Date = Date()) -> String {
        self.render(title: "mesh", path: "/", refresh: true) { store in
            let status = try store.status()
            var html = "<h2>Run</h2>" + HTML.table(
                ["run", "scenario", "seed", "state", "records", "digest", "simulated time"],
                [[HTML.escape(status.runID), HTML.escape(status.scenario), "\(status.seed)", HTML.escape(status.state.rawValue),
                  "\(status.records)", "<code>\(HTML.escape(String((status.digest ?? "–").prefix(23))))…</code>",
                  HTML.simTime(try store.lastRecordTime())]])
            let agents = try store.agentSummaries()
            let running = status.state == .running
            html += "<h2>Agents</h2><p>By host, role and instance. <i>Last seen</i> is the age of the agent's last journaled event "
                + "(awards, results, joins); restarts are its incarnations after the first.</p>"
            var byHost: [String: [[String]]] = [:]
            for agent in agents {
                let health =
                    agent.departure.map { "<span class=\"bad\">departed (\(HTML.escape($0)))</span>" }
                    ?? (running ? "<span class=\"ok\">up</span>" : "<span class=\"empty\">run not running</span>")
                byHost[agent.host ?? "?", default: []].append([
                    HTML.escape(agent.role), HTML.escape(agent.id), agent.pid.map { "\($0)" } ?? "–", health,
                    running && agent.departure == nil ? HTML.age(agent.lastSeen, now: now) : "–",
                    "\(agent.restarts)", "\(agent.awards)",
                ])
            }
            for host in byHost.keys.sorted() {
                html += "<h3>host \(HTML.escape(host))</h3>"
                html += HTML.table(["role", "instance", "pid", "health", "last seen", "restarts", "awards (this incarnation)"], byHost[host]!)
            }
            let inFlight = try store.inFlightAwards()
            html += "<h2>Hand-offs in flight</h2>" + HTML.table(
                ["task", "awarded to", "award", "age"],
                inFlight.map { [HTML.escape($0.task), HTML.escape($0.agent), HTML.escape($0.award), HTML.age($0.awardedAt, now: now)] },
                empty: "nothing in flight")
            html += "<h2>Hand-offs by stage</h2>" + HTML.table(
                ["stage (work)", "done", "failed", "duplicate results"],
                try store.handoffsByStage().map { [HTML.escape($0.stage), "\($0.done)", "\($0.failed)", "\($0.duplicates)"] })
            return html
        }
    }

    // MARK: - Use cases

    /// The lane of the timeline a journal record kind belongs to.
    static func lane(of kind: String) -> Int? {
        switch kind.split(separator: ".").first.map(String.init) ?? "" {
        case "usecase": 0
        case "data", "dataset": 1
        case "model", "search": 2
        case "gate": 3
        case "pipeline": 4
        case "monitoring", "alert", "retrain": 5
        default: nil
        }
    }

    static let lanes = ["use case", "data", "model", "gates", "pipeline", "monitoring"]

    /// `/usecases`: each use case's path through the stages, its current stage and blocking gate.
    public func useCasesPage() -> String {
        self.render(title: "use cases", path: "/usecases", refresh: true) { store in
            let useCases = try store.useCases()
            guard !useCases.isEmpty else { return "<p class=\"empty\">no use case registered yet</p>" }
            let pending = self.pendingGates()
            var html = "<h2>Use cases</h2>" + HTML.table(
                ["use case", "title", "stage", "blocking gate", "since"],
                useCases.map { useCase in
                    let gate = pending.first { $0.request.useCase == useCase.id }
                    return [
                        HTML.escape(useCase.id), HTML.escape(useCase.name), "<b class=\"stage\">\(HTML.escape(useCase.stage))</b>",
                        gate.map { "<a href=\"/approvals#\(HTML.escape($0.id))\">\(HTML.escape($0.request.gate.rawValue))</a>" } ?? "–",
                        HTML.simTime(useCase.updated),
                    ]
                })
            for useCase in useCases {
                let id = useCase.id
                let records = try store.records(.subject(id, excluding: ["task.done"]))
                html += "<h2 id=\"uc-\(HTML.escape(id))\">\(HTML.escape(id))</h2>"
                html += Self.timeline(id: id, records: records)
                let shown = records.filter { $0.kind != "monitoring.window" }
                let windows = records.count - shown.count
                html += HTML.table(
                    ["simulated time", "record", "fields"],
                    shown.map { [HTML.simTime($0.time), HTML.escape($0.kind), HTML.pairs(HTML.fields($0), limit: 8)] })
                if windows > 0 { html += "<p>… and \(windows) monitoring windows (see <a href=\"/monitoring\">monitoring</a>).</p>" }
            }
            return html
        }
    }

    /// A swim-lane timeline of one use case's records over simulated hours, as SVG.
    static func timeline(id: String, records: [LogicalRecord]) -> String {
        let points = records.compactMap { record -> (Double, Int, String)? in
            guard let lane = self.lane(of: record.kind) else { return nil }
            return (HTML.hours(record.time), lane, record.kind)
        }
        let end = max(1, points.map(\.0).max() ?? 1)
        let width = 900.0
        let left = 90.0
        let laneHeight = 26.0
        let height = laneHeight * Double(self.lanes.count) + 40
        func x(_ hours: Double) -> Double { left + (width - left - 20) * hours / end }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" "
            + "aria-label=\"timeline of \(HTML.escape(id))\" style=\"background:#fff;border:1px solid #ddd\">"
        for (index, lane) in self.lanes.enumerated() {
            let y = 20 + laneHeight * Double(index)
            svg += "<text x=\"6\" y=\"\(Int(y + 4))\" font-size=\"12\">\(lane)</text>"
            svg += "<line x1=\"\(Int(left))\" y1=\"\(Int(y))\" x2=\"\(Int(width - 20))\" y2=\"\(Int(y))\" stroke=\"#eee\"/>"
        }
        var previous: (Double, Double)?
        for (hours, lane, kind) in points {
            let px = x(hours)
            let py = 20 + laneHeight * Double(lane)
            if let previous, kind != "monitoring.window" {
                svg += "<line x1=\"\(Int(previous.0))\" y1=\"\(Int(previous.1))\" x2=\"\(Int(px))\" y2=\"\(Int(py))\" stroke=\"#90a4ae\" stroke-width=\"1\"/>"
            }
            let color = kind.hasPrefix("alert") ? "#c62828" : kind.hasPrefix("gate") ? "#ef6c00" : "#1565c0"
            svg += "<circle cx=\"\(Int(px))\" cy=\"\(Int(py))\" r=\"\(kind == "monitoring.window" ? 2 : 4)\" fill=\"\(color)\">"
                + "<title>\(HTML.escape(kind)) at \(String(format: "%.2f", hours)) h</title></circle>"
            if kind != "monitoring.window" { previous = (px, py) }
        }
        svg += "<text x=\"\(Int(left))\" y=\"\(Int(height - 6))\" font-size=\"11\">0 h</text>"
        svg += "<text x=\"\(Int(width - 20))\" y=\"\(Int(height - 6))\" font-size=\"11\" text-anchor=\"end\">\(String(format: "%.1f", end)) h (simulated)</text>"
        return svg + "</svg>"
    }

    // MARK: - Approvals

    /// `/approvals`: the gates waiting, with their evidence and a form, and the decisions taken.
    /// `csrf` makes each form's CSRF token; `askToken` adds a token field (no cookie yet).
    public func approvalsPage(csrf: (String) -> String, askToken: Bool, notice: String? = nil) -> String {
        self.render(title: "approvals", path: "/approvals") { store in
            var html = notice.map { "<div class=\"banner\">\(HTML.escape($0))</div>" } ?? ""
            html += "<h2>Waiting for a decision</h2>"
            let pending = self.pendingGates()
            if !self.isLive {
                html += "<p class=\"empty\">a finished run, shown read-only: nothing can be decided here</p>"
            } else if pending.isEmpty {
                html += "<p class=\"empty\">no gate is waiting</p>"
            }
            for gate in pending {
                let request = gate.request
                html += "<div class=\"gate\" id=\"\(HTML.escape(gate.id))\"><b>\(HTML.escape(request.gate.rawValue))</b> for "
                    + "<b>\(HTML.escape(request.useCase))</b> — <code>\(HTML.escape(gate.id))</code><br>"
                    + "the evidence <b class=\"\(request.recommendation ? "ok" : "bad")\">recommends "
                    + (request.recommendation ? "approval" : "rejection") + "</b><ul>"
                    + request.evidence.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
                html += "<form method=\"post\" action=\"/approvals/\(HTML.escape(gate.id))\">"
                    + "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf(Self.action(for: gate.id)))\">"
                    + "<label>who <input type=\"text\" name=\"who\" value=\"operator\" required style=\"width:10em\"></label> "
                    + "<label>reason <input type=\"text\" name=\"reason\" required></label> "
                    + (askToken ? "<label>token <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label> " : "")
                    + "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> "
                    + "<button type=\"submit\" name=\"decision\" value=\"reject\">Reject</button></form></div>"
            }
            let decided = try store.approvals()
            html += "<h2>Decisions (journaled)</h2>" + HTML.table(
                ["simulated time", "gate", "subject", "decision", "who", "why"],
                decided.map {
                    [HTML.simTime($0.time), HTML.escape($0.gate), HTML.escape($0.subject),
                     "<span class=\"\($0.decision == .approved ? "ok" : "bad")\">\(HTML.escape($0.decision.rawValue))</span>",
                     HTML.escape($0.decidedBy), HTML.escape($0.reason)]
                }, empty: "no decision yet")
            let gates = try store.records(.kinds(["gate.decision", "gate.escalated"]))
            html += "<h2>Every gate record</h2>" + HTML.table(
                ["simulated time", "use case", "fields"],
                gates.map { [HTML.simTime($0.time), HTML.escape($0.subject), HTML.pairs(HTML.fields($0))] })
            return html
        }
    }

    /// The CSRF action of the form deciding gate `id`.
    public static func action(for id: String) -> String { "decide:" + id }

    // MARK: - Models

    /// `/models`: the registry, aliases, alias history and each version's lineage as one chain.
    public func modelsPage() -> String {
        self.render(title: "models", path: "/models") { store in
            let models = try store.models()
            guard !models.isEmpty else { return "<p class=\"empty\">no model registered yet</p>" }
            // Read once for every version's lineage.
            let approvals = try store.approvals()
            let alerts = try store.allAlerts()
            var html = ""
            for model in models {
                html += "<h2>\(HTML.escape(model.name))</h2>"
                let aliases = try store.aliases(of: model.name)
                html += "<h3>Aliases</h3>" + HTML.table(
                    ["alias", "version", "set at", "by"],
                    aliases.map { [HTML.escape($0.alias), "v\($0.version)", HTML.simTime($0.setAt), HTML.escape($0.setBy)] })
                let versions = try store.modelVersions(model.name)
                html += "<h3>Versions</h3>" + HTML.table(
                    ["version", "dataset", "base", "hyperparameters", "seed", "metrics", "registered"],
                    versions.map {
                        ["v\($0.version)", "<code>\(HTML.escape(String($0.datasetHash.prefix(19))))…</code>",
                         HTML.escape($0.baseModel), HTML.pairs(HTML.object($0.hyperparametersJSON)), "\($0.seed)",
                         HTML.pairs(HTML.object($0.metricsJSON)), HTML.simTime($0.created)]
                    })
                let production = aliases.first { $0.alias == "production" }?.version
                for version in versions.reversed() {
                    html += try self.lineage(
                        store: store, useCase: model.useCase, version: version, approvals: approvals, alerts: alerts,
                        inProduction: version.version == production)
                }
                let history = try store.aliasHistory(of: model.name)
                html += "<h3>Alias history</h3>" + HTML.table(
                    ["simulated time", "alias", "version", "previous", "by", "why"],
                    history.map {
                        [HTML.simTime($0.time), HTML.escape($0.alias), "v\($0.version)", $0.previousVersion.map { "v\($0)" } ?? "–",
                         HTML.escape($0.setBy), HTML.escape($0.reason)]
                    })
            }
            return html
        }
    }

    /// One version's lineage: data → trial → metrics → optimisation and serving test → approvals → alerts.
    func lineage(
        store: RunStore, useCase: String, version: MeshStore.ModelVersionRecord, approvals: [Approval], alerts: [Alert],
        inProduction: Bool
    ) throws -> String {
        let tag = "\(version.model)@v\(version.version)"
        var items: [String] = []
        if let dataset = try store.datasetVersion(version.datasetHash) {
            let hash = version.datasetHash
            let record = try store.records(.kindsWithFirstField(["dataset.version"], value: hash)).first
                .map { Dictionary(HTML.fields($0), uniquingKeysWith: { a, _ in a }) } ?? [:]
            items.append("<b>data</b> <code>\(HTML.escape(String(hash.prefix(23))))…</code> (\(HTML.escape(dataset.name)), "
                + "\(dataset.rows) rows, split \(HTML.escape(record["rows"] ?? "?"))"
                + (record["extra_rows"].map { ", \(HTML.escape($0)) labelled rows from the live stream added" } ?? "") + ")")
            // A retraining's generation links the dataset to the alerts that asked for it.
            if let generation = record["generation"] {
                for retrain in try store.records(.subjectAndKinds(useCase, ["retrain.requested", "model.retrained"])) {
                    let fields = HTML.fields(retrain)
                    guard fields.contains(where: { $0 == ("generation", generation) }) else { continue }
                    items.append("<b>\(retrain.kind == "retrain.requested" ? "retraining asked" : "retrained")</b> at "
                        + "\(HTML.simTime(retrain.time)): " + HTML.pairs(fields.filter { $0.0 != "generation" && $0.0 != "weights" }))
                }
            }
        }
        let records = try store.records(
            .kindsWithFirstField(
                ["model.registered", "model.optimized", "pipeline.deployed", "pipeline.tested", "pipeline.promoted", "model.retrained"],
                value: tag))
        if let registered = records.first(where: { $0.kind == "model.registered" }) {
            let fields = HTML.fields(registered).filter { ["architecture", "base", "learning_rate", "epochs", "seed"].contains($0.0) }
            items.append("<b>trial</b> " + HTML.pairs(fields))
        }
        items.append("<b>metrics</b> " + HTML.pairs(HTML.object(version.metricsJSON)))
        for record in records where record.kind != "model.registered" {
            items.append("<b>\(HTML.escape(record.kind))</b> at \(HTML.simTime(record.time)): "
                + HTML.pairs(HTML.fields(record).filter { $0.0 != "version" }, limit: 6))
        }
        for approval in approvals where approval.subject == tag {
            items.append("<b>approval</b> \(HTML.escape(approval.gate)): <b class=\"\(approval.decision == .approved ? "ok" : "bad")\">"
                + "\(HTML.escape(approval.decision.rawValue))</b> by \(HTML.escape(approval.decidedBy)) at "
                + "\(HTML.simTime(approval.time)) — \(HTML.escape(approval.reason))")
        }
        for alert in alerts
        where alert.subject == version.model && HTML.object(alert.evidenceJSON).contains(where: { $0 == ("version", "\(version.version)") }) {
            items.append("<b class=\"bad\">alert</b> \(HTML.escape(alert.rule)) \(HTML.escape(alert.state.rawValue)) since "
                + "\(HTML.simTime(alert.since))")
        }
        let heading = inProduction ? "Why v\(version.version) is in production" : "Lineage of v\(version.version)"
        return "<h3>\(heading)</h3><ol class=\"chain\">" + items.map { "<li>\($0)</li>" }.joined() + "</ol>"
    }

    // MARK: - Monitoring

    /// `/monitoring`: accuracy, latency and drift over simulated time, and the alert history.
    public func monitoringPage() -> String {
        self.render(title: "monitoring", path: "/monitoring", refresh: true) { store in
            let windows = try store.records(.kinds(["monitoring.window"]))
            let alerts = try store.allAlerts()
            var html = ""
            if windows.isEmpty {
                html += "<p class=\"empty\">no monitoring window yet</p>"
            }
            let bySubject = Dictionary(grouping: windows, by: \.subject)
            for subject in bySubject.keys.sorted() {
                html += "<h2>\(HTML.escape(subject))</h2>"
                    + (try self.monitoringCharts(store: store, subject: subject, windows: bySubject[subject]!, alerts: alerts))
            }
            html += "<h2>Alert history</h2>" + HTML.table(
                ["rule", "subject", "state", "since", "resolved", "evidence"],
                alerts.map {
                    [HTML.escape($0.rule), HTML.escape($0.subject),
                     "<span class=\"\($0.state == .firing ? "bad" : "ok")\">\(HTML.escape($0.state.rawValue))</span>",
                     HTML.simTime($0.since), HTML.simTime($0.resolved), HTML.pairs(HTML.object($0.evidenceJSON))]
                }, empty: "no alert")
            return html
        }
    }

    func monitoringCharts(store: RunStore, subject: String, windows: [LogicalRecord], alerts: [Alert]) throws -> String {
        let parsed = windows.map { record -> (hours: Double, fields: [String: String]) in
            (HTML.hours(record.time), Dictionary(HTML.fields(record), uniquingKeysWith: { a, _ in a }))
        }
        let start = parsed.first?.hours ?? 0
        let end = max(start + 1, parsed.last?.hours ?? 1)
        func points(_ key: String, scale: Double = 1) -> [SVGChart.Point] {
            parsed.compactMap { window in
                window.fields[key].flatMap(Double.init).map { SVGChart.Point(x: window.hours, y: $0 / scale, label: "\(key) \($0)") }
            }
        }
        let alertMarkers = alerts.filter { $0.subject == subject }
            .map { SVGChart.Marker(x: HTML.hours($0.since), label: $0.rule, color: "#c62828") }
        let slug = subject.filter { $0.isLetter || $0.isNumber }
        var accuracy = SVGChart(
            id: "acc-\(slug)", title: "Accuracy on the live stream", xLabel: "simulated hours", yLabel: "accuracy", xRange: start...end)
        accuracy.lines = [
            .init(name: "stream accuracy", color: "#1f77b4", points: points("accuracy")),
            .init(name: "held-out accuracy", color: "#2ca02c", points: points("held_out_accuracy")),
        ]
        accuracy.markers = alertMarkers
        let psi = points("max_psi")
        var drift = SVGChart(
            id: "drift-\(slug)", title: "Drift: max PSI (bars) and KS-flagged features", xLabel: "simulated hours",
            yLabel: "fraction of features", xRange: start...end)
        let features = Double(parsed.compactMap { $0.fields["features"].flatMap(Double.init) }.first ?? 64)
        drift.lines = [.init(name: "KS-flagged features (fraction)", color: "#9467bd", points: points("ks_flagged", scale: features))]
        drift.bars = .init(name: "max PSI", color: "#ff7f0e", maximum: max(0.25, psi.map(\.y).max() ?? 0), points: psi)
        drift.markers = alertMarkers
        // Window latencies are physical telemetry (`window.inference_ms`), keyed by the window's task.
        let hoursOfWindow = Dictionary(parsed.compactMap { window in window.fields["window"].map { ($0, window.hours) } }, uniquingKeysWith: { a, _ in a })
        let telemetry = try store.physicalEvents(kind: "telemetry", taskPrefix: "uc/\(subject)/window/")
        var latency: [SVGChart.Point] = []
        for (_, task, detail) in telemetry {
            guard let window = task.split(separator: "/").last.map(String.init), let hours = hoursOfWindow[window],
                let range = detail.range(of: "window.inference_ms="),
                let ms = Double(detail[range.upperBound...].prefix { $0 != " " })
            else { continue }
            latency.append(SVGChart.Point(x: hours, y: ms, label: "window \(window): \(ms) ms"))
        }
        var latencyChart = SVGChart(
            id: "lat-\(slug)", title: "Window inference latency (ms, wall clock)", xLabel: "simulated hours", xRange: start...end)
        latencyChart.bars = .init(name: "ms per window", color: "#8c564b", maximum: max(1, latency.map(\.y).max() ?? 1), points: latency)
        return accuracy.render() + drift.render() + latencyChart.render()
    }

    // MARK: - Report

    /// `/report`: the run's report (M5), rendered from the store now.
    public func reportPage() -> String {
        do {
            guard let store = try self.openStore() else {
                return self.render(title: "report", path: "/report") { _ in "" }
            }
            defer { try? store.close() }
            return ReportHTML.render(try RunReportDocument(store: store))
        } catch {
            return self.render(title: "report", path: "/report") { _ in throw error }
        }
    }
}
