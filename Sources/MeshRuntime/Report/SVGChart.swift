import Foundation

/// A small line-and-bar chart rendered as SVG text: no script, no external assets, the same
/// bytes for the same input.
///
/// The left axis is a fraction from 0 to 1 (labelled in percent) for the lines; the bars, if any,
/// have their own right axis from 0 to ``Bars/maximum``. Vertical markers label moments on the
/// x axis (a scripted drift, a promotion).
///
/// ```swift
/// var chart = SVGChart(id: "accuracy", title: "Held-out accuracy", xLabel: "hour", xRange: 0...72)
/// chart.lines = [.init(name: "held-out accuracy", color: "#1f77b4", points: points)]
/// let svg = chart.render(standalone: true)
/// ```
public struct SVGChart: Sendable, Equatable {
    /// A point of a line or the top of a bar; `label` becomes its tooltip (`<title>`).
    public struct Point: Sendable, Equatable {
        /// Position on the x axis.
        public var x: Double
        /// Value: a fraction for lines, in the bars' unit for bars.
        public var y: Double
        /// The tooltip.
        public var label: String

        /// Makes a point.
        public init(x: Double, y: Double, label: String) {
            self.x = x
            self.y = y
            self.label = label
        }
    }

    /// A series drawn as a polyline with a dot per point, on the left (fraction) axis.
    public struct Line: Sendable, Equatable {
        /// The legend's text.
        public var name: String
        /// A CSS colour.
        public var color: String
        /// The points, drawn in x order.
        public var points: [Point]

        /// Makes a line series.
        public init(name: String, color: String, points: [Point]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    /// A series drawn as bars on the right axis.
    public struct Bars: Sendable, Equatable {
        /// The legend's text.
        public var name: String
        /// A CSS colour.
        public var color: String
        /// The right axis's top value (at least 1).
        public var maximum: Double
        /// The bars.
        public var points: [Point]

        /// Makes a bar series.
        public init(name: String, color: String, maximum: Double, points: [Point]) {
            self.name = name
            self.color = color
            self.maximum = maximum
            self.points = points
        }
    }

    /// A vertical line across the plot at `x`, labelled at its top.
    public struct Marker: Sendable, Equatable {
        /// Position on the x axis.
        public var x: Double
        /// The label.
        public var label: String
        /// A CSS colour.
        public var color: String
        /// Whether the line is dashed.
        public var dashed: Bool

        /// Makes a marker, dashed unless told otherwise.
        public init(x: Double, label: String, color: String, dashed: Bool = true) {
            self.x = x
            self.label = label
            self.color = color
            self.dashed = dashed
        }
    }

    /// Prefix of the element ids, unique within a page that inlines several charts.
    public var id: String
    /// The chart's title (drawn, and its accessible name).
    public var title: String
    /// A longer description for screen readers (`<desc>`).
    public var summary: String
    /// The x axis's label.
    public var xLabel: String
    /// The left axis's label.
    public var yLabel: String
    /// The x axis's extent.
    public var xRange: ClosedRange<Double>
    /// The line series.
    public var lines: [Line] = []
    /// The bar series, if any.
    public var bars: Bars?
    /// The vertical markers.
    public var markers: [Marker] = []
    /// The chart's width in pixels.
    public var width: Double = 760
    /// The chart's height in pixels.
    public var height: Double = 340

    /// Makes an empty chart; add ``lines``, ``bars`` and ``markers``.
    public init(
        id: String, title: String, summary: String = "", xLabel: String, yLabel: String = "",
        xRange: ClosedRange<Double>
    ) {
        self.id = id
        self.title = title
        self.summary = summary
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
    }

    // Plot area margins: room for the title and legend above, the axes' labels around.
    private var left: Double { 58 }
    private var right: Double { self.width - 58 }
    private var top: Double { 82 }
    private var bottom: Double { self.height - 44 }

    /// The chart as an `<svg>` element; `standalone` adds the XML declaration a `.svg` file starts with.
    public func render(standalone: Bool = false) -> String {
        var svg = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        let titleID = "\(self.id)-title"
        let descID = "\(self.id)-desc"
        svg +=
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(self.width))\" height=\"\(Self.n(self.height))\" "
        svg += "viewBox=\"0 0 \(Self.n(self.width)) \(Self.n(self.height))\" role=\"img\" "
        svg +=
            "aria-labelledby=\"\(Self.escape(titleID)) \(Self.escape(descID))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title id=\"\(Self.escape(titleID))\">\(Self.escape(self.title))</title>\n"
        svg += "<desc id=\"\(Self.escape(descID))\">\(Self.escape(self.summary))</desc>\n"
        svg +=
            "<rect x=\"0\" y=\"0\" width=\"\(Self.n(self.width))\" height=\"\(Self.n(self.height))\" fill=\"#ffffff\"/>\n"
        svg +=
            "<text x=\"\(Self.n(self.left))\" y=\"18\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\">"
            + "\(Self.escape(self.title))</text>\n"
        svg += self.legend()
        svg += self.axes()
        svg += self.barsElements()
        svg += self.lineElements()
        svg += self.markerElements()
        svg += "</svg>\n"
        return svg
    }

