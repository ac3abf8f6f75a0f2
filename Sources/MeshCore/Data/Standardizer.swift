/// Per-feature standardization `(x - mean) / std`, fitted on the training rows only so nothing
/// of the test rows leaks into the model.
///
/// `std` is the population standard deviation (as scikit-learn's `StandardScaler` and the
/// reference vectors use); a constant feature gets `std` 1, so it maps to 0 instead of NaN.
public struct Standardizer: Sendable, Hashable, Codable {
    /// The per-feature means of the rows it was fitted on.
    public var mean: [Float]
    /// The per-feature population standard deviations (1 where a feature was constant).
    public var std: [Float]

    /// Makes a standardizer from known statistics (for instance a model's recorded scaler).
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "mean and std differ in length")
        self.mean = mean
        self.std = std
    }

    /// Fits on `features`, `rows` rows of `mean.count` columns, row-major; sums are taken in
    /// Double so the statistics do not depend on how large the dataset is.
    public init(fitting features: [Float], columns: Int, source: String) throws(DatasetError) {
        guard columns > 0, features.count % columns == 0 else {
            throw DatasetError(.invalidSplit, source: source, "\(features.count) values do not fill rows of \(columns)")
        }
        let rows = features.count / columns
        guard rows > 0 else {
            throw DatasetError(.emptyDataset, source: source, "cannot fit a standardizer on no rows")
        }
        var sum = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            for column in 0..<columns { sum[column] += Double(features[row * columns + column]) }
        }
        let mean = sum.map { $0 / Double(rows) }
        var squares = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let d = Double(features[row * columns + column]) - mean[column]
                squares[column] += d * d
            }
        }
        self.mean = mean.map { Float($0) }
        self.std = squares.map { total in
            let std = (total / Double(rows)).squareRoot()
            return std > 1e-12 ? Float(std) : 1
        }
    }

    /// Fits on a table's rows.
    public init(fitting table: CSVTable) throws(DatasetError) {
        try self.init(fitting: table.features, columns: table.featureCount, source: table.source)
    }

    /// The number of features it standardizes.
    public var featureCount: Int { self.mean.count }

    /// Standardizes `features` (row-major rows of ``featureCount`` values) in place.
    public func apply(to features: inout [Float]) {
        let columns = self.mean.count
        precondition(columns > 0 && features.count % columns == 0, "rows do not match the standardizer's width")
        features.withUnsafeMutableBufferPointer { values in
            var offset = 0
            while offset < values.count {
                for column in 0..<columns {
                    values[offset + column] = (values[offset + column] - self.mean[column]) / self.std[column]
                }
                offset += columns
            }
        }
    }

    /// A copy of `table` with its features standardized.
    public func transform(_ table: CSVTable) -> CSVTable {
        precondition(table.featureCount == self.featureCount, "the table's width differs from the standardizer's")
        var result = table
        self.apply(to: &result.features)
        return result
    }
}
