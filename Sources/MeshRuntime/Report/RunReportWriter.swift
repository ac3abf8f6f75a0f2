import Foundation
import MeshStore

/// Writes a run's report into its directory: `report.md`, `report.html` and the chart files the
/// Markdown links to (`report-accuracy.svg`).
///
/// `meshwork report RUN_DIR` calls it, and so does the end of `meshwork up` and `meshwork run`
/// (where a failure is only a warning: the run itself succeeded).
///
/// ```swift
/// let files = try RunReportWriter.write(runDirectory: run.path)
/// print(files.html)   // runs/<id>/report.html
/// ```
public enum RunReportWriter {
    /// The files one report is made of.
    public struct Files: Sendable, Equatable {
        /// `report.md`.
        public var markdown: String
        /// `report.html`.
        public var html: String
        /// The SVG charts beside them.
        public var charts: [String]
    }

    /// Reads the run's database (read-only) and writes its report into `runDirectory`.
    ///
    /// - Throws: ``RuntimeError`` with code `journal` when the database cannot be read (naming
    ///   the file), `runDirectory` when a file cannot be written.
    public static func write(runDirectory: String) throws(RuntimeError) -> Files {
        let document: RunReportDocument
        do {
            let store = try RunStore.openReadOnly(at: runDirectory)
            defer { try? store.close() }
            document = try RunReportDocument(store: store)
        } catch {
            throw RuntimeError(.journal, "\(error)")
        }
        return try self.write(document, to: runDirectory)
    }

    /// Writes the report of `document` into `directory` (which must exist).
    ///
    /// - Throws: ``RuntimeError`` with code `runDirectory` naming the file that could not be written.
    public static func write(_ document: RunReportDocument, to directory: String) throws(RuntimeError) -> Files {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var charts: [String] = []
        for chart in document.chartFiles {
            let path = base + "/" + chart.fileName
            try self.write(chart.svg, to: path)
            charts.append(path)
        }
        let files = Files(markdown: base + "/report.md", html: base + "/report.html", charts: charts)
        try self.write(ReportMarkdown.render(document), to: files.markdown)
        try self.write(ReportHTML.render(document), to: files.html)
        return files
    }

    private static func write(_ text: String, to path: String) throws(RuntimeError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw RuntimeError(.runDirectory, "\(path): cannot write the report: \(error.localizedDescription)")
        }
    }
}
