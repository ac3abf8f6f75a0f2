import ArgumentParser
import MeshRuntime

/// `meshwork report RUN_DIR`: writes the run's report (`report.md`, `report.html`, the accuracy
/// chart) into its directory, from its database opened read-only.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: report.md and report.html (with inline SVG charts) in its directory.",
        discussion: """
            Everything comes from the run's database (mesh.sqlite), read-only: the timeline, data, model search, \
            evaluation, quantization, serving, monitoring, alerts and decisions of each use case. `meshwork up` and \
            `meshwork run` write the same report when they finish.
            """
    )

    @Argument(help: "The run's directory (runs/<id>).")
    var runDirectory: String

    func run() throws {
        do {
            let files = try RunReportWriter.write(runDirectory: self.runDirectory)
            print(files.markdown)
            print(files.html)
            for chart in files.charts { print(chart) }
        } catch {
            ProcessEnvironment.emitError("error: \(error)")
            // A path that is not a run is a usage error, as for `meshwork status`.
            throw ExitCode(error.reason.contains("not a run directory") ? 2 : 1)
        }
    }
}
