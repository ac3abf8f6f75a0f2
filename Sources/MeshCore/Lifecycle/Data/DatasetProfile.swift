/// What preparing a dataset found and did: the counts a person checks before trusting a model
/// trained on it, and the training split's feature statistics that monitoring compares live data
/// against.
///
/// Row counts: ``rowsRead`` + ``extraRows`` − ``duplicatesRemoved`` = ``rowsKept`` = the rows of
/// the three splits before augmentation; the training split then gains ``augmentedRows``.
public struct DatasetProfile: Sendable, Hashable {
    /// The catalog source prepared.
    public var sourceID: String
    /// Rows read from the source (file rows, generated rows; 0 for a stream).
    public var rowsRead: Int
    /// Rows appended from the request.
    public var extraRows: Int
    /// Rows left after duplicates were dropped, over all three splits.
    public var rowsKept: Int
    /// Per class, the rows of each split (the training count without augmented rows).
    public var classCounts: [ClassCount]
    /// Missing cells replaced with the training median, over the kept rows of all splits.
    public var missingImputed: Int
    /// Exact duplicate rows dropped.
    public var duplicatesRemoved: Int
    /// Values clipped to the training split's mean ± k·std, over all splits.
    public var outliersClipped: Int
    /// Augmented rows added to the training split.
    public var augmentedRows: Int
    /// The number of features per row.
    public var featureCount: Int
    /// Per feature, statistics of the cleaned training split before augmentation and scaling.
    public var features: [FeatureSummary]

    /// One class's rows per split.
    public struct ClassCount: Sendable, Hashable {
        /// The class label.
        public var label: Int
        /// Training rows (without augmented ones).
        public var train: Int
        /// Validation rows.
        public var validation: Int
        /// Test rows.
        public var test: Int

        /// A count.
        public init(label: Int, train: Int, validation: Int, test: Int) {
            self.label = label
            self.train = train
            self.validation = validation
            self.test = test
        }
    }

    /// One feature's statistics.
    public struct FeatureSummary: Sendable, Hashable {
        /// The feature's column name.
        public var name: String
        /// The mean.
        public var mean: Double
        /// The population standard deviation.
        public var std: Double
        /// The smallest value.
        public var min: Double
        /// The largest value.
        public var max: Double

        /// A summary.
        public init(name: String, mean: Double, std: Double, min: Double, max: Double) {
            self.name = name
            self.mean = mean
            self.std = std
            self.min = min
            self.max = max
        }
    }

    /// A profile from parts.
    public init(
        sourceID: String,
        rowsRead: Int,
        extraRows: Int,
        rowsKept: Int,
        classCounts: [ClassCount],
        missingImputed: Int,
        duplicatesRemoved: Int,
        outliersClipped: Int,
        augmentedRows: Int,
        featureCount: Int,
        features: [FeatureSummary]
    ) {
        self.sourceID = sourceID
        self.rowsRead = rowsRead
        self.extraRows = extraRows
        self.rowsKept = rowsKept
        self.classCounts = classCounts
        self.missingImputed = missingImputed
        self.duplicatesRemoved = duplicatesRemoved
        self.outliersClipped = outliersClipped
        self.augmentedRows = augmentedRows
        self.featureCount = featureCount
        self.features = features
    }

    // MARK: Wire

    func encode(into writer: inout WireWriter) {
        writer.write(self.sourceID)
        for count in [
            self.rowsRead, self.extraRows, self.rowsKept, self.missingImputed, self.duplicatesRemoved,
            self.outliersClipped, self.augmentedRows, self.featureCount,
        ] {
            DataCodec.writeCount(count, into: &writer)
        }
        DataCodec.writeCount(self.classCounts.count, into: &writer)
        for count in self.classCounts {
            ComputeCodec.write(count.label, into: &writer)
            DataCodec.writeCount(count.train, into: &writer)
            DataCodec.writeCount(count.validation, into: &writer)
            DataCodec.writeCount(count.test, into: &writer)
        }
        DataCodec.writeCount(self.features.count, into: &writer)
        for feature in self.features {
            writer.write(DataCodec.clipped(feature.name, maximumBytes: 256))
            writer.write(feature.mean)
            writer.write(feature.std)
            writer.write(feature.min)
            writer.write(feature.max)
        }
    }

    init(from reader: inout WireReader, field: String) throws(WireError) {
        self.sourceID = try reader.readString(field + ".source", maxLength: 64)
        var counts: [Int] = []
        for name in [
            "rows_read", "extra_rows", "rows_kept", "missing_imputed", "duplicates_removed", "outliers_clipped",
            "augmented_rows", "feature_count",
        ] {
            counts.append(Int(try reader.readUInt32("\(field).\(name)")))
        }
        self.rowsRead = counts[0]
        self.extraRows = counts[1]
        self.rowsKept = counts[2]
        self.missingImputed = counts[3]
        self.duplicatesRemoved = counts[4]
        self.outliersClipped = counts[5]
        self.augmentedRows = counts[6]
        self.featureCount = counts[7]
        let classCount = try ComputeCodec.readCount(
            field + ".classes",
            maximum: ComputeLimits.maximumClasses,
            elementSize: 16,
            from: &reader
        )
        var classCounts: [ClassCount] = []
        classCounts.reserveCapacity(classCount)
        for index in 0..<classCount {
            let prefix = "\(field).classes[\(index)]"
            classCounts.append(
                ClassCount(
                    label: try ComputeCodec.readInt32(prefix + ".label", from: &reader),
                    train: Int(try reader.readUInt32(prefix + ".train")),
                    validation: Int(try reader.readUInt32(prefix + ".validation")),
                    test: Int(try reader.readUInt32(prefix + ".test"))
                )
            )
        }
        self.classCounts = classCounts
        let featureCount = try ComputeCodec.readCount(
            field + ".features",
            maximum: ComputeLimits.maximumColumns,
            elementSize: 34,
            from: &reader
        )
        var features: [FeatureSummary] = []
        features.reserveCapacity(featureCount)
        for index in 0..<featureCount {
            let prefix = "\(field).features[\(index)]"
            features.append(
                FeatureSummary(
                    name: try reader.readString(prefix + ".name", maxLength: 256),
                    mean: try reader.readDouble(prefix + ".mean"),
                    std: try reader.readDouble(prefix + ".std"),
                    min: try reader.readDouble(prefix + ".min"),
                    max: try reader.readDouble(prefix + ".max")
                )
            )
        }
        self.features = features
    }
}
