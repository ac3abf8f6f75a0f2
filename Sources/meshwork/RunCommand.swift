import Foundation
import ArgumentParser
import Logging
import MeshCore
import MeshRuntime

/// `meshwork run SCENARIO`: the same mesh in one process over inproc://.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the whole mesh in one process (same coordinator and agents, over ZeroMQ inproc://)."
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Flag(name: .long, help: "Print the summary as one JSON object (the last line of stdout).")
    var json = false

    @Option(name: .long, help: "Where run directories go.")
    var runs = "runs"

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        try await CommandFailure.guarding {
            let scenario = try ScenarioLoader.load(path: self.scenario)
            // The compute agents run in this process: give OpenBLAS the kernel `up` gives its compute
            // processes, so both placements compute the same bits (and the same digest).
            if scenario.lifecycle != nil { BLASKernelRelaunch.relaunchIfNeeded(quiet: self.quiet) }
            let run = try RunDirectory.create(root: self.runs, scenario: scenario, scenarioPath: self.scenario)
            if ProcessInfo.processInfo.environment["MESHWORK_GATES_DIR"] == nil { setenv("MESHWORK_GATES_DIR", run.path + "/gates", 1) }
            let summary = try await InProcessMesh.run(scenario: scenario, run: run, showProgress: !self.quiet, logger: logger)
            try finish(with: summary, run: run, json: self.json)
        }
    }
}
