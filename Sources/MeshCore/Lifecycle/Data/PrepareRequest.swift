/// The input of `data.prepare`: one catalog source to read, clean, split, standardize and
/// augment for a use case.
///
/// ```swift
/// let request = PrepareRequest(useCaseID: "digits-uc", source: catalog.source("digits")!, seed: scenario.seed,
///                              options: template.preparation)
/// let spec = TaskSpec(id: id, role: .data, work: DataWork.prepare.rawValue, input: request.encoded(), duration: cost)
/// // … when it completes:
/// let dataset = try PreparedDataset(decoding: output)
/// ```
///
/// The same request (and the same file) gives the same bytes: every random draw comes from
/// `SeededRandom(seed: seed, key: "data/<use case>/<purpose>")`.
public struct PrepareRequest: Sendable, Hashable {
    /// The use case the data is for (1-128 bytes); it keys the random streams.
    public var useCaseID: String
    /// The source.
    public var source: CatalogSource
    /// The seed of the split, the augmentation and a synthetic source's rows.
    public var seed: UInt64
    /// The split fractions (stratified).
    public var split: SplitFractions
    /// The cleaning steps.
    public var cleaning: CleaningOptions
    /// The scaling.
    public var normalization: Normalization
    /// The augmentation of the training split, if any.
    public var augmentation: AugmentationOptions?
    /// Labelled rows appended to the source's before anything else (the feedback loop's "expand
    /// the dataset", or a stream source's window); a NaN is a missing value.
    public var extraRows: LabeledRows?
    /// Whether the extra rows all go to the training split, the source's rows keeping the split
    /// they had without them (the feedback loop: nothing of the hold-out moves into training).
    public var extraRowsTrainOnly = false

    /// A request.
    public init(
        useCaseID: String,
        source: CatalogSource,
        seed: UInt64,
        split: SplitFractions = SplitFractions(),
        cleaning: CleaningOptions = CleaningOptions(),
        normalization: Normalization = .standardize,
        augmentation: AugmentationOptions? = nil,
        extraRows: LabeledRows? = nil
    ) {
        self.useCaseID = useCaseID
        self.source = source
        self.seed = seed
        self.split = split
        self.cleaning = cleaning
        self.normalization = normalization
        self.augmentation = augmentation
        self.extraRows = extraRows
    }

    /// A request with a template's preparation options.
    public init(
        useCaseID: String,
        source: CatalogSource,
        seed: UInt64,
        options: PreparationOptions,
        extraRows: LabeledRows? = nil
    ) {
        self.init(
            useCaseID: useCaseID,
            source: source,
            seed: seed,
            split: options.split,
            cleaning: options.cleaning,
            normalization: options.normalization,
            augmentation: options.augmentation,
            extraRows: extraRows
        )
    }

    /// Why this request cannot be prepared whatever the data, or nil.
    public var validationProblem: String? {
        self.source.validationProblem ?? self.split.validationProblem ?? self.cleaning.validationProblem
            ?? self.augmentation?.validationProblem
    }

    /// The task input bytes (docs/DATA.md, "Bytes").
    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 512 + (self.extraRows.map { $0.features.encodedSize + 4 * $0.labels.count } ?? 0))
        DataProtocol.writeHeader(DataProtocol.prepareRequestMagic, into: &writer)
        writer.write(self.useCaseID)
        self.source.encode(into: &writer)
        writer.write(self.seed)
        writer.write(self.split.train)
        writer.write(self.split.validation)
        writer.write(self.split.test)
        writer.write(self.cleaning.imputeMissing)
        writer.write(self.cleaning.dropDuplicates)
        writer.write(self.cleaning.outlierK)
        writer.write(self.normalization == .standardize ? UInt8(1) : UInt8(0))
        writer.write(self.augmentation != nil)
        if let augmentation = self.augmentation {
            writer.write(UInt32(augmentation.copies))
            writer.write(augmentation.noiseSigma)
            writer.write(augmentation.shift != nil)
            if let shift = augmentation.shift {
                writer.write(UInt32(shift.width))
                writer.write(UInt32(shift.height))
            }
        }
        writer.write(self.extraRows != nil)
        if let extraRows = self.extraRows {
            extraRows.encode(into: &writer)
            writer.write(self.extraRowsTrainOnly)
        }
        return writer.bytes
    }

    /// Reads task input bytes, bounding every count and rejecting trailing bytes and options
    /// out of their domain.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        try DataProtocol.readHeader(DataProtocol.prepareRequestMagic, "prepare_request", from: &reader)
        self.useCaseID = try DataProtocol.readUseCaseID("prepare_request.use_case", from: &reader)
        self.source = try CatalogSource(from: &reader, field: "prepare_request.source")
        self.seed = try reader.readUInt64("prepare_request.seed")
        self.split = SplitFractions(
            train: try reader.readDouble("prepare_request.split.train"),
            validation: try reader.readDouble("prepare_request.split.validation"),
            test: try reader.readDouble("prepare_request.split.test")
        )
        self.cleaning = CleaningOptions(
            imputeMissing: try reader.readBool("prepare_request.cleaning.impute_missing"),
            dropDuplicates: try reader.readBool("prepare_request.cleaning.drop_duplicates"),
            outlierK: try reader.readDouble("prepare_request.cleaning.outlier_k")
        )
        let normalization = try ComputeCodec.readTag("prepare_request.normalization", allowed: 0...1, from: &reader)
        self.normalization = normalization == 1 ? .standardize : .none
        if try reader.readBool("prepare_request.has_augmentation") {
            let copies = Int(try reader.readUInt32("prepare_request.augmentation.copies"))
            let sigma = try reader.readDouble("prepare_request.augmentation.noise_sigma")
            var shift: AugmentationOptions.ImageShape?
            if try reader.readBool("prepare_request.augmentation.has_shift") {
                shift = AugmentationOptions.ImageShape(
                    width: Int(try reader.readUInt32("prepare_request.augmentation.shift.width")),
                    height: Int(try reader.readUInt32("prepare_request.augmentation.shift.height"))
                )
            }
            self.augmentation = AugmentationOptions(copies: copies, noiseSigma: sigma, shift: shift)
        } else {
            self.augmentation = nil
        }
        if try reader.readBool("prepare_request.has_extra_rows") {
            self.extraRows = try LabeledRows(from: &reader, field: "prepare_request.extra_rows")
            self.extraRowsTrainOnly = try reader.readBool("prepare_request.extra_rows_train_only")
        } else {
            self.extraRows = nil
        }
        try reader.expectEnd("prepare_request")
        if let problem = self.split.validationProblem ?? self.cleaning.validationProblem
            ?? self.augmentation?.validationProblem
        {
            throw WireError(.invalidField, "prepare_request: \(problem)")
        }
    }
}
