/// What an evaluation request returns: accuracy, macro-F1, calibration, likelihood, the
/// confusion matrix, per-class scores and the failure modes (worst classes, confused pairs).
///
/// On the wire, after the response header (K classes):
///
/// | field | encoding |
/// |---|---|
/// | count | u32 rows scored |
/// | class labels | u32 K (≤ 2¹⁶), K i32 |
/// | accuracy, macro-F1, NLL, ECE | 4 f64 |
/// | calibration bins | u8 (15) |
/// | confusion matrix | K·K u32, `[true][predicted]` row-major |
/// | per class | K × (f64 precision, f64 recall, f64 F1, u32 support) |
/// | worst classes | u8 W (≤ K), W i32 labels, worst first |
/// | confused pairs | u8 P, P × (i32 true label, i32 predicted label, u32 count), most first |
public struct ModelEvaluation: Sendable, Hashable {
    /// Precision, recall and F1 of one class.
    public struct ClassScore: Sendable, Hashable {
        /// The class label.
        public var label: Int
        /// Right predictions of the class over all predictions of it.
        public var precision: Double
        /// Right predictions of the class over its rows.
        public var recall: Double
        /// Harmonic mean of precision and recall.
        public var f1: Double
        /// Rows of the class.
        public var support: Int

        /// A class score.
        public init(label: Int, precision: Double, recall: Double, f1: Double, support: Int) {
            self.label = label
            self.precision = precision
            self.recall = recall
            self.f1 = f1
            self.support = support
        }
    }

    /// A (true, predicted) pair of distinct classes and how many rows it had.
    public struct ConfusedPair: Sendable, Hashable {
        /// The true label.
        public var actual: Int
        /// The label predicted instead.
        public var predicted: Int
        /// How many rows.
        public var count: Int

        /// A confused pair.
        public init(actual: Int, predicted: Int, count: Int) {
            self.actual = actual
            self.predicted = predicted
            self.count = count
        }
    }

    /// Rows scored.
    public var count: Int
    /// The class labels, in the order of the confusion matrix's rows and columns.
    public var classLabels: [Int]
    /// Share of rows predicted right.
    public var accuracy: Double
    /// Unweighted mean of the per-class F1 scores.
    public var macroF1: Double
    /// Mean `-log p(true class)`.
    public var negativeLogLikelihood: Double
    /// Expected calibration error over ``calibrationBins`` equal-width bins of the top probability.
    public var expectedCalibrationError: Double
    /// The number of bins of the calibration error (15).
    public var calibrationBins: Int
    /// `confusionMatrix[t][p]`: rows of class index `t` predicted as class index `p`.
    public var confusionMatrix: [[Int]]
    /// One score per class, in ``classLabels`` order.
    public var classes: [ClassScore]
    /// The labels of the classes with the lowest F1, worst first.
    public var worstClasses: [Int]
    /// The most frequent off-diagonal pairs, most first.
    public var mostConfused: [ConfusedPair]

    /// An evaluation; the confusion matrix and class scores must match the label count.
    public init(
        count: Int,
        classLabels: [Int],
        accuracy: Double,
        macroF1: Double,
        negativeLogLikelihood: Double,
        expectedCalibrationError: Double,
        calibrationBins: Int,
        confusionMatrix: [[Int]],
        classes: [ClassScore],
        worstClasses: [Int],
        mostConfused: [ConfusedPair]
    ) {
        precondition(confusionMatrix.count == classLabels.count && classes.count == classLabels.count)
        precondition(confusionMatrix.allSatisfy { $0.count == classLabels.count })
        precondition(worstClasses.count <= 255 && mostConfused.count <= 255 && calibrationBins <= 255)
        self.count = count
        self.classLabels = classLabels
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.negativeLogLikelihood = negativeLogLikelihood
        self.expectedCalibrationError = expectedCalibrationError
        self.calibrationBins = calibrationBins
        self.confusionMatrix = confusionMatrix
        self.classes = classes
        self.worstClasses = worstClasses
        self.mostConfused = mostConfused
    }

