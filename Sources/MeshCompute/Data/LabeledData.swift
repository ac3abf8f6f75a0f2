public import MeshCore

/// Feature rows and their classes, checked once so training and evaluation can trust them.
///
/// `targets[i]` is the index into ``classLabels`` of row `i`'s label; the features are finite.
public struct LabeledData: Sendable, Hashable {
    /// One row per sample.
    public var features: Matrix
    /// The class index (into ``classLabels``) of each row.
    public var targets: [Int]
    /// The label of each class index.
    public var classLabels: [Int]

    /// Checks and indexes `labels` against `classLabels`.
    ///
    /// - Parameter subject: names the data in errors ("training rows", "digits.csv").
    /// - Throws: ``ComputeError`` for no rows, a label count that differs from the rows, a label
    ///   that is not one of `classLabels` (naming its row), or a non-finite feature.
    public init(features: Matrix, labels: [Int], classLabels: [Int], subject: String = "dataset") throws(ComputeError) {
        guard features.rows > 0 else { throw ComputeError(.emptyDataset, subject, "no rows") }
        guard labels.count == features.rows else {
            throw ComputeError(.shapeMismatch, subject, "\(labels.count) labels for \(features.rows) rows")
        }
        guard !classLabels.isEmpty else { throw ComputeError(.invalidArgument, subject, "no classes") }
        var index: [Int: Int] = [:]
        for (position, label) in classLabels.enumerated() where index.updateValue(position, forKey: label) != nil {
            throw ComputeError(.invalidArgument, subject, "class label \(label) appears twice")
        }
        var targets = [Int](repeating: 0, count: labels.count)
        for (row, label) in labels.enumerated() {
            guard let target = index[label] else {
                throw ComputeError(
                    .labelOutOfRange,
                    subject,
                    at: "row \(row)",
                    "label \(label) is not one of the classes \(Self.describe(classLabels))"
                )
            }
            targets[row] = target
        }
        try features.checkFinite(subject)
        self.features = features
        self.targets = targets
        self.classLabels = classLabels
    }

    /// The rows of a parsed CSV table, with `classLabels` (the table's own labels by default).
    public init(table: CSVTable, classLabels: [Int]? = nil, subject: String? = nil) throws(ComputeError) {
        try self.init(
            features: Matrix(rows: table.rowCount, columns: table.featureCount, unchecked: table.features),
            labels: table.labels,
            classLabels: classLabels ?? table.classLabels,
            subject: subject ?? table.source
        )
    }

    private init(unchecked features: Matrix, targets: [Int], classLabels: [Int]) {
        self.features = features
        self.targets = targets
        self.classLabels = classLabels
    }

    /// The number of rows.
    public var count: Int { self.targets.count }
    /// The number of features per row.
    public var featureCount: Int { self.features.columns }
    /// The label of each row.
    public var labels: [Int] { self.targets.map { self.classLabels[$0] } }

    /// The rows at `indices`, in that order, with the same classes.
    public func selecting(rows indices: [Int]) -> LabeledData {
        LabeledData(
            unchecked: self.features.gatheringRows(indices),
            targets: indices.map { self.targets[$0] },
            classLabels: self.classLabels
        )
    }

    private static func describe(_ labels: [Int]) -> String {
        labels.count <= 12 ? "\(labels)" : "[\(labels.prefix(12).map(String.init).joined(separator: ", ")), …]"
    }
}
