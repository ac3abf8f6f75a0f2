import ArgumentParser
import Foundation
import Logging
import MeshCore
import MeshRuntime

/// `meshwork replay RUN_DIR`: re-executes a recorded run in one process and names the first
/// record that differs; with `--set`, a what-if from the same scenario with a changed setting.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a recorded run against this code and compare its journal record by record.",
        discussion: """
            Exit code 0 when nothing diverges (or for a what-if), 1 at a divergence, 2 for bad input.
            A what-if: meshwork replay runs/<id> --set workflow.lifecycle.monitoring.rule.min_ks_features=30
            A branch, kept as a new run with its parent recorded: add --from RECORD (the journal up to
            there as it was, the changed settings from there on).
            """
    )

    @Argument(help: "The run's directory (runs/<id>).")
    var runDirectory: String

    @Option(name: .long, help: "A what-if: change a scenario setting, PATH=VALUE (repeatable).")
    var set: [String] = []

    @Option(name: .long, help: "Branch from this journal record (0-based): a what-if stored as a new run.")
    var from: Int?

    @Option(name: .long, help: "Where a branch's run directory goes.")
    var runs = "runs"

    @Flag(name: .long, help: "Print one JSON object (digest, divergence, use cases).")
    var json = false

    @Flag(name: .long, help: "No note about the BLAS kernel.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        // The recorded run's compute used the kernel the supervisor picks; so must the replay.
        BLASKernelRelaunch.relaunchIfNeeded(quiet: self.quiet || self.json)
        try await CommandFailure.guarding {
            var overrides: [String: String] = [:]
            for item in self.set {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw RuntimeError(.usage, "--set \(item): expected PATH=VALUE")
                }
                overrides[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            if let from = self.from {
                guard from >= 0 else { throw RuntimeError(.usage, "--from \(from): a record number >= 0") }
                let branch = try await Replay.branch(
                    runDirectory: self.runDirectory, from: from, overrides: overrides, runsRoot: self.runs, logger: logger)
                if self.json {
                    print(try Self.json(branch.result, extra: [
                        "branch_dir": branch.runDirectory, "parent": branch.parentage.parent,
                        "from_record": branch.parentage.fromRecord, "branch_record": branch.parentage.branchRecord,
                    ]))
                } else {
                    print(Self.text(branch.result, branchedAt: branch.parentage.branchRecord, parent: branch.parentage.parent))
                }
                return
            }
            let result = try await Replay.run(runDirectory: self.runDirectory, overrides: overrides, logger: logger)
            if self.json {
                print(try Self.json(result, extra: [:]))
            } else {
                print(Self.text(result))
            }
            if result.divergence != nil && overrides.isEmpty { throw ExitCode(1) }
        }
    }

    /// The result as one JSON object, with `extra` keys beside its own.
    static func json(_ result: Replay.Result, extra: [String: Any]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard !extra.isEmpty else { return String(decoding: try encoder.encode(result), as: UTF8.self) }
        var object = try JSONSerialization.jsonObject(with: encoder.encode(result)) as? [String: Any] ?? [:]
        object.merge(extra) { _, new in new }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func text(_ result: Replay.Result, branchedAt: Int? = nil, parent: String? = nil) -> String {
        var lines: [String] = []
        var what = result.overrides.isEmpty ? "replay" : "what-if (" + result.overrides.keys.sorted().map { "\($0)=\(result.overrides[$0]!)" }
            .joined(separator: ", ") + ")"
        if let branchedAt, let parent { what = "branch of \(parent) at record \(branchedAt), " + what }
        if let divergence = result.divergence {
            lines.append("\(what) of \(result.runDirectory): first divergence at record \(divergence.index) "
                + "(\(divergence.simTime)\(divergence.agent.map { ", role \($0)" } ?? ""))")
            lines.append("  expected  " + (divergence.expected.map(Self.describe) ?? "(the recorded journal ends here)"))
            lines.append("  actual    " + (divergence.actual.map(Self.describe) ?? "(the replay ends here)"))
            if !divergence.chain.isEmpty { lines.append("  after     " + divergence.chain.joined(separator: " → ")) }
        } else {
            lines.append("\(what) of \(result.runDirectory): no divergence")
        }
        lines.append("  records   \(result.records) replayed, \(result.recordedRecords) recorded")
        lines.append("  digest    \(result.digest) (recorded \(result.recordedDigest))")
        let recorded = Dictionary(result.recordedUseCases.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for outcome in result.useCases {
            lines.append("  use case  \(outcome.id): " + Self.describe(outcome)
                + (recorded[outcome.id].map { " — recorded: " + Self.describe($0) } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ record: LogicalRecord) -> String {
        "\(record.kind) \(record.subject) " + record.fields.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    static func describe(_ outcome: UseCaseOutcome) -> String {
        var text = outcome.state + ((outcome.production ?? outcome.model).map { " \($0)" } ?? "")
        if let retrains = outcome.retrains { text += ", \(retrains) retraining(s)" }
        if let alerts = outcome.alerts { text += ", \(alerts) alert(s)" }
        if let after = outcome.accuracyOnDriftAfterRetrain { text += ", drifted accuracy after retraining \(Self.percent(after))" }
        if let before = outcome.accuracyOnDriftBeforeRetrain { text += ", before \(Self.percent(before))" }
        return text
    }

    static func percent(_ value: Double) -> String { String((value * 10_000).rounded() / 100) + " %" }
}
