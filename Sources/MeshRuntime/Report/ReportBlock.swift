/// A piece of text in a report block: plain, code or bold. Renderers escape it.
enum ReportInline: Sendable, Equatable {
    /// Plain text.
    case text(String)
    /// An identifier, hash or command, in a monospace font.
    case code(String)
    /// Emphasized text.
    case strong(String)
}

/// A chart of the report: drawn inline in HTML, written beside `report.md` as `fileName`.
struct ReportChart: Sendable, Equatable {
    /// The file `report.md` links to, relative to the run directory.
    var fileName: String
    /// The link's alternative text and the figure's caption.
    var caption: String
    /// The chart.
    var chart: SVGChart
}

/// The report's layout, independent of its format: ``ReportMarkdown`` and ``ReportHTML`` render
/// the same blocks, so both files say the same.
enum ReportBlock: Sendable, Equatable {
    /// A heading; level 1 is the title, 2 a use case, 3 a stage.
    case heading(level: Int, text: String)
    /// A paragraph.
    case paragraph([ReportInline])
    /// A bulleted list, one item per element.
    case bullets([[ReportInline]])
    /// A table: column titles, then rows of cells.
    case table(header: [String], rows: [[[ReportInline]]])
    /// A chart.
    case chart(ReportChart)
    /// A block of code or a shell command, shown verbatim.
    case code(String)
    /// Blocks folded away behind a summary line.
    case details(summary: String, blocks: [ReportBlock])
}

extension [ReportInline] {
    /// Plain text as a one-element inline list.
    static func plain(_ text: String) -> [ReportInline] { [.text(text)] }
}
