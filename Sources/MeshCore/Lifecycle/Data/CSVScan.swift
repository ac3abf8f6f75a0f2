/// A first pass over CSV text that finds what ``CSVTable/parse(text:source:labelColumn:)``
/// would refuse but the data agent imputes (missing feature cells), and the line each data row
/// is on (to name the line of a label outside the declared classes).
///
/// It splits lines and cells exactly as the parser does (`\n` line ends with an optional `\r`,
/// blank lines skipped, the first non-blank line the header, cells between commas), so row
/// numbers agree; anything else wrong with the text is left for the parser to report.
struct CSVScan {
    /// One missing feature cell.
    struct MissingCell: Equatable {
        /// The data row (0-based, blank lines not counted).
        var row: Int
        /// The feature index (0-based, the label column not counted).
        var feature: Int
        /// The cell's bytes in the text.
        var range: Range<Int>
    }

    /// The missing feature cells, in text order.
    private(set) var missing: [MissingCell] = []
    /// The 1-based line of each data row.
    private(set) var lineOfRow: [Int] = []
    /// The label column, 1-based, when the header names it.
    private(set) var labelColumn: Int?

    /// Cell texts taken to mean "no value", compared without regard to case after trimming
    /// spaces and tabs; an empty cell is missing too.
    static let missingMarkers: Set<String> = ["na", "n/a", "nan", "null", "?"]

    /// Scans `text` whose label column is named `labelColumn`.
    init(text: String, labelColumn: String) {
        let bytes = Array(text.utf8)
        var lineStart = 0
        var lineNumber = 0
        var headerSeen = false
        var labelIndex: Int?
        var width = 0
        var row = 0
        while lineStart <= bytes.count {
            var lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let next = lineEnd + 1
            lineNumber += 1
            if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { lineStart = next }
            let line = lineStart..<lineEnd
            if Self.isBlank(bytes[line]) { continue }
            let cells = Self.cells(of: line, in: bytes)
            guard headerSeen else {
                headerSeen = true
                width = cells.count
                labelIndex = cells.firstIndex { Self.headerName(bytes[$0]) == labelColumn }
                self.labelColumn = labelIndex.map { $0 + 1 }
                continue
            }
            self.lineOfRow.append(lineNumber)
            if let labelIndex {
                for (column, cell) in cells.enumerated() where column != labelIndex && column < width {
                    guard Self.isMissing(bytes[cell]) else { continue }
                    let feature = column < labelIndex ? column : column - 1
                    self.missing.append(MissingCell(row: row, feature: feature, range: cell))
                }
            }
            row += 1
        }
    }

    /// `text` with every missing cell replaced by `0`, so the parser accepts it; the cells' lines
    /// and columns do not move.
    static func fillingMissing(_ cells: [MissingCell], in text: String) -> String {
        guard !cells.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + cells.count)
        var copied = 0
        for cell in cells {
            result.append(contentsOf: bytes[copied..<cell.range.lowerBound])
            result.append(UInt8(ascii: "0"))
            copied = cell.range.upperBound
        }
        result.append(contentsOf: bytes[copied...])
        return String(decoding: result, as: UTF8.self)
    }

    private static func cells(of line: Range<Int>, in bytes: [UInt8]) -> [Range<Int>] {
        var cells: [Range<Int>] = []
        var start = line.lowerBound
        while true {
            let end = bytes[start..<line.upperBound].firstIndex(of: UInt8(ascii: ",")) ?? line.upperBound
            cells.append(start..<end)
            if end == line.upperBound { return cells }
            start = end + 1
        }
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    private static func trimmed(_ cell: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var cell = cell
        while let first = cell.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { cell = cell.dropFirst() }
        while let last = cell.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { cell = cell.dropLast() }
        return cell
    }

    private static func headerName(_ cell: ArraySlice<UInt8>) -> String {
        var name = Self.trimmed(cell)
        if name.count >= 2, name.first == UInt8(ascii: "\""), name.last == UInt8(ascii: "\"") {
            name = name.dropFirst().dropLast()
        }
        return String(decoding: name, as: UTF8.self)
    }

    private static func isMissing(_ cell: ArraySlice<UInt8>) -> Bool {
        let text = Self.trimmed(cell)
        // Numbers, nearly every cell, are told apart by their first byte without making a String.
        guard text.count <= 4, let first = text.first else { return text.isEmpty }
        guard first == UInt8(ascii: "?") || (first | 0x20) == UInt8(ascii: "n") else { return false }
        return Self.missingMarkers.contains(String(decoding: text, as: UTF8.self).lowercased())
    }
}
