extension PreparedDataset {
    /// Prepares `request`'s source: the pure part of `data.prepare` (docs/DATA.md, "Steps").
    ///
    /// - Parameter sourceText: the CSV file's whole text for a CSV source (the worker reads it);
    ///   ignored for synthetic and stream sources.
    /// - Throws: ``DataError``; for a file that cannot be used, ``DataError/Code/invalidData``
    ///   whose reason is `file:line:column: reason`.
    public init(preparing request: PrepareRequest, sourceText: String?) throws(DataError) {
        var preparation = DatasetPreparation(request: request)
        self = try preparation.run(sourceText: sourceText)
    }

    /// The same preparation from a CSV source's text scanned and parsed already
    /// (``ParsedCSVSource/init(text:for:)`` for this request's source; nil when no text was read,
    /// as for synthetic and stream sources). Gives the same dataset, or the same error, as
    /// ``init(preparing:sourceText:)`` with that text.
    public init(preparing request: PrepareRequest, parsed: ParsedCSVSource?) throws(DataError) {
        var preparation = DatasetPreparation(request: request)
        self = try preparation.run(parsed: parsed)
    }
}
