import Foundation
import MeshCore

/// Small helpers for server-rendered HTML: escaping, simulated and wall times, the page frame.
enum HTML {
    /// Escapes text for an element's content or a quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A simulated time (µs since the scenario started) as `d+h:mm` hours, e.g. `31.25 h`.
    static func simTime(_ time: SimTime?) -> String {
        guard let time else { return "–" }
        return String(format: "%.2f h", self.hours(time))
    }

    /// Simulated hours since the scenario started.
    static func hours(_ time: SimTime) -> Double { Double(time.microseconds) / 3_600_000_000 }

    /// Parses the store's wall times (ISO-8601 UTC with milliseconds).
    static func wallDate(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Seconds between a stored wall time and `now`, as `3.2 s` / `4 min`.
    static func age(_ text: String?, now: Date) -> String {
        guard let date = self.wallDate(text) else { return "–" }
        let seconds = max(0, now.timeIntervalSince(date))
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    /// A table from a header and rows of already-escaped cells.
    static func table(_ header: [String], _ rows: [[String]], empty: String = "none") -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(self.escape(empty))</p>" }
        var html = "<table><thead><tr>" + header.map { "<th>\(self.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>" }
        return html + "</tbody></table>"
    }

    /// The `[[name, value], …]` fields of a journal record.
    static func fields(_ record: LogicalRecord) -> [(String, String)] {
        record.fields.map { ($0.name, $0.value) }
    }

    /// A JSON object's string values (metrics, hyperparameters, evidence).
    static func object(_ json: String?) -> [(String, String)] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [] }
        return object.keys.sorted().map { ($0, (object[$0] as? String) ?? "\(object[$0]!)") }
    }

    /// `name=value` pairs, escaped, joined by commas.
    static func pairs(_ pairs: [(String, String)], limit: Int = 12) -> String {
        pairs.prefix(limit).map { "\(self.escape($0.0))=<b>\(self.escape($0.1))</b>" }.joined(separator: ", ")
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
        header{background:#263238;color:#fff;padding:10px 20px}
        header h1{font-size:18px;margin:0 0 6px 0}
        nav a{color:#cfd8dc;margin-right:14px;text-decoration:none}
        nav a.here{color:#fff;font-weight:bold;border-bottom:2px solid #80cbc4}
        main{padding:12px 20px}
        table{border-collapse:collapse;margin:8px 0 16px 0;background:#fff;font-size:13px}
        th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#eceff1}
        .empty{color:#777;font-style:italic}
        .gate{background:#fff;border:1px solid #ffb74d;border-left:6px solid #ff9800;padding:8px 12px;margin:10px 0}
        .gate form{margin-top:8px}
        .gate input[type=text]{width:28em}
        .ok{color:#2e7d32}.bad{color:#c62828}.warn{color:#ef6c00}
        .chain li{margin:4px 0}
        code{font-size:12px}
        .banner{padding:8px 12px;margin:8px 0;background:#e8f5e9;border:1px solid #a5d6a7}
        .error{padding:8px 12px;margin:8px 0;background:#ffebee;border:1px solid #ef9a9a}
        """

    /// The whole page: header with the run, navigation, and `body`.
    static func page(title: String, here: String, run: String, live: Bool, refresh: Bool, body: String) -> String {
        let links = [("/", "mesh"), ("/usecases", "use cases"), ("/approvals", "approvals"), ("/models", "models"),
                     ("/monitoring", "monitoring"), ("/report", "report"), ("/metrics", "metrics")]
        let nav = links.map { "<a href=\"\($0.0)\"\($0.0 == here ? " class=\"here\"" : "")>\($0.1)</a>" }.joined()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(self.escape(title)) · meshwork</title>
            \(refresh ? "<meta http-equiv=\"refresh\" content=\"5\">" : "")
            <style>\(self.style)</style></head>
            <body><header><h1>meshwork oversight — \(self.escape(run))\(live ? "" : " (read-only)")</h1><nav>\(nav)</nav></header>
            <main>
            \(body)
            </main></body></html>
            """
    }
}
