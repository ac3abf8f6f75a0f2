import Foundation

/// Renders a run's report as Markdown (CommonMark with GitHub tables), `report.md`.
///
/// Charts are not inlined: each is an image link to its SVG file beside the report (see
/// ``RunReportDocument/chartFiles``). Every value from the journal is escaped, so a reason
/// holding Markdown or HTML shows as text.
public enum ReportMarkdown {
    /// The report's Markdown text.
    public static func render(_ document: RunReportDocument) -> String {
        let blocks = ReportLayout.blocks(for: document, charts: document.charts)
        var text = ""
        for block in blocks { self.append(block, to: &text) }
        // One newline at the end, however the last block ended.
        while text.hasSuffix("\n\n") { text.removeLast() }
        return text
    }

    private static func append(_ block: ReportBlock, to text: inout String) {
        switch block {
        case .heading(let level, let heading):
            text += String(repeating: "#", count: max(1, min(6, level))) + " " + self.escape(heading) + "\n\n"
        case .paragraph(let inlines):
            text += self.inline(inlines, inTable: false) + "\n\n"
        case .bullets(let items):
            for item in items { text += "- " + self.inline(item, inTable: false) + "\n" }
            text += "\n"
        case .table(let header, let rows):
            text += "| " + header.map { self.escape($0) }.joined(separator: " | ") + " |\n"
            text += "|" + String(repeating: " --- |", count: header.count) + "\n"
            for row in rows {
                var cells = row.map { self.inline($0, inTable: true) }
                // A short row would shift the columns: pad it.
                while cells.count < header.count { cells.append("") }
                text += "| " + cells.joined(separator: " | ") + " |\n"
            }
            text += "\n"
        case .chart(let chart):
            text += "![" + self.escape(chart.caption) + "](" + self.linkTarget(chart.fileName) + ")\n\n"
        case .code(let code):
            let fence = code.contains("```") ? "~~~~" : "```"
            text += fence + "sh\n" + code + "\n" + fence + "\n\n"
        case .details(let summary, let blocks):
            text += "<details>\n<summary>" + ReportHTML.escape(summary) + "</summary>\n\n"
            for block in blocks { self.append(block, to: &text) }
            text += "</details>\n\n"
        }
    }

    private static func inline(_ inlines: [ReportInline], inTable: Bool) -> String {
        var text = ""
        for inline in inlines {
            switch inline {
            case .text(let value): text += self.escape(value)
            case .strong(let value): text += "**" + self.escape(value) + "**"
            case .code(let value): text += self.codeSpan(value, inTable: inTable)
            }
        }
        return text
    }

    /// A code span whose fence is longer than any run of backticks inside it.
    static func codeSpan(_ value: String, inTable: Bool) -> String {
        var content = self.singleLine(value)
        // GitHub splits table cells at `|` even inside code spans; `\|` keeps it in the cell.
        if inTable { content = content.replacingOccurrences(of: "|", with: "\\|") }
        var longest = 0
        var run = 0
        for character in content {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let padded = content.hasPrefix("`") || content.hasSuffix("`") ? " \(content) " : content
        return fence + (padded.isEmpty ? " " : padded) + fence
    }

    /// Text escaped so Markdown shows it as written: on one line, no emphasis, links, HTML or cell breaks (`>` is
    /// left alone: no line of the report starts with a value).
    static func escape(_ value: String) -> String {
        let characters = Array(self.singleLine(value))
        var escaped = ""
        for (index, character) in characters.enumerated() {
            switch character {
            case "\\", "`", "*", "[", "]", "<", "|", "~":
                escaped += "\\" + String(character)
            case "_":
                // Inside a word an underscore is literal (macro_f1); at a word's edge it could start emphasis.
                let before = index > 0 ? characters[index - 1] : " "
                let after = index + 1 < characters.count ? characters[index + 1] : " "
                let inWord = (before.isLetter || before.isNumber) && (after.isLetter || after.isNumber)
                escaped += inWord ? "_" : "\\_"
            case "&":
                // Only what could read as an entity reference needs it.
                let after = index + 1 < characters.count ? characters[index + 1] : " "
                escaped += after.isLetter || after == "#" ? "\\&" : "&"
            default:
                escaped.append(character)
            }
        }
        return escaped
    }

    /// A relative link target, with characters that would end the link percent-encoded.
    private static func linkTarget(_ fileName: String) -> String {
        var target = ""
        for scalar in fileName.unicodeScalars {
            switch scalar {
            case " ": target += "%20"
            case "(": target += "%28"
            case ")": target += "%29"
            case "<": target += "%3C"
            case ">": target += "%3E"
            default: target.unicodeScalars.append(scalar)
            }
        }
        return target
    }

    private static func singleLine(_ value: String) -> String {
        String(value.map { $0.isNewline ? " " : $0 })
    }
}
