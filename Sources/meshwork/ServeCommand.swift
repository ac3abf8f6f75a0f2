import ArgumentParser
import Foundation
import Logging
import MeshOversight
import MeshRuntime

/// `meshwork serve RUN_DIR`: the oversight page and `/metrics` of a finished run, read-only.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a run's oversight page and /metrics (read-only) until Ctrl-C.",
        discussion: """
            Opens runs/<id>/mesh.sqlite read-only and serves the mesh, use cases, approvals, models, monitoring and \
            report pages and /metrics in the Prometheus text format. Binds 127.0.0.1 on a free port unless --bind says \
            otherwise. Nothing can be decided here: a live mesh's page is the one `meshwork up` prints.
            """
    )

    @Argument(help: "The run's directory (runs/<id>).")
    var runDirectory: String

    @Option(name: .long, help: "HOST:PORT to listen on (port 0: a free one).")
    var bind = "127.0.0.1:0"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = self.logging.bootstrap(defaultLevel: .notice)
        try await CommandFailure.guarding {
            guard FileManager.default.fileExists(atPath: self.runDirectory + "/mesh.sqlite") else {
                throw RuntimeError(.usage, "\(self.runDirectory): not a run directory (no mesh.sqlite)")
            }
            let (host, port) = try OversightServer.Configuration.parseBind(self.bind)
            let server = OversightServer(
                configuration: .init(runDirectory: self.runDirectory, gatesDirectory: nil, host: host, port: port), logger: logger)
            try await server.serveUntilSignalled { url in
                FileHandle.standardOutput.write(Data("oversight: \(url)/ (read-only); Ctrl-C stops it\n".utf8))
            }
        }
    }
}
