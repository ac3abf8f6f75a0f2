import ArgumentParser
import Logging
import Foundation
import MeshCore
import MeshOversight
import MeshRuntime

/// `meshwork up SCENARIO`: the mesh as separate processes, supervised.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the mesh as processes (coordinator + one per agent), supervise it, and run the scenario.",
        discussion: """
            Starts the coordinator and one process per agent instance, restarts crashed agents within the
            scenario's restart intensity, injects its faults, and stops everything on Ctrl-C/SIGTERM.
            Everything the run produced is in runs/<run-id>/.
            """
    )

    @Argument(help: "The scenario file (YAML), such as scenarios/relay.yaml (not with --resume).")
    var scenario: String?

    @Option(name: .long, help: "Resume the run in this directory from its journal (after its coordinator died).")
    var resume: String?

    @Flag(name: .long, help: "Print the summary as one JSON object (the last line of stdout).")
    var json = false

    @Option(name: .long, help: "Where run directories go.")
    var runs = "runs"

    @Option(name: .long, help: "The mesh's address (default: a fresh ipc:// path under /tmp).")
    var endpoint: String?

    @Option(name: .long, help: "A hosts file (YAML): run the processes on several hosts over tcp (docs/MULTI-HOST.md).")
    var hosts: String?

    @Flag(name: .long, help: "After the workflow finishes, keep the mesh up (the inference API answers) until Ctrl-C.")
    var hold = false

    @Option(name: .long, help: "HOST:PORT of the oversight page and /metrics (port 0: a free one).")
    var oversightBind = "127.0.0.1:0"

    @Flag(name: .long, help: "Do not start the oversight page.")
    var noOversight = false

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .warning)
        try await CommandFailure.guarding {
            let run: RunDirectory
            let scenarioPath: String
            let scenario: Scenario
            switch (self.scenario, self.resume) {
            case (let path?, nil):
                scenarioPath = path
                scenario = try ScenarioLoader.load(path: path)
                run = try RunDirectory.create(root: self.runs, scenario: scenario, scenarioPath: path)
            case (nil, let directory?):
                run = try RunDirectory(existing: directory)
                scenarioPath = run.scenarioPath
                scenario = try ScenarioLoader.load(path: scenarioPath)
            default:
                throw RuntimeError(.usage, "give a scenario file, or --resume RUN_DIR (not both)")
            }
            // Live gates (`human: { live: true }`) wait in the run directory unless told otherwise.
            if ProcessInfo.processInfo.environment["MESHWORK_GATES_DIR"] == nil { setenv("MESHWORK_GATES_DIR", run.path + "/gates", 1) }
            // Every process of the run logs its id (`mesh.run`).
            setenv("MESHWORK_RUN_ID", run.id, 1)
            var options = Supervisor.Options()
            if let path = self.hosts {
                guard self.endpoint == nil else { throw RuntimeError(.usage, "--hosts and --endpoint: the hosts file says where the mesh binds") }
                let hosts = try ScenarioLoader.decode(HostsFile.self, path: path)
                try hosts.check(against: scenario, file: path)
                options.hosts = hosts
            }
            let endpoint = try self.endpoint ?? options.hosts?.endpoint ?? Self.freshIPCEndpoint(run: run)
            defer { if self.endpoint == nil { Self.removeIPCDirectory(endpoint) } }
            options.showProgress = !self.quiet
            options.resume = self.resume != nil
            let json = self.json
            if self.hold {
                options.hold = { summary, services in
                    try? finish(with: summary, run: run, json: json)
                    Self.printServices(services, summary: summary)
                }
            }
            let oversight = try await self.startOversight(run: run, logger: logger)
            let supervisor = Supervisor(
                scenario: scenario, scenarioPath: scenarioPath, run: run, endpoint: endpoint, options: options, logger: logger)
            let summary: RunSummary
            do {
                summary = try await supervisor.run()
            } catch {
                await oversight?.stop()
                throw error
            }
            await oversight?.stop()
            if !self.hold { try finish(with: summary, run: run, json: self.json) }
        }
    }

    /// Starts the oversight page of `run` (unless `--no-oversight`), prints its address with the
    /// token on stderr, and writes both to `runs/<id>/oversight.json` (mode 0600) for scripts.
    func startOversight(run: RunDirectory, logger: Logger) async throws -> OversightServer? {
        guard !self.noOversight else { return nil }
        let (host, port) = try OversightServer.Configuration.parseBind(self.oversightBind)
        let gates = ProcessInfo.processInfo.environment["MESHWORK_GATES_DIR"] ?? run.path + "/gates"
        let server = OversightServer(
            configuration: .init(runDirectory: run.path, gatesDirectory: gates, host: host, port: port), logger: logger)
        let url: String
        do {
            url = try await server.start()
        } catch {
            throw RuntimeError(.usage, "cannot start the oversight page on \(self.oversightBind): \(error)")
        }
        let file = run.path + "/oversight.json"
        let record = ["url": url, "token": server.token, "pid": String(getpid())]
        if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
            _ = FileManager.default.createFile(atPath: file, contents: data, attributes: [.posixPermissions: 0o600])
        }
        FileHandle.standardError.write(Data("oversight: \(server.loginURL ?? url)  (metrics: \(url)/metrics)\n".utf8))
        return server
    }

    /// A short ipc:// path (sun_path holds 107 bytes) in a directory of its own.
    static func freshIPCEndpoint(run: RunDirectory) throws -> String {
        let directory = "/tmp/meshwork-\(Hex.sha256(Array(run.path.utf8)).prefix(12))"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError(.transport, "\(directory): cannot create the mesh's socket directory: \(error.localizedDescription)")
        }
        return "ipc://\(directory)/mesh"
    }

    static func removeIPCDirectory(_ endpoint: String) {
        guard endpoint.hasPrefix("ipc://") else { return }
        let directory = (String(endpoint.dropFirst(6)) as NSString).deletingLastPathComponent
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Prints where the agents' services answer (on stderr: stdout ends with the summary).
    static func printServices(_ services: [String: String], summary: RunSummary) {
        let models = Set(summary.useCases.compactMap { $0.production?.split(separator: "@").first.map(String.init) })
        var lines = ["the mesh is up; Ctrl-C stops it"]
        for key in services.keys.sorted() {
            let url = services[key]!
            lines.append("  \(key): \(url)")
            if key.hasSuffix(".inference") {
                lines.append("    curl \(url)/v2/health/ready")
                for model in models.sorted() {
                    lines.append("    curl \(url)/v2/models/\(model)")
                    lines.append("    curl -X POST \(url)/v2/models/\(model)/infer -H 'Content-Type: application/json' \\")
                    lines.append("      -d '{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[...64 values...]}]}'")
                }
            }
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