    // MARK: - Parts

    private func legend() -> String {
        var items: [(swatch: String, name: String)] = []
        for line in self.lines {
            items.append(
                (
                    "<line x1=\"0\" y1=\"-4\" x2=\"16\" y2=\"-4\" stroke=\"\(Self.escape(line.color))\" stroke-width=\"2\"/>",
                    line.name
                ))
        }
        if let bars = self.bars {
            items.append(
                (
                    "<rect x=\"3\" y=\"-9\" width=\"10\" height=\"10\" fill=\"\(Self.escape(bars.color))\" fill-opacity=\"0.45\"/>",
                    bars.name
                ))
        }
        var seen: Set<String> = []
        for marker in self.markers where seen.insert(marker.color).inserted {
            let dash = marker.dashed ? " stroke-dasharray=\"4 3\"" : ""
            // A marker's legend names its kind: the label's words before a version or hour.
            items.append(
                (
                    "<line x1=\"8\" y1=\"-10\" x2=\"8\" y2=\"2\" stroke=\"\(Self.escape(marker.color))\" stroke-width=\"1.5\"\(dash)/>",
                    Self.markerKind(marker.label)
                ))
        }
        var svg = "<g class=\"legend\" fill=\"#333333\">\n"
        var x = self.left
        for item in items {
            svg +=
                "<g transform=\"translate(\(Self.n(x)) 38)\">\(item.swatch)<text x=\"20\" y=\"0\">\(Self.escape(item.name))</text></g>\n"
            x += 28 + Self.textWidth(item.name)
        }
        return svg + "</g>\n"
    }

    private func axes() -> String {
        var svg = "<g class=\"axes\" fill=\"#555555\">\n"
        // Horizontal grid and the left axis, in percent.
        for step in 0...4 {
            let value = Double(step) / 4
            let y = self.yPosition(value)
            svg +=
                "<line x1=\"\(Self.n(self.left))\" y1=\"\(Self.n(y))\" x2=\"\(Self.n(self.right))\" y2=\"\(Self.n(y))\" "
                + "stroke=\"#dddddd\" stroke-width=\"1\"/>\n"
            svg +=
                "<text x=\"\(Self.n(self.left - 6))\" y=\"\(Self.n(y + 4))\" text-anchor=\"end\">\(step * 25) %</text>\n"
            if let bars = self.bars {
                let label = Self.compact(value * max(1, bars.maximum))
                svg +=
                    "<text x=\"\(Self.n(self.right + 6))\" y=\"\(Self.n(y + 4))\" text-anchor=\"start\">\(label)</text>\n"
            }
        }
        // The x axis and its ticks.
        svg +=
            "<line x1=\"\(Self.n(self.left))\" y1=\"\(Self.n(self.bottom))\" x2=\"\(Self.n(self.right))\" y2=\"\(Self.n(self.bottom))\" "
            + "stroke=\"#888888\" stroke-width=\"1\"/>\n"
        let span = self.xRange.upperBound - self.xRange.lowerBound
        let step: Double = span <= 12 ? 1 : span <= 24 ? 2 : span <= 48 ? 6 : span <= 144 ? 12 : (span / 6).rounded(.up)
        var tick = (self.xRange.lowerBound / step).rounded(.up) * step
        while tick <= self.xRange.upperBound + 1e-9 {
            let x = self.xPosition(tick)
            svg +=
                "<line x1=\"\(Self.n(x))\" y1=\"\(Self.n(self.bottom))\" x2=\"\(Self.n(x))\" y2=\"\(Self.n(self.bottom + 4))\" "
                + "stroke=\"#888888\" stroke-width=\"1\"/>\n"
            svg +=
                "<text x=\"\(Self.n(x))\" y=\"\(Self.n(self.bottom + 16))\" text-anchor=\"middle\">\(Self.compact(tick))</text>\n"
            tick += step
        }
        svg +=
            "<text x=\"\(Self.n((self.left + self.right) / 2))\" y=\"\(Self.n(self.height - 8))\" text-anchor=\"middle\">"
            + "\(Self.escape(self.xLabel))</text>\n"
        if !self.yLabel.isEmpty {
            svg +=
                "<text x=\"14\" y=\"\(Self.n((self.top + self.bottom) / 2))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 14 \(Self.n((self.top + self.bottom) / 2)))\">\(Self.escape(self.yLabel))</text>\n"
        }
        if let bars = self.bars {
            let middle = (self.top + self.bottom) / 2
            svg +=
                "<text x=\"\(Self.n(self.width - 12))\" y=\"\(Self.n(middle))\" text-anchor=\"middle\" "
                + "transform=\"rotate(90 \(Self.n(self.width - 12)) \(Self.n(middle)))\">\(Self.escape(bars.name))</text>\n"
        }
        return svg + "</g>\n"
    }

