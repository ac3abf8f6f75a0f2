/// A dataset could not be read or split; the message names the source, and the line and column
/// when the fault is in one cell.
///
/// Thrown by ``CSVTable/parse(text:source:labelColumn:)``, ``StratifiedSplit`` and
/// ``Standardizer``; the CLI prints ``description`` as its one-line error.
public struct DatasetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable {
        /// The text has no header, or a header but no data rows.
        case emptyDataset
        /// The header has no column with the label column's name.
        case missingLabelColumn
        /// A row has more or fewer cells than the header.
        case raggedRow
        /// A feature cell is not a decimal number.
        case nonNumericCell
        /// A feature cell is a number but not a finite one (`nan`, `inf`).
        case nonFiniteCell
        /// A label cell is not an integer.
        case invalidLabel
        /// Two header cells have the same name.
        case duplicateColumn
        /// A split or a fit was asked for something the data cannot give (a fraction outside
        /// 0..<1, a class too small to appear on both sides, a width that does not divide).
        case invalidSplit
    }

    /// What went wrong.
    public var code: Code
    /// Where the data came from (a file path or any name the caller gave).
    public var source: String
    /// The 1-based line of the text, when the fault is on one line.
    public var line: Int?
    /// The 1-based cell index on that line, when the fault is in one cell.
    public var column: Int?
    /// Why, in words, naming the offending value when there is one.
    public var reason: String

    /// Makes an error.
    public init(_ code: Code, source: String, line: Int? = nil, column: Int? = nil, _ reason: String) {
        self.code = code
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// `source:line:column: reason`, the shape compilers use so editors can jump to the place.
    public var description: String {
        var place = self.source
        if let line = self.line {
            place += ":\(line)"
            if let column = self.column { place += ":\(column)" }
        }
        return "\(place): \(self.reason)"
    }
}
