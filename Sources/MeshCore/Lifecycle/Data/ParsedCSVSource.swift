/// A CSV source's text scanned and parsed once: what `data.prepare` starts from before anything
/// that depends on the request beyond the source.
///
/// A data agent preparing one file for many use cases (a fleet of 1,000 prepares the same digits
/// file 2,000 times) keeps the last few (`DataWorker`) and parses each text once. The value
/// depends only on the text, the name used in errors (the path), the label column and whether
/// missing cells are imputed, which is what ``matches(text:for:)`` compares: a prepared dataset
/// is the same bytes, and a bad file fails with the same error, whether the preparation started
/// from a fresh parse or a kept one.
///
/// ```swift
/// let parsed = ParsedCSVSource(text: text, for: request)            // scan + parse, once
/// let dataset = try PreparedDataset(preparing: request, parsed: parsed)
/// if parsed.matches(text: nextText, for: next) { … reuse it … }
/// ```
public struct ParsedCSVSource: Sendable {
    /// The text it was parsed from (compared byte for byte by ``matches(text:for:)``).
    public let text: String
    /// The name errors use: the CSV path.
    public let sourceName: String
    /// The label column's header name.
    public let labelColumn: String
    /// Whether missing feature cells were filled for the parser (to be imputed later).
    public let imputeMissing: Bool
    let scan: CSVScan
    let table: Result<CSVTable, DatasetError>

    /// Scans and parses `text` as `request`'s CSV source would be (its path names the errors).
    public init(text: String, for request: PrepareRequest) {
        let sourceName: String
        if case .csv(let path) = request.source.kind { sourceName = path } else { sourceName = request.source.id }
        self.init(
            text: text, sourceName: sourceName, labelColumn: request.source.labelColumn,
            imputeMissing: request.cleaning.imputeMissing)
    }

    init(text: String, sourceName: String, labelColumn: String, imputeMissing: Bool) {
        self.text = text
        self.sourceName = sourceName
        self.labelColumn = labelColumn
        self.imputeMissing = imputeMissing
        let scan = CSVScan(text: text, labelColumn: labelColumn)
        self.scan = scan
        let filled = imputeMissing ? CSVScan.fillingMissing(scan.missing, in: text) : text
        do {
            self.table = .success(try CSVTable.parse(text: filled, source: sourceName, labelColumn: labelColumn))
        } catch {
            self.table = .failure(error)
        }
    }

    /// Whether this parse is what `request`'s CSV source with file text `text` would give.
    public func matches(text: String, for request: PrepareRequest) -> Bool {
        guard case .csv(let path) = request.source.kind else { return false }
        return path == self.sourceName && request.source.labelColumn == self.labelColumn
            && request.cleaning.imputeMissing == self.imputeMissing && text.utf8.count == self.text.utf8.count
            // Bytes, not `==`: String equality is Unicode-canonical, and two spellings parse to different names.
            && text.utf8.elementsEqual(self.text.utf8)
    }

    /// About how many bytes it holds (the text, the values and the scan), for a cache's bound.
    public var approximateBytes: Int {
        let table = (try? self.table.get()).map { $0.features.count * 4 + $0.labels.count * 8 } ?? 0
        return self.text.utf8.count + table + self.scan.lineOfRow.count * 8 + self.scan.missing.count * 32
    }
}
