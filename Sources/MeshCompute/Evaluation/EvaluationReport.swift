import Foundation

/// How well a classifier did on labelled rows: accuracy, macro-F1, calibration, likelihood, and
/// where it fails (the worst classes, the most confused pairs).
///
/// Built from logits, so the fp32 and int8 paths are scored by the same code:
///
/// ```swift
/// let report = try EvaluationReport(logits: model.logits(test.features), data: test)
/// print(report.accuracy, report.macroF1, report.expectedCalibrationError)
/// ```
public struct EvaluationReport: Sendable, Hashable, Codable {
    /// The precision, recall and F1 of one class.
    public struct ClassScore: Sendable, Hashable, Codable {
        /// The class label.
        public var label: Int
        /// Right predictions of this class over all predictions of it (0 when never predicted).
        public var precision: Double
        /// Right predictions of this class over its rows (0 when it has none).
        public var recall: Double
        /// The harmonic mean of precision and recall (0 when both are 0).
        public var f1: Double
        /// The number of rows of this class.
        public var support: Int
    }

    /// A (true, predicted) pair of distinct classes and how often it happened.
    public struct Confusion: Sendable, Hashable, Codable {
        /// The true label.
        public var actual: Int
        /// The label predicted instead.
        public var predicted: Int
        /// How many rows.
        public var count: Int
    }

    /// The number of rows scored.
    public var count: Int
    /// The class labels, in the order of ``confusionMatrix``'s rows and columns.
    public var classLabels: [Int]
    /// The share of rows predicted right.
    public var accuracy: Double
    /// The unweighted mean of the per-class F1 scores over all classes.
    public var macroF1: Double
    /// The mean of `-log p(true class)`, computed from the logits in Double.
    public var negativeLogLikelihood: Double
    /// Expected calibration error over 15 equal-width confidence bins:
    /// `Σ_b (n_b / n) · |accuracy_b − mean confidence_b|`, confidence being the top probability.
    public var expectedCalibrationError: Double
    /// `confusionMatrix[t][p]` counts rows of class index `t` predicted as class index `p`.
    public var confusionMatrix: [[Int]]
    /// One score per class, in ``classLabels`` order.
    public var classes: [ClassScore]
    /// Up to three classes with the lowest F1, worst first (ties by label).
    public var worstClasses: [ClassScore]
    /// Up to five off-diagonal cells of the confusion matrix with the most rows, most first.
    public var mostConfused: [Confusion]

    /// The number of confidence bins of ``expectedCalibrationError``.
    public static let calibrationBins = 15

    /// Scores `logits` (one row per sample) against `data`'s targets.
    public init(logits: Matrix, data: LabeledData) throws(ComputeError) {
        try self.init(logits: logits, targets: data.targets, classLabels: data.classLabels)
    }

    /// Scores `logits` against class indices `targets`.
    ///
    /// - Throws: ``ComputeError`` when there are no rows, the shapes differ, a target is out of
    ///   range or a logit is not finite.
    public init(logits: Matrix, targets: [Int], classLabels: [Int]) throws(ComputeError) {
        guard logits.rows > 0 else { throw ComputeError(.emptyDataset, "evaluation", "no rows to score") }
        guard logits.rows == targets.count, logits.columns == classLabels.count else {
            throw ComputeError(
                .shapeMismatch,
                "evaluation",
                "\(logits.rows) x \(logits.columns) logits for \(targets.count) targets and \(classLabels.count) classes"
            )
        }
        if let bad = targets.firstIndex(where: { $0 < 0 || $0 >= classLabels.count }) {
            throw ComputeError(
                .labelOutOfRange,
                "evaluation targets",
                at: "row \(bad)",
                "class index \(targets[bad]) is out of range"
            )
        }
        try logits.checkFinite("evaluation logits")
        let classCount = classLabels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        var binCount = [Int](repeating: 0, count: Self.calibrationBins)
        var binCorrect = [Int](repeating: 0, count: Self.calibrationBins)
        var binConfidence = [Double](repeating: 0, count: Self.calibrationBins)
        var nll: Double = 0
        for row in 0..<logits.rows {
            let values = logits.row(row)
            let maximum = values.max()!
            var partition: Double = 0
            var best = values.startIndex
            for index in values.indices {
                partition += Foundation.exp(Double(values[index] - maximum))
                if values[index] > values[best] { best = index }
            }
            let predicted = best - values.startIndex
            let target = targets[row]
            let logPartition = Foundation.log(partition) + Double(maximum)
            nll += logPartition - Double(values[values.startIndex + target])
            let confidence = Foundation.exp(Double(values[best]) - logPartition)
            let bin = min(Int(confidence * Double(Self.calibrationBins)), Self.calibrationBins - 1)
            binCount[bin] += 1
            binConfidence[bin] += confidence
            if predicted == target { binCorrect[bin] += 1 }
            confusion[target][predicted] += 1
        }
        let n = Double(logits.rows)
        var ece: Double = 0
        for bin in 0..<Self.calibrationBins where binCount[bin] > 0 {
            let size = Double(binCount[bin])
            ece += size / n * abs(Double(binCorrect[bin]) / size - binConfidence[bin] / size)
        }
        var scores: [ClassScore] = []
        var correct = 0
        for index in 0..<classCount {
            let truePositives = confusion[index][index]
            correct += truePositives
            let support = confusion[index].reduce(0, +)
            let predictedCount = (0..<classCount).reduce(0) { $0 + confusion[$1][index] }
            let precision = predictedCount > 0 ? Double(truePositives) / Double(predictedCount) : 0
            let recall = support > 0 ? Double(truePositives) / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            scores.append(
                ClassScore(label: classLabels[index], precision: precision, recall: recall, f1: f1, support: support)
            )
        }
        var pairs: [Confusion] = []
        for actual in 0..<classCount {
            for predicted in 0..<classCount where actual != predicted && confusion[actual][predicted] > 0 {
                pairs.append(
                    Confusion(
                        actual: classLabels[actual],
                        predicted: classLabels[predicted],
                        count: confusion[actual][predicted]
                    )
                )
            }
        }
        self.count = logits.rows
        self.classLabels = classLabels
        self.accuracy = Double(correct) / n
        self.macroF1 = scores.reduce(0) { $0 + $1.f1 } / Double(classCount)
        self.negativeLogLikelihood = nll / n
        self.expectedCalibrationError = ece
        self.confusionMatrix = confusion
        self.classes = scores
        self.worstClasses = Array(
            scores.sorted { ($0.f1, $0.label) < ($1.f1, $1.label) }.prefix(3)
        )
        self.mostConfused = Array(
            pairs.sorted { ($1.count, $0.actual, $0.predicted) < ($0.count, $1.actual, $1.predicted) }.prefix(5)
        )
    }

    /// The share of rows on which two prediction lists agree (int8 versus fp32, for instance).
    public static func agreement(_ first: [Int], _ second: [Int]) -> Double {
        precondition(first.count == second.count && !first.isEmpty, "agreement needs two equal, non-empty lists")
        return Double(zip(first, second).filter { $0 == $1 }.count) / Double(first.count)
    }
}