    func encode(into writer: inout WireWriter) {
        writer.write(UInt32(self.count))
        ComputeCodec.writeLabels(self.classLabels, into: &writer)
        writer.write(self.accuracy)
        writer.write(self.macroF1)
        writer.write(self.negativeLogLikelihood)
        writer.write(self.expectedCalibrationError)
        writer.write(UInt8(self.calibrationBins))
        for row in self.confusionMatrix {
            for cell in row { writer.write(UInt32(cell)) }
        }
        for score in self.classes {
            writer.write(score.precision)
            writer.write(score.recall)
            writer.write(score.f1)
            writer.write(UInt32(score.support))
        }
        writer.write(UInt8(self.worstClasses.count))
        for label in self.worstClasses { ComputeCodec.write(label, into: &writer) }
        writer.write(UInt8(self.mostConfused.count))
        for pair in self.mostConfused {
            ComputeCodec.write(pair.actual, into: &writer)
            ComputeCodec.write(pair.predicted, into: &writer)
            writer.write(UInt32(pair.count))
        }
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        let count = Int(try reader.readUInt32(field + ".count"))
        let labels = try ComputeCodec.readLabels(
            field + ".classLabels",
            maximum: ComputeLimits.maximumClasses,
            from: &reader
        )
        let classCount = labels.count
        let accuracy = try reader.readDouble(field + ".accuracy")
        let macroF1 = try reader.readDouble(field + ".macroF1")
        let nll = try reader.readDouble(field + ".negativeLogLikelihood")
        let ece = try reader.readDouble(field + ".expectedCalibrationError")
        let bins = Int(try reader.readUInt8(field + ".calibrationBins"))
        // The matrix and the scores take 32·K + 4·K² bytes: check before allocating K² cells.
        let needed = classCount * classCount * 4 + classCount * 28
        guard needed <= reader.remaining else {
            throw WireError(
                .truncated,
                "\(field).confusionMatrix: \(classCount) classes need \(needed) bytes at offset \(reader.offset), \(reader.remaining) left"
            )
        }
        var matrix: [[Int]] = []
        matrix.reserveCapacity(classCount)
        for actual in 0..<classCount {
            var row: [Int] = []
            row.reserveCapacity(classCount)
            for _ in 0..<classCount { row.append(Int(try reader.readUInt32("\(field).confusionMatrix[\(actual)]"))) }
            matrix.append(row)
        }
        var classes: [ClassScore] = []
        classes.reserveCapacity(classCount)
        for index in 0..<classCount {
            let name = "\(field).classes[\(index)]"
            classes.append(
                ClassScore(
                    label: labels[index],
                    precision: try reader.readDouble(name + ".precision"),
                    recall: try reader.readDouble(name + ".recall"),
                    f1: try reader.readDouble(name + ".f1"),
                    support: Int(try reader.readUInt32(name + ".support"))
                )
            )
        }
        let worstCount = Int(try reader.readUInt8(field + ".worstClasses.count"))
        guard worstCount <= classCount else {
            throw WireError(.invalidField, "\(field).worstClasses: \(worstCount) of \(classCount) classes")
        }
        var worst: [Int] = []
        for index in 0..<worstCount {
            worst.append(try ComputeCodec.readInt32("\(field).worstClasses[\(index)]", from: &reader))
        }
        let pairCount = Int(try reader.readUInt8(field + ".mostConfused.count"))
        var pairs: [ConfusedPair] = []
        for index in 0..<pairCount {
            let name = "\(field).mostConfused[\(index)]"
            pairs.append(
                ConfusedPair(
                    actual: try ComputeCodec.readInt32(name + ".actual", from: &reader),
                    predicted: try ComputeCodec.readInt32(name + ".predicted", from: &reader),
                    count: Int(try reader.readUInt32(name + ".count"))
                )
            )
        }
        self.init(
            count: count,
            classLabels: labels,
            accuracy: accuracy,
            macroF1: macroF1,
            negativeLogLikelihood: nll,
            expectedCalibrationError: ece,
            calibrationBins: bins,
            confusionMatrix: matrix,
            classes: classes,
            worstClasses: worst,
            mostConfused: pairs
        )
    }
}
