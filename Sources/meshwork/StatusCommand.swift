import ArgumentParser
import Foundation
import MeshCore
import MeshRuntime
import MeshStore

/// `meshwork status RUN_DIR`: a run as a person wants to see it, from its database opened
/// read-only — so it works on a finished run and on a running mesh (WAL readers never block the
/// coordinator).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a run: scenario, state, digest, agents and their health, hand-offs, use cases, alerts."
    )

    @Argument(help: "The run's directory (runs/<id>).")
    var runDirectory: String

    @Flag(help: "Print one JSON object (snake_case keys) instead of text.")
    var json = false

    @Flag(help: "Also recompute the logical journal's digest from its records and check every stored one.")
    var verify = false

    @Option(help: "How many recent alerts to show.")
    var alerts: Int = 5

    func run() throws {
        do {
            let store = try RunStore.openReadOnly(at: self.runDirectory)
            let status = try store.status(alertLimit: max(0, self.alerts))
            var verified: String?
            if self.verify {
                let journal = try store.readJournal()
                verified = journal.recomputed.text
            }
            if self.json {
                print(Self.jsonLine(status, verified: verified))
            } else {
                print(Self.text(status, verified: verified))
            }
        } catch {
            ProcessEnvironment.emitError("error: \(error)")
            throw ExitCode(error.code == .notARun ? 2 : 1)
        }
    }

    static func jsonLine(_ status: RunStatus, verified: String?) -> String {
        struct Output: Encodable {
            var status: RunStatus
            var verifiedDigest: String?
            func encode(to encoder: any Encoder) throws {
                try self.status.encode(to: encoder)
                if let verifiedDigest {
                    var container = encoder.container(keyedBy: Key.self)
                    try container.encode(verifiedDigest, forKey: Key(stringValue: "verifiedDigest"))
                }
            }
            struct Key: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? String(decoding: encoder.encode(Output(status: status, verifiedDigest: verified)), as: UTF8.self)) ?? "{}"
    }

    static func text(_ status: RunStatus, verified: String?) -> String {
        var lines: [String] = []
        lines.append("\(status.runID) — \(status.scenario) (seed \(status.seed)), \(status.state.rawValue)")
        var digest = "  digest     \(status.digest ?? "none yet") (\(status.records) records)"
        if let verified { digest += verified == status.digest ? ", verified" : ", recomputed \(verified)" }
        lines.append(digest)
        lines.append("  started    \(status.startedAt)" + (status.endedAt.map { ", ended \($0)" } ?? ""))
        if let pid = status.writerPID {
            let role = status.state == .running ? "writer" : "last writer"
            lines.append("  \(role.padding(toLength: 10, withPad: " ", startingAt: 0)) pid \(pid) on \(status.writerHost ?? "?")")
        }
        // One line per agent id: its latest incarnation, and how many it had.
        let byID = Dictionary(grouping: status.agents, by: \.id)
        let up = byID.values.filter { $0.last?.departure == nil }.count
        lines.append("  agents     \(byID.count) (\(up) not departed)")
        for id in byID.keys.sorted() {
            let incarnations = byID[id]!
            let agent = incarnations.last!
            var line = "    " + id.padding(toLength: 14, withPad: " ", startingAt: 0)
            line += agent.role.padding(toLength: 11, withPad: " ", startingAt: 0)
            line += agent.health.padding(toLength: 20, withPad: " ", startingAt: 0)
            line += "pid \(agent.pid.map(String.init) ?? "?") on \(agent.host ?? "?")"
            if let seen = agent.lastSeen { line += ", last seen \(seen)" }
            if incarnations.count > 1 { line += " (\(incarnations.count) incarnations)" }
            lines.append(line)
        }
        let handoffs = status.handoffs
        lines.append(
            "  hand-offs  \(handoffs.done) done, \(handoffs.failed) failed, \(handoffs.inFlight) in flight, \(handoffs.duplicates) applied twice")
        if status.useCases.isEmpty {
            lines.append("  use cases  none")
        } else {
            lines.append("  use cases  \(status.useCases.count)")
            for useCase in status.useCases { lines.append("    \(useCase.id): \(useCase.stage) (\(useCase.name))") }
        }
        if status.alerts.isEmpty {
            lines.append("  alerts     none")
        } else {
            lines.append("  alerts     \(status.alerts.count) most recent")
            for alert in status.alerts {
                lines.append("    \(alert.state.rawValue) \(alert.rule) on \(alert.subject) since \(alert.since)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
