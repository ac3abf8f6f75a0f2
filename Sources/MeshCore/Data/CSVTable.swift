/// A numeric table read from CSV text: a header row, float feature columns and one integer label
/// column, stored row-major in one flat array so it can be handed to BLAS without copying.
///
/// The parser is pure (it reads a `String`, never a file), so the data agent, the compute node and
/// the CLI share it and every error names the same place:
///
/// ```swift
/// let text = try String(contentsOfFile: path, encoding: .utf8)
/// let table = try CSVTable.parse(text: text, source: path)   // label column "label"
/// print(table.rowCount, table.featureCount, table.classLabels)
/// ```
public struct CSVTable: Sendable, Hashable {
    /// Where the text came from, used in error messages.
    public var source: String
    /// The feature columns' names, in file order, without the label column.
    public var featureNames: [String]
    /// The label column's name.
    public var labelName: String
    /// `rowCount * featureCount` values, row-major.
    public var features: [Float]
    /// One integer label per row.
    public var labels: [Int]

    /// Makes a table from parts; `features.count` must be `labels.count * featureNames.count`.
    public init(source: String, featureNames: [String], labelName: String, features: [Float], labels: [Int]) {
        precondition(features.count == labels.count * featureNames.count, "features do not fill the rows")
        self.source = source
        self.featureNames = featureNames
        self.labelName = labelName
        self.features = features
        self.labels = labels
    }

    /// The number of data rows.
    public var rowCount: Int { self.labels.count }
    /// The number of feature columns.
    public var featureCount: Int { self.featureNames.count }
    /// The distinct labels, ascending.
    public var classLabels: [Int] { Array(Set(self.labels)).sorted() }

    /// The features of row `index`.
    public func row(_ index: Int) -> ArraySlice<Float> {
        self.features[(index * self.featureCount)..<((index + 1) * self.featureCount)]
    }

    /// A table holding only the rows at `indices`, in that order (indices may repeat).
    public func selecting(rows indices: [Int]) -> CSVTable {
        var features = [Float]()
        features.reserveCapacity(indices.count * self.featureCount)
        for index in indices { features.append(contentsOf: self.row(index)) }
        return CSVTable(
            source: self.source,
            featureNames: self.featureNames,
            labelName: self.labelName,
            features: features,
            labels: indices.map { self.labels[$0] }
        )
    }

