internal import Crypto

/// The output of `data.prepare`: a versioned dataset, standardized and split, with everything
/// needed to use, reproduce and audit it.
///
/// The splits are ``LabeledRows``, the compute protocol's own form, so a model agent sends them
/// to a compute node as they are (`.inline(dataset.train)`, or as a blob:
/// `dataset.train.encodedBlob()`). ``contentHash`` names this version of the data in lineage.
///
/// ```swift
/// let dataset = try PreparedDataset(decoding: output)        // checks the hash
/// let request = TrainRequest(architecture: "mlp:64", classLabels: dataset.classLabels,
///                            hyperparameters: Hyperparameters(epochs: 60, seed: seed), data: .inline(dataset.train))
/// ```
public struct PreparedDataset: Sendable, Hashable {
    /// The training split, standardized, augmented rows after the original ones.
    public var train: LabeledRows
    /// The validation split, standardized with the training statistics (may have no rows).
    public var validation: LabeledRows
    /// The test split, standardized with the training statistics.
    public var test: LabeledRows
    /// The classes, ascending: the source's declared classes, or the labels found.
    public var classLabels: [Int]
    /// The statistics the splits were standardized with (the cleaned training split's), to apply
    /// to live rows before prediction.
    public var standardizer: Standardizer
    /// What preparation found and did.
    public var profile: DatasetProfile
    /// The SHA-256 of the three splits' encoded bytes (``contentHash(train:validation:test:)``).
    public var contentHash: BlobHash

    /// A dataset from parts; ``contentHash`` is computed.
    public init(
        train: LabeledRows,
        validation: LabeledRows,
        test: LabeledRows,
        classLabels: [Int],
        standardizer: Standardizer,
        profile: DatasetProfile
    ) {
        self.train = train
        self.validation = validation
        self.test = test
        self.classLabels = classLabels
        self.standardizer = standardizer
        self.profile = profile
        self.contentHash = Self.contentHash(train: train, validation: validation, test: test)
    }

    /// The SHA-256 of `train`, `validation` and `test` encoded one after the other as
    /// ``LabeledRows`` (TensorFrame, then u32 count and i32 labels): the bytes at offset 6 of
    /// the encoded dataset.
    public static func contentHash(train: LabeledRows, validation: LabeledRows, test: LabeledRows) -> BlobHash {
        BlobHash(of: Self.encodedSplits(train: train, validation: validation, test: test))
    }

    static func encodedSplits(train: LabeledRows, validation: LabeledRows, test: LabeledRows) -> [UInt8] {
        let size = [train, validation, test].reduce(0) { $0 + $1.features.encodedSize + 4 + 4 * $1.labels.count }
        var writer = WireWriter(capacity: size)
        train.encode(into: &writer)
        validation.encode(into: &writer)
        test.encode(into: &writer)
        return writer.bytes
    }

    /// The task output bytes (docs/DATA.md, "Bytes"): header, the three splits, then the classes,
    /// the standardizer and the profile as length-prefixed sections, then the 32-byte hash.
    public func encoded() -> [UInt8] {
        let splits = Self.encodedSplits(train: self.train, validation: self.validation, test: self.test)
        var writer = WireWriter(capacity: splits.count + 1024 + 64 * self.profile.features.count)
        DataProtocol.writeHeader(DataProtocol.preparedDatasetMagic, into: &writer)
        writer.writeRaw(splits)
        DataCodec.writeSection(into: &writer) { section in
            ComputeCodec.writeLabels(self.classLabels, into: &section)
        }
        DataCodec.writeSection(into: &writer) { section in
            DataCodec.writeCount(self.standardizer.mean.count, into: &section)
            ComputeCodec.writeFloats(self.standardizer.mean, into: &section)
            ComputeCodec.writeFloats(self.standardizer.std, into: &section)
        }
        DataCodec.writeSection(into: &writer) { section in
            self.profile.encode(into: &section)
        }
        writer.writeRaw(self.contentHash.bytes)
        return writer.bytes
    }

    /// Reads task output bytes: checks the header, every count and section length, that the
    /// splits, the standardizer and the profile agree on the feature count and the labels on the
    /// rows, that every label is one of the classes, and that the hash matches the splits' bytes.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        try DataProtocol.readHeader(DataProtocol.preparedDatasetMagic, "dataset", from: &reader)
        let splitsStart = reader.offset
        self.train = try LabeledRows(from: &reader, field: "dataset.train")
        self.validation = try LabeledRows(from: &reader, field: "dataset.validation")
        self.test = try LabeledRows(from: &reader, field: "dataset.test")
        let splitsEnd = reader.offset
        self.classLabels = try DataCodec.readSection("dataset.classes", from: &reader) { (section) throws(WireError) in
            try ComputeCodec.readLabels("dataset.classes", maximum: ComputeLimits.maximumClasses, from: &section)
        }
        self.standardizer = try DataCodec.readSection("dataset.standardizer", from: &reader) {
            (section) throws(WireError) in
            let count = try ComputeCodec.readCount(
                "dataset.standardizer",
                maximum: ComputeLimits.maximumColumns,
                elementSize: 8,
                from: &section
            )
            let mean = try ComputeCodec.readFloats(count, "dataset.standardizer.mean", from: &section)
            let std = try ComputeCodec.readFloats(count, "dataset.standardizer.std", from: &section)
            return Standardizer(mean: mean, std: std)
        }
        self.profile = try DataCodec.readSection("dataset.profile", from: &reader) { (section) throws(WireError) in
            try DatasetProfile(from: &section, field: "dataset.profile")
        }
        self.contentHash = try BlobHash(reading: &reader, field: "dataset.content_hash")
        try reader.expectEnd("dataset")
        try self.checkConsistency()
        let digest = Array(SHA256.hash(data: bytes[splitsStart..<splitsEnd]))
        guard digest == self.contentHash.bytes else {
            throw WireError(
                .invalidField,
                "dataset.content_hash: \(self.contentHash) does not match the splits' bytes (sha256:\(Hex.encode(digest)))"
            )
        }
    }

    private func checkConsistency() throws(WireError) {
        let width = self.standardizer.featureCount
        for (name, split) in [("train", self.train), ("validation", self.validation), ("test", self.test)] {
            guard split.features.columns == width else {
                throw WireError(
                    .invalidField,
                    "dataset.\(name): \(split.features.columns) columns, the standardizer has \(width)"
                )
            }
            guard split.labels.count == split.features.rows else {
                throw WireError(
                    .invalidField,
                    "dataset.\(name): \(split.labels.count) labels for \(split.features.rows) rows"
                )
            }
        }
        guard self.profile.featureCount == width, self.profile.features.count == width else {
            throw WireError(
                .invalidField,
                "dataset.profile: \(self.profile.featureCount) features, the standardizer has \(width)"
            )
        }
        let classes = Set(self.classLabels)
        guard classes.count == self.classLabels.count else {
            throw WireError(.invalidField, "dataset.classes: a label appears twice")
        }
        for (name, split) in [("train", self.train), ("validation", self.validation), ("test", self.test)] {
            if let index = split.labels.firstIndex(where: { !classes.contains($0) }) {
                throw WireError(
                    .invalidField,
                    "dataset.\(name).labels[\(index)]: \(split.labels[index]) is not one of the classes"
                )
            }
        }
    }
}
