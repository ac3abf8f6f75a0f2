import ArgumentParser
import Logging
import MeshRuntime

/// `meshwork coordinator --bind ENDPOINT --scenario FILE`: the coordinator and forwarder as this process.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator (and the mesh's forwarder) in this process, bound at ENDPOINT.",
        discussion: """
            Prints READY <endpoint> once bound, PROGRESS <json> while the workflow runs and REPORT <json> at the end.
            Agents join with `meshwork agent --role ROLE --connect ENDPOINT`.
            """
    )

    @Option(name: .long, help: "Where to bind, such as ipc:///tmp/m/mesh or tcp://0.0.0.0:5555 (port 0: any free port).")
    var bind: String

    @Option(name: .long, help: "The scenario file (YAML).")
    var scenario: String

    @Option(name: .long, help: "The run directory (default: a new one under runs/).")
    var runDir: String?

    @Flag(name: .long, help: "Go on from the run directory's journal (a restarted coordinator).")
    var resume = false

    @Flag(name: .long, help: "After the workflow finishes, report and keep the mesh up until SIGTERM (meshwork up --hold).")
    var hold = false

    @Option(name: .long, help: "The coordinator's secret key file (meshwork keys generate --id coordinator); required with tcp://.")
    var secretKey: String?

    @Option(name: .long, help: "The roster: the agents admitted, ID: { role: ROLE, key: \"PUBLIC\" } per line; required with tcp://.")
    var roster: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .info)
        try await CommandFailure.guarding {
            let security: CoordinatorSecurity?
            switch (self.secretKey, self.roster) {
            case (let key?, let roster?): security = try CoordinatorSecurity(secretKey: key, roster: roster)
            case (nil, nil): security = nil
            default: throw RuntimeError(.usage, "--secret-key and --roster go together")
            }
            let scenario = try ScenarioLoader.load(path: self.scenario)
            let run = try self.runDir.map { path throws(RuntimeError) in try RunDirectory(existing: path) }
                ?? RunDirectory.create(root: "runs", scenario: scenario, scenarioPath: self.scenario)
            _ = try await CoordinatorProcess.run(
                scenario: scenario, bind: self.bind, run: run, resume: self.resume, hold: self.hold,
                security: security, logger: logger)
        }
    }
}
