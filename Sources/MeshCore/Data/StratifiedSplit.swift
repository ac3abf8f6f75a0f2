/// A train/test partition of row indices that keeps each class's share on both sides.
///
/// Each class's rows are shuffled with the given generator and the first
/// `round(count * testFraction)` go to the test side (at least one, and at least one left for
/// training); both sides are returned in ascending row order, so the split depends only on the
/// labels and the generator's state, never on the order classes were met.
///
/// ```swift
/// var rng = SeededRandom(seed: 7, key: "split")
/// let split = try StratifiedSplit(labels: table.labels, testFraction: 0.2, source: path, using: &rng)
/// let train = table.selecting(rows: split.train), test = table.selecting(rows: split.test)
/// ```
public struct StratifiedSplit: Sendable, Hashable {
    /// The training rows, ascending.
    public var train: [Int]
    /// The test rows, ascending.
    public var test: [Int]

    /// Splits `labels`' rows; throws when a class has fewer than two rows or the fraction is not
    /// in the open interval (0, 1).
    ///
    /// - Parameter source: names the data in the error.
    public init(labels: [Int], testFraction: Double, source: String, using rng: inout SeededRandom) throws(DatasetError)
    {
        guard testFraction > 0, testFraction < 1 else {
            throw DatasetError(.invalidSplit, source: source, "test fraction \(testFraction) is not between 0 and 1")
        }
        guard !labels.isEmpty else {
            throw DatasetError(.emptyDataset, source: source, "nothing to split: no rows")
        }
        var byClass: [Int: [Int]] = [:]
        for (row, label) in labels.enumerated() { byClass[label, default: []].append(row) }
        var train: [Int] = []
        var test: [Int] = []
        for label in byClass.keys.sorted() {
            var rows = byClass[label]!
            guard rows.count >= 2 else {
                throw DatasetError(
                    .invalidSplit,
                    source: source,
                    "class \(label) has \(rows.count) row; a stratified split needs at least 2 per class"
                )
            }
            rng.shuffle(&rows)
            let testCount = min(max(Int((Double(rows.count) * testFraction).rounded()), 1), rows.count - 1)
            test.append(contentsOf: rows[..<testCount])
            train.append(contentsOf: rows[testCount...])
        }
        self.train = train.sorted()
        self.test = test.sorted()
    }
}