    /// Parses CSV text whose first non-blank line is a header.
    ///
    /// Cells are separated by commas; header names may be double-quoted; blank lines are skipped;
    /// `\r\n` line ends are accepted. Every other cell must be a finite decimal number, and the
    /// label cells integers (`3` or `3.0`).
    ///
    /// - Parameters:
    ///   - text: the whole file.
    ///   - source: the name used in errors (usually the path).
    ///   - labelColumn: the header name of the label column; it may be at any position.
    /// - Throws: ``DatasetError`` naming `source`, the 1-based line and column, and the reason.
    public static func parse(
        text: String,
        source: String,
        labelColumn: String = "label"
    ) throws(DatasetError) -> CSVTable {
        // Lines and cells are found on the UTF-8 bytes: "\r\n" is one Character to String, so a
        // Character split on "\n" would miss Windows line ends, and bytes are much faster.
        var lines = text.utf8.split(separator: newline, omittingEmptySubsequences: false).lazy
            .map { Substring($0) }.makeIterator()
        var lineNumber = 0
        var header: [String]?
        while header == nil, let raw = lines.next() {
            lineNumber += 1
            let line = Self.trimmingCarriageReturn(raw)
            if Self.isBlank(line) { continue }
            header = line.split(separator: ",", omittingEmptySubsequences: false).map(Self.headerName)
        }
        guard let header else {
            throw DatasetError(.emptyDataset, source: source, "no header row: the text is empty")
        }
        let headerLine = lineNumber
        var seen = Set<String>()
        for (index, name) in header.enumerated() where !seen.insert(name).inserted {
            throw DatasetError(
                .duplicateColumn,
                source: source,
                line: headerLine,
                column: index + 1,
                "column name \"\(name)\" appears twice in the header"
            )
        }
        guard let labelIndex = header.firstIndex(of: labelColumn) else {
            throw DatasetError(
                .missingLabelColumn,
                source: source,
                line: headerLine,
                "no label column \"\(labelColumn)\" in the header (\(header.count) columns)"
            )
        }
        let width = header.count
        var features = [Float]()
        var labels = [Int]()
        while let raw = lines.next() {
            lineNumber += 1
            let line = Self.trimmingCarriageReturn(raw)
            if Self.isBlank(line) { continue }
            var column = 0
            var start = line.startIndex
            // Cells are walked in place rather than split into an array: digits alone is 117k cells.
            while true {
                let end = line.utf8[start...].firstIndex(of: comma) ?? line.endIndex
                let cell = line[start..<end]
                column += 1
                if column > width {
                    let found = line.split(separator: ",", omittingEmptySubsequences: false).count
                    throw DatasetError(
                        .raggedRow,
                        source: source,
                        line: lineNumber,
                        column: width + 1,
                        "ragged row: expected \(width) cells as in the header, found \(found)"
                    )
                }
                if column - 1 == labelIndex {
                    labels.append(try Self.label(cell, source: source, line: lineNumber, column: column))
                } else {
                    features.append(try Self.number(cell, source: source, line: lineNumber, column: column))
                }
                if end == line.endIndex { break }
                start = line.utf8.index(after: end)
            }
            if column < width {
                throw DatasetError(
                    .raggedRow,
                    source: source,
                    line: lineNumber,
                    column: column,
                    "ragged row: expected \(width) cells as in the header, found \(column)"
                )
            }
        }
        guard !labels.isEmpty else {
            throw DatasetError(.emptyDataset, source: source, line: headerLine, "a header but no data rows")
        }
        var featureNames = header
        featureNames.remove(at: labelIndex)
        return CSVTable(
            source: source,
            featureNames: featureNames,
            labelName: labelColumn,
            features: features,
            labels: labels
        )
    }

    private static func trimmingCarriageReturn(_ line: Substring) -> Substring {
        line.utf8.last == UInt8(ascii: "\r") ? Substring(line.utf8.dropLast()) : line
    }

    private static func isBlank(_ line: Substring) -> Bool {
        line.utf8.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    private static func headerName(_ cell: Substring) -> String {
        let trimmed = Self.trimmed(cell)
        if trimmed.count >= 2, trimmed.first == "\"", trimmed.last == "\"" {
            return String(trimmed.dropFirst().dropLast())
        }
        return String(trimmed)
    }

    private static func trimmed(_ cell: Substring) -> Substring {
        var cell = cell
        while let first = cell.first, first == " " || first == "\t" { cell = cell.dropFirst() }
        while let last = cell.last, last == " " || last == "\t" { cell = cell.dropLast() }
        return cell
    }

    private static func number(_ cell: Substring, source: String, line: Int, column: Int) throws(DatasetError) -> Float
    {
        let text = Self.trimmed(cell)
        guard let value = Float(text) else {
            let shown = text.isEmpty ? "an empty cell" : "\"\(text.prefix(40))\""
            throw DatasetError(
                .nonNumericCell,
                source: source,
                line: line,
                column: column,
                "not a number: \(shown)"
            )
        }
        guard value.isFinite else {
            throw DatasetError(
                .nonFiniteCell,
                source: source,
                line: line,
                column: column,
                "not a finite number: \"\(text)\""
            )
        }
        return value
    }

    private static func label(_ cell: Substring, source: String, line: Int, column: Int) throws(DatasetError) -> Int {
        let text = Self.trimmed(cell)
        if let value = Int(text) { return value }
        if let value = Double(text), value.isFinite, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        let shown = text.isEmpty ? "an empty cell" : "\"\(text.prefix(40))\""
        throw DatasetError(
            .invalidLabel,
            source: source,
            line: line,
            column: column,
            "label is not an integer: \(shown)"
        )
    }
}

private let newline = UInt8(ascii: "\n")
private let comma = UInt8(ascii: ",")
