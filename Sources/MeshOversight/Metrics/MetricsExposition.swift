public import Foundation
public import MeshStore
import Prometheus

/// `/metrics`: a run's series in the Prometheus text format, through swift-prometheus.
///
/// The oversight server is its own process and sees no agent's live counters, so every series is
/// derived from the run's store at scrape time (a fresh registry per scrape): hand-offs from
/// `task_results`, negotiation latencies from the physical journal's award → result pairs,
/// restarts from agent incarnations, accuracy and drift from the `metrics` table, alerts from
/// `alerts`. docs/OVERSIGHT.md lists the names; deploy/ uses the same.
public enum MetricsExposition {
    /// Buckets of the negotiation latency histogram, in seconds (award → result, wall clock).
    public static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]

    /// The exposition text of the run in `store`; `pendingGates` is how many live gates wait.
    public static func render(store: RunStore, pendingGates: Int, now: Date = Date()) throws(StoreError) -> String {
        let registry = PrometheusCollectorRegistry()

        let info = try store.runInfo()
        registry.makeGauge(
            name: "meshwork_run_info", labels: [("run", info.id), ("scenario", info.scenario)],
            help: "Always 1; labels name the run shown."
        ).set(1.0)
        let running = store.isBeingWritten
        registry.makeGauge(name: "meshwork_run_running", help: "1 while the run's coordinator holds its store.").set(running ? 1.0 : 0.0)

        // Hand-offs: one result per (task, step); duplicates are deliveries beyond the first.
        for row in try store.query("SELECT step, status, count(*) AS n, sum(duplicates) AS dup FROM task_results GROUP BY step, status") {
            registry.makeCounter(
                name: "meshwork_handoffs_total", labels: [("stage", row["step"] ?? ""), ("outcome", row["status"] ?? "")],
                help: "Negotiated hand-offs committed, by stage (the work) and outcome."
            ).increment(by: Int64(row.int("n") ?? 0))
            registry.makeCounter(
                name: "meshwork_duplicate_results_total", labels: [("stage", row["step"] ?? "")],
                help: "Results delivered again for a committed hand-off (deduplicated, never applied twice)."
            ).increment(by: Int64(row.int("dup") ?? 0))
        }

        // Negotiation latency: from an award to its result, per stage.
        let latencies = try store.query(
            """
            SELECT coalesce((SELECT t.step FROM task_results t WHERE t.task = a.task LIMIT 1), 'in-flight') AS stage,
                (r.monotonic_ns - a.monotonic_ns) AS ns
            FROM physical_journal a JOIN physical_journal r
                ON r.kind = 'result' AND r.task = a.task AND r.detail = a.detail AND r.agent = a.agent
            WHERE a.kind = 'award'
            """)
        var histograms: [String: ValueHistogram] = [:]
        for row in latencies {
            let stage = row["stage"] ?? ""
            let histogram =
                histograms[stage]
                ?? registry.makeValueHistogram(
                    name: "meshwork_negotiation_latency_seconds", labels: [("stage", stage)], buckets: self.latencyBuckets,
                    help: "Wall time from an award to its result, by stage.")
            histograms[stage] = histogram
            histogram.record(Double(max(0, row.int("ns") ?? 0)) / 1e9)
        }
        if histograms.isEmpty {
            _ = registry.makeValueHistogram(
                name: "meshwork_negotiation_latency_seconds", labels: [("stage", "none")], buckets: self.latencyBuckets,
                help: "Wall time from an award to its result, by stage.")
        }

        // Re-awards: an award number above 1 is a negotiation retried (refusal, timeout, death).
        let reawards = try store.query(
            "SELECT count(*) AS n FROM physical_journal WHERE kind = 'award' AND detail != 'award=1'").first?.int("n") ?? 0
        registry.makeCounter(
            name: "meshwork_reawards_total", help: "Awards re-issued after a refusal, a timeout or a dead agent."
        ).increment(by: Int64(reawards))
        // The coordinator's reliable streams: the latest `link` event of each agent incarnation.
        var links: [String: (retransmitted: Int, duplicates: Int)] = [:]
        for row in try store.query("SELECT agent, detail FROM physical_journal WHERE kind = 'link' ORDER BY id") {
            let fields = Dictionary(
                (row["detail"] ?? "").split(separator: " ").compactMap { pair -> (String, Int)? in
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, let value = Int(parts[1]) else { return nil }
                    return (String(parts[0]), value)
                }, uniquingKeysWith: { _, last in last })
            links[row["agent"] ?? ""] = (fields["retransmitted"] ?? 0, fields["duplicates"] ?? 0)
        }
        var perAgent: [String: (retransmitted: Int, duplicates: Int)] = [:]
        for (incarnation, counts) in links {
            let agent = String(incarnation.split(separator: "#").first ?? "")
            perAgent[agent, default: (0, 0)].retransmitted += counts.retransmitted
            perAgent[agent, default: (0, 0)].duplicates += counts.duplicates
        }
        for agent in perAgent.keys.sorted() {
            registry.makeCounter(
                name: "meshwork_retransmits_total", labels: [("agent", agent)],
                help: "Messages the coordinator sent again on its reliable stream to an agent (recorded when a link ends)."
            ).increment(by: Int64(perAgent[agent]!.retransmitted))
            registry.makeCounter(
                name: "meshwork_duplicates_dropped_total", labels: [("agent", agent)],
                help: "Messages from an agent received twice and dropped by the coordinator's reliable stream."
            ).increment(by: Int64(perAgent[agent]!.duplicates))
        }
        let stale = try store.query("SELECT count(*) AS n FROM physical_journal WHERE kind LIKE 'stale%'").first?.int("n") ?? 0
        registry.makeCounter(
            name: "meshwork_stale_results_total", help: "Results that arrived for a superseded award (fenced off, never applied)."
        ).increment(by: Int64(stale))

        // Agents: restarts are incarnations after the first; up = latest incarnation not departed.
        for row in try store.query(
            """
            SELECT agent_id, role, host, count(*) AS incarnations,
                (SELECT departure FROM agents b WHERE b.agent_id = a.agent_id ORDER BY incarnation DESC LIMIT 1) AS departure
            FROM agents a GROUP BY agent_id ORDER BY agent_id
            """)
        {
            // The stored host may carry the agent's advertised services after it ("vm inference=…").
            let host = (row["host"] ?? "").split(separator: " ").first.map(String.init) ?? ""
            let labels = [("agent", row["agent_id"] ?? ""), ("role", row["role"] ?? ""), ("host", host)]
            registry.makeCounter(name: "meshwork_agent_restarts_total", labels: labels, help: "Restarts of an agent (incarnations after the first).")
                .increment(by: Int64(max(0, (row.int("incarnations") ?? 1) - 1)))
            registry.makeGauge(name: "meshwork_agent_up", labels: labels, help: "1 when the agent's latest incarnation has not departed and the run runs.")
                .set(running && row["departure"] == nil ? 1.0 : 0.0)
        }

        // Queue depth: hand-offs awarded with no committed result yet, by the awardee's role (0 for
        // a role with nothing waiting).
        let inFlightHelp = "Hand-offs awarded and not yet committed (queue depth), by role."
        for row in try store.query("SELECT DISTINCT role FROM agents ORDER BY role") {
            registry.makeGauge(name: "meshwork_handoffs_in_flight", labels: [("role", row["role"] ?? "")], help: inFlightHelp).set(0.0)
        }
        for row in try store.query(
            """
            SELECT coalesce(g.role, 'unknown') AS role, count(DISTINCT p.task) AS n FROM physical_journal p
            LEFT JOIN agents g ON p.agent = g.agent_id || '#' || g.incarnation
            WHERE p.kind = 'award' AND p.task NOT IN (SELECT task FROM task_results) GROUP BY role
            """)
        {
            registry.makeGauge(name: "meshwork_handoffs_in_flight", labels: [("role", row["role"] ?? "")], help: inFlightHelp)
                .set(Double(row.int("n") ?? 0))
        }
        registry.makeGauge(name: "meshwork_gates_pending", help: "Human gates waiting for a decision.").set(Double(pendingGates))

        // The journal: records, simulated time, and how long since the last append (wall clock).
        let head = try store.query("SELECT count(*) AS n, max(time_us) AS t FROM logical_journal").first
        registry.makeGauge(name: "meshwork_journal_records", help: "Logical journal records stored.").set(Double(head?.int("n") ?? 0))
        registry.makeGauge(name: "meshwork_simulated_time_seconds", help: "Simulated time of the last logical record.")
            .set(Double(head?.int("t") ?? 0) / 1e6)
        let last = try store.query("SELECT max(wall_at) AS w FROM physical_journal").first?["w"]
        let lag = HTML.wallDate(last).map { max(0, now.timeIntervalSince($0)) } ?? 0
        registry.makeGauge(
            name: "meshwork_journal_lag_seconds", help: "Wall seconds since the last journal append (grows while a running mesh is stuck)."
        ).set(running ? lag : 0)

        // Model quality and drift: the latest sample of each series per use case and version.
        let series = [
            ("stream_accuracy", "meshwork_model_accuracy", "Accuracy of the serving version on the latest monitoring window."),
            ("stream_held_out_accuracy", "meshwork_model_held_out_accuracy", "Accuracy on the window's held-out rows."),
            ("drift_max_psi", "meshwork_drift_psi_max", "The largest per-feature PSI of the latest window against the training reference."),
            ("drift_ks_features", "meshwork_drift_ks_flagged_features", "Features the KS test flags in the latest window."),
        ]
        for (stored, name, help) in series {
            let rows = try store.query(
                "SELECT m.labels, m.value FROM metrics m WHERE m.series = ? AND m.time_us = (SELECT max(n.time_us) FROM metrics n WHERE n.series = m.series AND n.labels = m.labels)",
                arguments: [stored])
            for row in rows {
                // Always the same label names: a family mixing label sets is refused by the registry.
                let stored = Dictionary(HTML.object(row["labels"]), uniquingKeysWith: { a, _ in a })
                let labels = [("use_case", stored["use_case"] ?? ""), ("version", stored["version"] ?? "")]
                registry.makeGauge(name: name, labels: labels, help: help).set(row.double("value") ?? 0)
            }
        }
        for row in try store.query("SELECT model, alias, version FROM model_aliases") {
            registry.makeGauge(
                name: "meshwork_model_alias_version", labels: [("model", row["model"] ?? ""), ("alias", row["alias"] ?? "")],
                help: "The version an alias points at."
            ).set(Double(row.int("version") ?? 0))
        }

        // Alerts: 1 while firing; every alert ever raised counted by rule.
        for row in try store.query(
            "SELECT rule, subject, max(state = 'firing') AS firing, count(*) AS n, json_extract(max(evidence), '$.severity') AS severity FROM alerts GROUP BY rule, subject")
        {
            let labels = [("rule", row["rule"] ?? ""), ("subject", row["subject"] ?? ""), ("severity", row["severity"] ?? "")]
            registry.makeGauge(name: "meshwork_alert_firing", labels: labels, help: "1 while the alert fires.").set(Double(row.int("firing") ?? 0))
            registry.makeCounter(name: "meshwork_alerts_raised_total", labels: labels, help: "Alerts raised.").increment(by: Int64(row.int("n") ?? 0))
        }
        return registry.emitToString()
    }
}
