import ArgumentParser
import Foundation
import MeshCore
import MeshRuntime

/// Where a command finds live gates: `--run DIR`, else every run under `runs/`.
struct GateLocation: ParsableArguments {
    @Option(name: .long, help: "The run's directory (default: look in every run under --runs).")
    var run: String?

    @Option(name: .long, help: "Where run directories are.")
    var runs = "runs"

    var directories: [String] {
        if let run = self.run { return [run + "/gates"] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.runs)) ?? []
        return names.sorted().map { self.runs + "/" + $0 + "/gates" }
    }

    /// The gates holding `id`, or a usage error naming what is waiting.
    func gates(holding id: String) throws -> LiveGates {
        for directory in self.directories {
            let gates = LiveGates(directory: directory)
            if (try? gates.pending())?.contains(where: { $0.id == id }) == true { return gates }
        }
        let waiting = self.directories.flatMap { ((try? LiveGates(directory: $0).pending()) ?? []).map(\.id) }
        throw RuntimeError(
            .usage, "no gate \(id) is waiting" + (waiting.isEmpty ? " (none is)" : "; waiting: " + waiting.joined(separator: ", ")))
    }
}

/// `meshwork gates`: the gates waiting for a person in a live mesh (`human: { live: true }`).
struct GatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gates", abstract: "List the human gates waiting for a decision in live meshes.")

    @OptionGroup var location: GateLocation

    func run() async throws {
        try await CommandFailure.guarding {
            var any = false
            for directory in self.location.directories {
                for gate in try LiveGates(directory: directory).pending() {
                    any = true
                    print("\(gate.id)  \(gate.request.gate.rawValue) for \(gate.request.useCase) — the evidence "
                        + (gate.request.recommendation ? "recommends approval" : "recommends rejection"))
                    for line in gate.request.evidence { print("    \(line)") }
                }
            }
            if !any { print("no gate is waiting") }
        }
    }
}

/// `meshwork approve ID`: approves a waiting gate.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a waiting human gate.")

    @Argument(help: "The gate's id (see meshwork gates).")
    var id: String

    @Option(name: .long, help: "Who decides (journaled).")
    var who = ProcessInfo.processInfo.environment["USER"] ?? "operator"

    @Option(name: .long, help: "Why (journaled).")
    var reason = "approved"

    @OptionGroup var location: GateLocation

    func run() async throws {
        try await CommandFailure.guarding {
            try self.location.gates(holding: self.id).decide(self.id, GateDecision(approved: true, who: self.who, reason: self.reason))
            print("approved \(self.id)")
        }
    }
}

/// `meshwork reject ID --reason …`: rejects a waiting gate.
struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a waiting human gate, with a reason.")

    @Argument(help: "The gate's id (see meshwork gates).")
    var id: String

    @Option(name: .long, help: "Who decides (journaled).")
    var who = ProcessInfo.processInfo.environment["USER"] ?? "operator"

    @Option(name: .long, help: "Why (journaled; required).")
    var reason: String

    @OptionGroup var location: GateLocation

    func run() async throws {
        try await CommandFailure.guarding {
            try self.location.gates(holding: self.id).decide(self.id, GateDecision(approved: false, who: self.who, reason: self.reason))
            print("rejected \(self.id)")
        }
    }
}
