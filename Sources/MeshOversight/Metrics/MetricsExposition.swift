public import Foundation
import MeshCore
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
        for stage in try store.handoffsByStage() {
            for (outcome, count) in [("done", stage.done), ("failed", stage.failed)] where count > 0 {
                registry.makeCounter(
                    name: "meshwork_handoffs_total", labels: [("stage", stage.stage), ("outcome", outcome)],
                    help: "Negotiated hand-offs committed, by stage (the work) and outcome."
                ).increment(by: Int64(count))
            }
            registry.makeCounter(
                name: "meshwork_duplicate_results_total", labels: [("stage", stage.stage)],
                help: "Results delivered again for a committed hand-off (deduplicated, never applied twice)."
            ).increment(by: Int64(stage.duplicates))
        }

        // Negotiation latency: from an award to its result, per stage.
        var histograms: [String: ValueHistogram] = [:]
        for (stage, nanoseconds) in try store.awardToResultLatencies() {
            let histogram =
                histograms[stage]
                ?? registry.makeValueHistogram(
                    name: "meshwork_negotiation_latency_seconds", labels: [("stage", stage)], buckets: self.latencyBuckets,
                    help: "Wall time from an award to its result, by stage.")
            histograms[stage] = histogram
            histogram.record(Double(nanoseconds) / 1e9)
        }
        if histograms.isEmpty {
            _ = registry.makeValueHistogram(
                name: "meshwork_negotiation_latency_seconds", labels: [("stage", "none")], buckets: self.latencyBuckets,
                help: "Wall time from an award to its result, by stage.")
        }

        // Re-awards: an award number above 1 is a negotiation retried (refusal, timeout, death).
        registry.makeCounter(
            name: "meshwork_reawards_total", help: "Awards re-issued after a refusal, a timeout or a dead agent."
        ).increment(by: Int64(try store.reawardCount()))
        // The coordinator's reliable streams, per agent over its incarnations.
        for link in try store.linkTotals() {
            registry.makeCounter(
                name: "meshwork_retransmits_total", labels: [("agent", link.agent)],
                help: "Messages the coordinator sent again on its reliable stream to an agent (recorded when a link ends)."
            ).increment(by: Int64(link.retransmitted))
            registry.makeCounter(
                name: "meshwork_duplicates_dropped_total", labels: [("agent", link.agent)],
                help: "Messages from an agent received twice and dropped by the coordinator's reliable stream."
            ).increment(by: Int64(link.duplicatesDropped))
        }
        registry.makeCounter(
            name: "meshwork_stale_results_total", help: "Results that arrived for a superseded award (fenced off, never applied)."
        ).increment(by: Int64(try store.staleResultCount()))

        // Agents: restarts are incarnations after the first; up = latest incarnation not departed.
        for agent in try store.agentSummaries().sorted(by: { $0.id < $1.id }) {
            let labels = [("agent", agent.id), ("role", agent.role), ("host", agent.host ?? "")]
            registry.makeCounter(name: "meshwork_agent_restarts_total", labels: labels, help: "Restarts of an agent (incarnations after the first).")
                .increment(by: Int64(agent.restarts))
            registry.makeGauge(name: "meshwork_agent_up", labels: labels, help: "1 when the agent's latest incarnation has not departed and the run runs.")
                .set(running && agent.departure == nil ? 1.0 : 0.0)
        }

        // Queue depth: hand-offs awarded with no committed result yet, by the awardee's role (0 for
        // a role with nothing waiting).
        let inFlightHelp = "Hand-offs awarded and not yet committed (queue depth), by role."
        for role in try store.roles() {
            registry.makeGauge(name: "meshwork_handoffs_in_flight", labels: [("role", role)], help: inFlightHelp).set(0.0)
        }
        for (role, count) in try store.inFlightByRole() {
            registry.makeGauge(name: "meshwork_handoffs_in_flight", labels: [("role", role)], help: inFlightHelp).set(Double(count))
        }
        registry.makeGauge(name: "meshwork_gates_pending", help: "Human gates waiting for a decision.").set(Double(pendingGates))

        // The journal: records, simulated time, and how long since the last append (wall clock).
        registry.makeGauge(name: "meshwork_journal_records", help: "Logical journal records stored.").set(Double(try store.journalHead().count))
        registry.makeGauge(name: "meshwork_simulated_time_seconds", help: "Simulated time of the last logical record.")
            .set(Double(try store.lastRecordTime()?.microseconds ?? 0) / 1e6)
        let lag = HTML.wallDate(try store.lastPhysicalEventTime()).map { max(0, now.timeIntervalSince($0)) } ?? 0
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
            for sample in try store.latestMetrics(stored) {
                // Always the same label names: a family mixing label sets is refused by the registry.
                let labels = [("use_case", sample.labels["use_case"] ?? ""), ("version", sample.labels["version"] ?? "")]
                registry.makeGauge(name: name, labels: labels, help: help).set(sample.value)
            }
        }
        for alias in try store.aliases() {
            registry.makeGauge(
                name: "meshwork_model_alias_version", labels: [("model", alias.model), ("alias", alias.alias)],
                help: "The version an alias points at."
            ).set(Double(alias.version))
        }

        // Alerts: 1 while firing; every alert ever raised counted by rule.
        for alert in try store.alertTallies() {
            let labels = [("rule", alert.rule), ("subject", alert.subject), ("severity", alert.severity)]
            registry.makeGauge(name: "meshwork_alert_firing", labels: labels, help: "1 while the alert fires.").set(alert.firing ? 1.0 : 0.0)
            registry.makeCounter(name: "meshwork_alerts_raised_total", labels: labels, help: "Alerts raised.").increment(by: Int64(alert.raised))
        }
        return registry.emitToString()
    }
}
