import MeshCore

/// The monitoring chart of a use case: held-out accuracy per window (x = the window's hour since
/// monitoring started, y = 0…1), bars for the features the KS test flagged, a marker at the
/// scripted drift's hour and one at each promotion.
enum AccuracyChart {
    static let accuracyColor = "#1f77b4"
    static let flaggedColor = "#ff7f0e"
    static let driftColor = "#d62728"
    static let promotionColor = "#2ca02c"

    /// The chart, or nil when the use case recorded no monitoring window.
    static func make(for useCase: UseCaseReport, fileName: String) -> ReportChart? {
        guard !useCase.windows.isEmpty else { return nil }
        let windows = useCase.windows
        let lastWindow = Double(windows.map(\.window).max() ?? 0)
        let hours = Double(useCase.monitoring?.hours ?? 0)
        let upper = max(1, hours, lastWindow + 1)
        var chart = SVGChart(
            id: "accuracy-" + Self.identifier(useCase.id),
            title: "\(useCase.id): held-out accuracy per monitoring window",
            summary: Self.summary(useCase),
            xLabel: "hours since monitoring started (one window per hour)", yLabel: "held-out accuracy",
            xRange: 0...upper)
        chart.lines = [
            SVGChart.Line(
                name: "held-out accuracy", color: Self.accuracyColor,
                points: windows.compactMap { window in
                    window.heldOutAccuracy.map { accuracy in
                        SVGChart.Point(
                            x: Double(window.window), y: accuracy,
                            label:
                                "window \(window.window), v\(window.version): held-out \(ReportFormat.percent(accuracy)), "
                                + "\(window.ksFlagged.map(String.init) ?? "–") features flagged by KS")
                    }
                })
        ]
        let flagged = windows.compactMap { window in window.ksFlagged.map { (window.window, $0) } }
        if !flagged.isEmpty {
            let features = useCase.datasets.last?.features ?? 0
            let most = flagged.map(\.1).max() ?? 0
            // The axis runs to the feature count, or else to a multiple of 4 (whole tick labels).
            let maximum = features >= most && features > 0 ? features : max(4, (most + 3) / 4 * 4)
            chart.bars = SVGChart.Bars(
                name: features > 0 ? "features flagged by KS (of \(features))" : "features flagged by KS",
                color: Self.flaggedColor, maximum: Double(maximum),
                points: flagged.map { window, count in
                    SVGChart.Point(
                        x: Double(window), y: Double(count), label: "window \(window): \(count) features flagged by KS")
                })
        }
        if let plan = useCase.monitoring, let hour = plan.driftAtHour {
            chart.markers.append(
                SVGChart.Marker(x: Double(hour), label: "drift scripted at hour \(hour)", color: Self.driftColor))
        }
        if let start = useCase.monitoring?.time {
            for promotion in useCase.promotions where promotion.time >= start {
                let version = promotion.version.split(separator: "@").last.map(String.init) ?? promotion.version
                chart.markers.append(
                    SVGChart.Marker(
                        x: ReportFormat.hours(from: start, to: promotion.time), label: "\(version) promoted",
                        color: Self.promotionColor))
            }
        }
        return ReportChart(
            fileName: fileName, caption: "Held-out accuracy per monitoring window (\(useCase.id))", chart: chart)
    }

    /// A one-paragraph reading of the chart for screen readers.
    static func summary(_ useCase: UseCaseReport) -> String {
        let heldOut = useCase.windows.compactMap(\.heldOutAccuracy)
        var text =
            "\(useCase.windows.count) windows; held-out accuracy from \(ReportFormat.percent(heldOut.min())) "
            + "to \(ReportFormat.percent(heldOut.max()))."
        if let hour = useCase.monitoring?.driftAtHour { text += " Drift scripted at hour \(hour)." }
        let promoted = useCase.promotions.map(\.version)
        if !promoted.isEmpty { text += " Promotions: \(promoted.joined(separator: ", "))." }
        return text
    }

    /// `id` with only letters, digits and dashes, for element ids and file names.
    static func identifier(_ id: String) -> String {
        String(id.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }
}