    private func barsElements() -> String {
        guard let bars = self.bars, !bars.points.isEmpty else { return "" }
        let span = max(1, self.xRange.upperBound - self.xRange.lowerBound)
        let barWidth = max(1, (self.right - self.left) / span * 0.6)
        let maximum = max(1, bars.maximum)
        var svg = "<g class=\"bars\" fill=\"\(Self.escape(bars.color))\" fill-opacity=\"0.45\">\n"
        for point in bars.points where self.xRange.contains(point.x) {
            let height = min(1, max(0, point.y / maximum)) * (self.bottom - self.top)
            guard height > 0 else { continue }
            svg +=
                "<rect x=\"\(Self.n(self.xPosition(point.x) - barWidth / 2))\" y=\"\(Self.n(self.bottom - height))\" "
                + "width=\"\(Self.n(barWidth))\" height=\"\(Self.n(height))\"><title>\(Self.escape(point.label))</title></rect>\n"
        }
        return svg + "</g>\n"
    }

    private func lineElements() -> String {
        var svg = ""
        for line in self.lines {
            let points = line.points.filter { self.xRange.contains($0.x) && $0.y.isFinite }.sorted { $0.x < $1.x }
            guard !points.isEmpty else { continue }
            let color = Self.escape(line.color)
            let coordinates = points.map { "\(Self.n(self.xPosition($0.x))),\(Self.n(self.yPosition($0.y)))" }
            svg += "<g class=\"line\">\n"
            svg +=
                "<polyline points=\"\(coordinates.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for point in points {
                svg +=
                    "<circle cx=\"\(Self.n(self.xPosition(point.x)))\" cy=\"\(Self.n(self.yPosition(point.y)))\" r=\"2.5\" "
                    + "fill=\"\(color)\"><title>\(Self.escape(point.label))</title></circle>\n"
            }
            svg += "</g>\n"
        }
        return svg
    }

    private func markerElements() -> String {
        guard !self.markers.isEmpty else { return "" }
        var svg = "<g class=\"markers\">\n"
        // Labels go in rows just above the plot (then inside it, if many), each in the first row
        // where it does not overlap another.
        var rowEnds: [Double] = []
        for marker in self.markers.sorted(by: { ($0.x, $0.label) < ($1.x, $1.label) })
        where self.xRange.contains(marker.x) {
            let x = self.xPosition(marker.x)
            let color = Self.escape(marker.color)
            let dash = marker.dashed ? " stroke-dasharray=\"4 3\"" : ""
            let width = Self.textWidth(marker.label)
            let fitsRight = x + 3 + width <= self.right
            let start = fitsRight ? x + 3 : x - 3 - width
            let row = rowEnds.firstIndex { $0 + 4 <= start } ?? rowEnds.count
            if row == rowEnds.count { rowEnds.append(start + width) } else { rowEnds[row] = start + width }
            // The line reaches up to its label.
            let lineTop = row < 2 ? self.top - 16 - Double(row) * 13 : self.top
            svg +=
                "<line x1=\"\(Self.n(x))\" y1=\"\(Self.n(lineTop))\" x2=\"\(Self.n(x))\" y2=\"\(Self.n(self.bottom))\" "
                + "stroke=\"\(color)\" stroke-width=\"1.5\"\(dash)/>\n"
            let y = row < 2 ? self.top - 6 - Double(row) * 13 : self.top + 12 + Double(row - 2) * 13
            svg +=
                "<text x=\"\(Self.n(fitsRight ? x + 3 : x - 3))\" y=\"\(Self.n(y))\" text-anchor=\"\(fitsRight ? "start" : "end")\" "
                + "fill=\"\(color)\">\(Self.escape(marker.label))</text>\n"
        }
        return svg + "</g>\n"
    }

    // MARK: - Helpers

    private func xPosition(_ x: Double) -> Double {
        let span = self.xRange.upperBound - self.xRange.lowerBound
        guard span > 0 else { return self.left }
        return self.left + (x - self.xRange.lowerBound) / span * (self.right - self.left)
    }

    private func yPosition(_ fraction: Double) -> Double {
        self.bottom - min(1, max(0, fraction)) * (self.bottom - self.top)
    }

    /// A coordinate with one decimal, without a trailing `.0`.
    static func n(_ value: Double) -> String {
        let text = String(format: "%.1f", value)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// A tick value: an integer when it is one, else two decimals.
    static func compact(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// A rough width of `text` at 11 px, enough to keep labels apart.
    static func textWidth(_ text: String) -> Double { Double(text.count) * 6.2 }

    /// The legend's name for a marker: its label without the part that varies (`v2 promoted` → `promoted`).
    static func markerKind(_ label: String) -> String {
        let words = label.split(separator: " ")
        let kept = words.filter { word in
            !(word.first == "v" && word.dropFirst().allSatisfy(\.isNumber) && word.count > 1)
        }
        return kept.isEmpty ? label : kept.joined(separator: " ")
    }

    /// Text escaped for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            // XML 1.0 forbids most control characters even as references: drop them.
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
