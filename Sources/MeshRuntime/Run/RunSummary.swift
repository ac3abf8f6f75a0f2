import Foundation
public import MeshStore
public import MeshAgents
public import MeshCore

/// What `meshwork up` and `meshwork run` print at the end; with `--json` the last line of stdout is
/// this object.
public struct RunSummary: Sendable, Codable, Equatable {
    /// The scenario's name.
    public var scenario: String
    /// Its seed.
    public var seed: UInt64
    /// The logical digest, `sha256:` + hex.
    public var digest: String
    /// Hand-offs committed (one negotiated award per task).
    public var handoffs: Int
    /// Hand-offs a complete run commits.
    public var expectedHandoffs: Int
    /// Hand-offs that never committed.
    public var lost: Int
    /// Tasks committed more than once.
    public var appliedTwice: Int
    /// Distinct OS processes that took part.
    public var processes: Int
    /// Processes the supervisor restarted.
    public var restarts: Int
    /// Wall-clock seconds from start to summary.
    public var wallSeconds: Double
    /// The run's directory.
    public var runDir: String
    /// `processes` (`meshwork up`) or `in-process` (`meshwork run`).
    public var mode: String
    /// Logical records in the journal.
    public var records: UInt64
    /// Units of work whose result was recomputed independently and matched.
    public var verified: Int
    /// Units whose result did not match or never finished.
    public var mismatched: Int
    /// Tasks that failed for good.
    public var failedTasks: Int
    /// Awards beyond the first of a task.
    public var reawards: Int
    /// Results of fenced-off awards, ignored.
    public var staleResults: Int
    /// Messages the coordinator rejected.
    public var rejectedMessages: Int
    /// Simulated seconds the run covered.
    public var simSeconds: Double
    /// Hand-offs per wall-clock second of the workflow.
    public var handoffsPerSecond: Double
    /// How each use case ended (lifecycle scenarios).
    public var useCases: [UseCaseOutcome]

    public enum CodingKeys: String, CodingKey {
        case scenario, seed, digest, handoffs, lost, processes, restarts, mode, records, verified, mismatched
        case expectedHandoffs = "expected_handoffs"
        case appliedTwice = "applied_twice"
        case wallSeconds = "wall_seconds"
        case runDir = "run_dir"
        case failedTasks = "failed_tasks"
        case reawards
        case staleResults = "stale_results"
        case rejectedMessages = "rejected_messages"
        case simSeconds = "sim_seconds"
        case handoffsPerSecond = "handoffs_per_second"
        case useCases = "use_cases"
    }

    /// Builds the summary from the coordinator's report, checked against the run database: the
    /// digest is recomputed from the stored records and `lost`/`applied_twice` are counted there.
    public static func make(
        scenario: Scenario,
        report: RunReport,
        store: RunStore,
        restarts: Int,
        wallSeconds: Double,
        workflowSeconds: Double,
        run: RunDirectory,
        mode: String
    ) throws(RuntimeError) -> RunSummary {
        let journal: StoredJournal
        let processes: Set<String>
        do {
            journal = try store.readJournal()
            processes = try store.processes()
        } catch {
            throw RuntimeError(.journal, "\(error)")
        }
        guard journal.recomputed.text == report.digest else {
            throw RuntimeError(
                .journal,
                "\(run.databasePath): the journal's digest \(journal.recomputed.text) differs from the coordinator's \(report.digest)")
        }
        let counts = journal.taskCounts
        return RunSummary(
            scenario: scenario.name,
            seed: scenario.seed,
            digest: report.digest,
            handoffs: report.handoffs,
            expectedHandoffs: report.audit.expectedTasks,
            lost: max(0, report.audit.expectedTasks - counts.distinct),
            appliedTwice: counts.duplicates,
            processes: max(report.processes.count, processes.count),
            restarts: restarts,
            wallSeconds: (wallSeconds * 1000).rounded() / 1000,
            runDir: run.path,
            mode: mode,
            records: report.records,
            verified: report.audit.verified,
            mismatched: report.audit.mismatched,
            failedTasks: report.failedTasks,
            reawards: report.reawards,
            staleResults: report.staleResults,
            rejectedMessages: report.rejectedMessages,
            simSeconds: Double(report.simMicroseconds) / 1e6,
            handoffsPerSecond: workflowSeconds > 0 ? (Double(report.handoffs) / workflowSeconds).rounded() : 0,
            useCases: report.audit.useCases
        )
    }

    /// Whether the run did everything it should, exactly once.
    public var isClean: Bool { self.lost == 0 && self.appliedTwice == 0 && self.mismatched == 0 && self.failedTasks == 0 }

    /// The summary as one JSON object on one line (keys sorted).
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The summary for people.
    public func text() -> String {
        let verdict = self.isClean ? "complete: nothing lost, nothing applied twice" : "INCOMPLETE"
        var cases = ""
        for outcome in self.useCases {
            cases += "\n  use case    \(outcome.id): \(outcome.state)"
            if let model = outcome.model { cases += " — model \(model)" }
            if let accuracy = outcome.testAccuracy, let f1 = outcome.testMacroF1 {
                cases += ", test accuracy \(Self.percent(accuracy)), macro-F1 \(Self.percent(f1))"
            }
            if let deployments = outcome.deployments, let promotions = outcome.promotions {
                cases += "\n              serving: \(deployments) deployment(s) to staging, \(promotions) promotion(s); production "
                    + (outcome.production ?? "none")
            }
            if let alerts = outcome.alerts, let retrains = outcome.retrains {
                let accuracy = { (value: Double?) in value.map(Self.percent) ?? "-" }
                cases += "\n              stream (held-out rows): \(accuracy(outcome.accuracyBeforeDrift)) before drift, "
                    + "\(accuracy(outcome.accuracyOnDriftBeforeRetrain)) drifted before retraining, "
                    + "\(accuracy(outcome.accuracyOnDriftAfterRetrain)) after; \(alerts) alert(s), \(retrains) retraining(s)"
            }
            cases += "\n              \(outcome.reason)"
        }
        return """
            \(self.scenario) (seed \(self.seed)) — \(verdict)
              digest      \(self.digest)
              hand-offs   \(self.handoffs) of \(self.expectedHandoffs) (\(Int(self.handoffsPerSecond)) /s); lost \(self.lost), applied twice \(self.appliedTwice)
            \(self.useCases.isEmpty ? "  verified    \(self.verified) recomputed independently, \(self.mismatched) mismatched\n" : "")\
              processes   \(self.processes) (\(self.mode)), restarts \(self.restarts), re-awards \(self.reawards), stale results \(self.staleResults)
              time        \(self.wallSeconds) s wall, \(SimClockText.format(SimTime(microseconds: UInt64(self.simSeconds * 1e6)))) simulated
              run         \(self.runDir)
            """ + cases
    }

    static func percent(_ value: Double) -> String { String((value * 10_000).rounded() / 100) + " %" }
}
