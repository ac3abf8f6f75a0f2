import ArgumentParser
import Foundation
import Logging
import MeshAgents
import MeshCore
import MeshRuntime

/// Options every mesh-running command shares.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log format on stderr: text, or json (one object a line; children of up inherit it).")
    var logFormat: String?

    /// Bootstraps swift-log on stderr at the chosen level and format (once per process). Every
    /// record carries `mesh.run` when the process belongs to a run (`MESHWORK_RUN_ID`, set by `up`),
    /// and `mesh.sim`, the simulated time the process last saw (``SimulatedTimeMetadata``).
    func bootstrap(defaultLevel: Logger.Level) -> Logger {
        let level = self.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        let environment = ProcessInfo.processInfo.environment
        let json = (self.logFormat ?? environment["MESHWORK_LOG_FORMAT"]) == "json"
        if let format = self.logFormat { setenv("MESHWORK_LOG_FORMAT", format, 1) }
        LoggingSystem.bootstrap(
            { label, provider in
                var handler: any LogHandler =
                    json
                    ? JSONLogHandler(label: label, metadataProvider: provider)
                    : StreamLogHandler.standardError(label: label, metadataProvider: provider)
                handler.logLevel = level
                if let run = ProcessInfo.processInfo.environment["MESHWORK_RUN_ID"] { handler[metadataKey: "mesh.run"] = .string(run) }
                return handler
            }, metadataProvider: SimulatedTimeMetadata.provider)
        return Logger(label: "meshwork")
    }
}

/// Turns the errors of the runtime into one line on stderr and an exit code, never a stack trace.
enum CommandFailure {
    /// Runs `body`, mapping scenario errors to exit code 2 and runtime errors to exit code 1.
    static func guarding<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ScenarioError {
            ProcessEnvironment.emitError("error: \(error)")
            throw ExitCode(2)
        } catch let error as RuntimeError {
            ProcessEnvironment.emitError("error: \(error)")
            throw ExitCode(error.code == .usage ? 2 : 1)
        } catch let error as ExitCode {
            throw error
        } catch {
            ProcessEnvironment.emitError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Prints a summary as `up` and `run` do: text for people, and with `--json` one JSON object as the
/// last line of stdout. Writes the run's report beside it (a report that cannot be written is a
/// warning on stderr, never a failed run). Exits non-zero when anything was lost or applied twice.
func finish(with summary: RunSummary, run: RunDirectory, json: Bool) throws {
    try run.writeSummary(summary.jsonLine())
    var report: String?
    do {
        report = try RunReportWriter.write(runDirectory: run.path).html
    } catch {
        ProcessEnvironment.emitError("warning: no report: \(error)")
    }
    if json {
        if let report { ProcessEnvironment.emitError("report: \(report)") }
        print(summary.jsonLine())
    } else {
        print(summary.text() + (report.map { "\n  report      \($0)" } ?? ""))
    }
    if !summary.isClean { throw ExitCode(1) }
}
