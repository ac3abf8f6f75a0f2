import ArgumentParser
import Foundation
import Logging
import MeshCore
import MeshRuntime

/// `meshwork bench`: the whole mesh measured, each figure next to its limit measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the mesh: negotiated hand-offs/s through `up`, beside a raw libzmq relay of the same shape."
    )

    @Option(name: .long, help: "Messages through the raw libzmq relay.")
    var messages = 1_000_000

    @Option(name: .long, help: "The relay scenario whose hand-offs are measured through `meshwork up`.")
    var scenario = "scenarios/relay.yaml"

    @Option(name: .long, help: "Where the benchmark's run directories go.")
    var runs = "runs"

    @Flag(name: .long, help: "Print the figures as one JSON object (the last line of stdout).")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        try await CommandFailure.guarding {
            ProcessEnvironment.emitError("bench: raw libzmq relay, 5 hops across 6 processes, \(self.messages) × 64 B …")
            let raw = try await RelayBenchmark.runRaw(messages: self.messages, size: 64)
            ProcessEnvironment.emitError("bench: negotiated hand-offs through `meshwork up \(self.scenario)` …")
            let scenario = try ScenarioLoader.load(path: self.scenario)
            let run = try RunDirectory.create(root: self.runs, scenario: scenario, scenarioPath: self.scenario)
            let endpoint = try UpCommand.freshIPCEndpoint(run: run)
            defer { UpCommand.removeIPCDirectory(endpoint) }
            var options = Supervisor.Options()
            options.showProgress = false
            let summary = try await Supervisor(
                scenario: scenario, scenarioPath: self.scenario, run: run, endpoint: endpoint, options: options, logger: logger
            ).run()
            try run.writeSummary(summary.jsonLine())
            let figures: [String: Double] = [
                "raw_relay_msgs_per_s": raw.messagesPerSecond.rounded(),
                "handoffs_per_s": summary.handoffsPerSecond,
                "handoff_messages_per_s": (summary.handoffsPerSecond * 6).rounded(),
                "handoffs_vs_raw_ratio": (summary.handoffsPerSecond / max(1, raw.messagesPerSecond) * 10_000).rounded() / 10_000,
            ]
            if self.json {
                let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("""
                    raw libzmq relay (5 hops, 6 processes, 64 B)   \(Int(raw.messagesPerSecond)) msgs/s
                    negotiated hand-offs through `meshwork up`      \(Int(summary.handoffsPerSecond)) /s \
                    (each: call, bid, award, accept, result, ack)
                    ratio hand-offs / raw messages                  \(figures["handoffs_vs_raw_ratio"]!)
                    run                                             \(run.path)
                    """)
            }
            if !summary.isClean { throw ExitCode(1) }
        }
    }
}

/// `meshwork bench-stage`: one stage of the raw relay benchmark (started by `meshwork bench`).
struct BenchStageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-stage", abstract: "One stage of the raw libzmq relay benchmark.", shouldDisplay: false)

    @Option(name: .long) var stage: String
    @Option(name: .long) var input: String?
    @Option(name: .long) var output: String?
    @Option(name: .long) var count = 0
    @Option(name: .long) var size = 64

    func run() throws {
        guard let stage = RelayBenchmark.Stage(rawValue: self.stage) else {
            throw ValidationError("--stage must be source, hop or sink")
        }
        print(try RelayBenchmark.runStage(stage, input: self.input, output: self.output, count: self.count, size: self.size))
    }
}
