import Foundation
import MeshCore

/// How the report writes numbers and times: fixed decimals, never the locale, never the wall clock.
enum ReportFormat {
    /// `0.9749` as `97.49 %`; a dash when unknown.
    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.2f %%", value * 100)
    }

    /// A number with `digits` decimals; a dash when unknown.
    static func decimal(_ value: Double?, digits: Int) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    /// An integer with thousands separated by commas (`18,744`); a dash when unknown.
    static func integer(_ value: Int?) -> String {
        guard let value else { return "–" }
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(character)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A size in bytes, with KiB for readability.
    static func bytes(_ value: Int?) -> String {
        guard let value else { return "–" }
        if value < 1024 { return "\(value) B" }
        return "\(Self.integer(value)) B (\(String(format: "%.1f", Double(value) / 1024)) KiB)"
    }

    /// Simulated time as calendar text from the simulated epoch (`1970-01-01T06:58:57Z`).
    static func time(_ time: SimTime) -> String { SimClock.iso8601(time) }

    /// Simulated time since the run started: `+2h 18m 07s`, `+1d 06h 58m 57s`.
    static func elapsed(_ time: SimTime) -> String {
        var seconds = time.microseconds / 1_000_000
        let days = seconds / 86_400
        seconds %= 86_400
        let hours = seconds / 3_600
        seconds %= 3_600
        let minutes = seconds / 60
        seconds %= 60
        func two(_ value: UInt64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if days > 0 { return "+\(days)d \(two(hours))h \(two(minutes))m \(two(seconds))s" }
        if hours > 0 { return "+\(hours)h \(two(minutes))m \(two(seconds))s" }
        return "+\(minutes)m \(two(seconds))s"
    }

    /// A simulated duration in hours with one decimal.
    static func hours(from start: SimTime, to end: SimTime) -> Double {
        guard end >= start else { return 0 }
        return Double(end.microseconds - start.microseconds) / 3_600_000_000
    }

    /// A content hash shortened for tables: `sha256:5cb15e403ea2…`.
    static func shortHash(_ hash: String) -> String {
        let bare = hash.hasPrefix("sha256:") ? String(hash.dropFirst(7)) : hash
        return bare.count > 12 ? String(bare.prefix(12)) + "…" : bare
    }

    /// A comma-separated list, or `none`.
    static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    /// Yes or no.
    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
}
