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
}
