/// Renders a run's report as one self-contained HTML page, `report.html`: inline CSS and inline
/// SVG charts, no script, nothing fetched from elsewhere.
///
/// Every value from the journal is escaped, so a reason holding `<script>` shows as text.
public enum ReportHTML {
    /// The page's text.
    public static func render(_ document: RunReportDocument) -> String {
        let blocks = ReportLayout.blocks(for: document, charts: document.charts)
        var ids: [String: Int] = [:]
        var body = ""
        for block in blocks { self.append(block, to: &body, ids: &ids) }
        let title = "Meshwork run report: \(document.header.scenario) (\(document.header.runID))"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(self.escape(title))</title>
            <style>
            \(self.style)
            </style>
            </head>
            <body>
            <main>
            \(body)</main>
            </body>
            </html>

            """
    }

    static let style = """
        body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #fafafa; }
        main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; background: #fff; }
        h1 { font-size: 26px; margin-top: 0; }
        h2 { font-size: 21px; margin-top: 40px; padding-top: 12px; border-top: 2px solid #e4e4e4; }
        h3 { font-size: 17px; margin-top: 28px; }
        code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f2f2f2; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
        pre { background: #f2f2f2; padding: 12px 14px; border-radius: 4px; overflow-x: auto; }
        pre code { background: none; padding: 0; }
        .table { overflow-x: auto; margin: 12px 0; }
        table { border-collapse: collapse; font-size: 13.5px; }
        th, td { border: 1px solid #dcdcdc; padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #f4f4f4; font-weight: 600; }
        tbody tr:nth-child(even) td { background: #fbfbfb; }
        figure { margin: 16px 0; }
        figure svg { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
        figcaption { font-size: 13px; color: #666; }
        details { margin: 12px 0; }
        summary { cursor: pointer; color: #1f5fa8; }
        """

    private static func append(_ block: ReportBlock, to html: inout String, ids: inout [String: Int]) {
        switch block {
        case .heading(let level, let text):
            let tag = "h\(max(1, min(6, level)))"
            var id = "section-" + AccuracyChart.identifier(text.lowercased())
            if let count = ids[id] {
                ids[id] = count + 1
                id += "-\(count + 1)"
            } else {
                ids[id] = 1
            }
            html += "<\(tag) id=\"\(self.escape(id))\">\(self.escape(text))</\(tag)>\n"
        case .paragraph(let inlines):
            html += "<p>\(self.inline(inlines))</p>\n"
        case .bullets(let items):
            html += "<ul>\n" + items.map { "<li>\(self.inline($0))</li>\n" }.joined() + "</ul>\n"
        case .table(let header, let rows):
            html += "<div class=\"table\"><table>\n<thead><tr>"
            html += header.map { "<th>\(self.escape($0))</th>" }.joined()
            html += "</tr></thead>\n<tbody>\n"
            for row in rows { html += "<tr>" + row.map { "<td>\(self.inline($0))</td>" }.joined() + "</tr>\n" }
            html += "</tbody>\n</table></div>\n"
        case .chart(let chart):
            html +=
                "<figure>\n\(chart.chart.render())<figcaption>\(self.escape(chart.caption))</figcaption>\n</figure>\n"
        case .code(let code):
            html += "<pre><code>\(self.escape(code))</code></pre>\n"
        case .details(let summary, let blocks):
            html += "<details>\n<summary>\(self.escape(summary))</summary>\n"
            for block in blocks { self.append(block, to: &html, ids: &ids) }
            html += "</details>\n"
        }
    }

    private static func inline(_ inlines: [ReportInline]) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let value): self.escape(value)
            case .code(let value): "<code>\(self.escape(value))</code>"
            case .strong(let value): "<strong>\(self.escape(value))</strong>"
            }
        }.joined()
    }

    /// Text escaped for HTML content and quoted attribute values (`&`, `<`, `>`, `"`, `'`).
    public static func escape(_ text: String) -> String { SVGChart.escape(text) }
}
