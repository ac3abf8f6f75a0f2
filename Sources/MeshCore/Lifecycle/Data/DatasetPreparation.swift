/// The steps of `data.prepare`, in order, on rows held row-major in one `[Float]` (NaN marks a
/// missing value until imputation): read → check labels → append extra rows → drop duplicates →
/// split → impute → clip → profile and fit → augment → standardize.
///
/// Pure: the CSV text is given (the worker reads the file), randomness comes from
/// `SeededRandom(seed:key:)` with keys `data/<use case>/split`, `…/augment/shift`,
/// `…/augment/noise` and `…/synthetic/<source>/<salt>`.
struct DatasetPreparation {
    let request: PrepareRequest
    /// The name used in dataset errors: the CSV path, `synthetic:<id>` or `stream:<id>`.
    private(set) var sourceName: String
    private(set) var featureNames: [String] = []
    private(set) var features: [Float] = []
    private(set) var labels: [Int] = []
    private var rowsRead = 0
    private var extraRows = 0
    /// Per row: whether it came with the request (kept in step with `labels`).
    private var isExtra: [Bool] = []
    private var duplicatesRemoved = 0
    private var missingImputed = 0
    private var outliersClipped = 0

    private var width: Int { self.featureNames.count }
    private var sourceID: String { self.request.source.id }

    init(request: PrepareRequest) {
        self.request = request
        switch request.source.kind {
        case .csv(let path): self.sourceName = path
        case .synthetic: self.sourceName = "synthetic:\(request.source.id)"
        case .stream: self.sourceName = "stream:\(request.source.id)"
        }
    }

    /// Runs every step; `sourceText` is the CSV file's text for a CSV source.
    mutating func run(sourceText: String?) throws(DataError) -> PreparedDataset {
        guard case .csv = self.request.source.kind, let sourceText else { return try self.run(parsed: nil) }
        return try self.run(parsed: ParsedCSVSource(text: sourceText, for: self.request))
    }

    /// Runs every step from a CSV source's text scanned and parsed already (nil: no text was read).
    mutating func run(parsed: ParsedCSVSource?) throws(DataError) -> PreparedDataset {
        if let problem = self.request.validationProblem {
            throw DataError(.invalidRequest, self.sourceID, problem)
        }
        try self.read(parsed: parsed)
        try self.appendExtraRows()
        guard self.width > 0 else {
            throw DataError(.invalidData, self.sourceID, "\(self.sourceName): no feature columns besides the label")
        }
        guard !self.labels.isEmpty else {
            throw DataError(.invalidData, self.sourceID, "\(self.sourceName): no rows")
        }
        let classLabels = self.request.source.classes?.sorted() ?? Array(Set(self.labels)).sorted()
        guard classLabels.count <= ComputeLimits.maximumClasses else {
            throw DataError(
                .invalidData,
                self.sourceID,
                "\(self.sourceName): \(classLabels.count) classes, at most \(ComputeLimits.maximumClasses)"
            )
        }
        if self.request.cleaning.dropDuplicates { self.dropDuplicates() }
        let (train, validation, test) = try self.split()
        try self.impute(training: train)
        if self.request.cleaning.outlierK > 0 { self.clip(training: train, k: self.request.cleaning.outlierK) }
        let trainValues = self.gather(train)
        let summary = self.summarize(trainValues, rows: train.count)
        let standardizer: Standardizer
        switch self.request.normalization {
        case .standardize:
            do {
                standardizer = try Standardizer(fitting: trainValues, columns: self.width, source: self.sourceName)
            } catch {
                throw DataError(error, sourceID: self.sourceID)
            }
        case .none:
            standardizer = Standardizer(
                mean: Array(repeating: 0, count: self.width),
                std: Array(repeating: 1, count: self.width)
            )
        }
        var trainFeatures = trainValues
        var trainLabels = train.map { self.labels[$0] }
        let augmented = try self.augment(trainValues, labels: trainLabels)
        trainFeatures.append(contentsOf: augmented.features)
        trainLabels.append(contentsOf: augmented.labels)
        var validationFeatures = self.gather(validation)
        var testFeatures = self.gather(test)
        if self.request.normalization == .standardize {
            standardizer.apply(to: &trainFeatures)
            standardizer.apply(to: &validationFeatures)
            standardizer.apply(to: &testFeatures)
        }
        let profile = DatasetProfile(
            sourceID: self.sourceID,
            rowsRead: self.rowsRead,
            extraRows: self.extraRows,
            rowsKept: self.labels.count,
            classCounts: classLabels.map { label in
                DatasetProfile.ClassCount(
                    label: label,
                    train: train.count(where: { self.labels[$0] == label }),
                    validation: validation.count(where: { self.labels[$0] == label }),
                    test: test.count(where: { self.labels[$0] == label })
                )
            },
            missingImputed: self.missingImputed,
            duplicatesRemoved: self.duplicatesRemoved,
            outliersClipped: self.outliersClipped,
            augmentedRows: augmented.labels.count,
            featureCount: self.width,
            features: summary
        )
        return PreparedDataset(
            train: self.rows(trainFeatures, labels: trainLabels),
            validation: self.rows(validationFeatures, labels: validation.map { self.labels[$0] }),
            test: self.rows(testFeatures, labels: test.map { self.labels[$0] }),
            classLabels: classLabels,
            standardizer: standardizer,
            profile: profile
        )
    }

    // MARK: Reading

    private mutating func read(parsed: ParsedCSVSource?) throws(DataError) {
        let source = self.request.source
        switch source.kind {
        case .csv:
            guard let parsed else {
                throw DataError(.sourceUnavailable, source.id, "\(self.sourceName): no text was read for the CSV source")
            }
            precondition(
                parsed.sourceName == self.sourceName && parsed.labelColumn == source.labelColumn
                    && parsed.imputeMissing == self.request.cleaning.imputeMissing,
                "a CSV source parsed for another request")
            let scan = parsed.scan
            let table: CSVTable
            do {
                table = try parsed.table.get()
            } catch {
                throw DataError(error, sourceID: source.id)
            }
            guard scan.lineOfRow.count == table.rowCount, let labelColumn = scan.labelColumn else {
                throw DataError(
                    .invalidData,
                    source.id,
                    "\(self.sourceName): the scan found \(scan.lineOfRow.count) rows, the parser \(table.rowCount)"
                )
            }
            self.featureNames = table.featureNames
            self.features = table.features
            self.labels = table.labels
            if self.request.cleaning.imputeMissing {
                for cell in scan.missing { self.features[cell.row * self.width + cell.feature] = .nan }
            }
            // Labels travel as i32 (LabeledRows); a wider one would silently become another class.
            if let row = self.labels.firstIndex(where: { Int32(exactly: $0) == nil }) {
                throw DataError(
                    DatasetError(
                        .invalidLabel,
                        source: self.sourceName,
                        line: scan.lineOfRow[row],
                        column: labelColumn,
                        "label \(self.labels[row]) does not fit in 32 bits"
                    ),
                    sourceID: source.id
                )
            }
            if let classes = source.classes {
                let allowed = Set(classes)
                if let row = self.labels.firstIndex(where: { !allowed.contains($0) }) {
                    throw DataError(
                        DatasetError(
                            .invalidLabel,
                            source: self.sourceName,
                            line: scan.lineOfRow[row],
                            column: labelColumn,
                            "label \(self.labels[row]) is not one of the classes declared for \(source.id) "
                                + "(\(Self.list(classes.sorted())))"
                        ),
                        sourceID: source.id
                    )
                }
            }
        case .synthetic(let generator):
            let table = generator.generate(seed: self.request.seed, useCaseID: self.request.useCaseID, sourceID: source.id)
            self.featureNames = table.featureNames
            self.features = table.features
            self.labels = table.labels
            if let classes = source.classes, Set(classes) != Set(0..<generator.classes) {
                throw DataError(
                    .invalidData,
                    source.id,
                    "\(self.sourceName): the generator draws classes 0-\(generator.classes - 1), "
                        + "the catalog declares \(Self.list(classes.sorted()))"
                )
            }
        case .stream:
            guard let extra = self.request.extraRows, !extra.labels.isEmpty else {
                throw DataError(
                    .invalidData,
                    source.id,
                    "\(self.sourceName): no rows; a stream source's rows come with the request as extra rows"
                )
            }
            self.featureNames = (0..<extra.features.columns).map { "x\($0 + 1)" }
        }
        self.rowsRead = self.labels.count
    }

    private mutating func appendExtraRows() throws(DataError) {
        guard let extra = self.request.extraRows else { return }
        let name = "\(self.sourceName) (extra rows)"
        guard extra.features.columns == self.width else {
            throw DataError(
                .invalidRequest,
                self.sourceID,
                "\(name): \(extra.features.columns) features per row, the source has \(self.width)"
            )
        }
        guard extra.labels.count == extra.features.rows else {
            throw DataError(
                .invalidRequest,
                self.sourceID,
                "\(name): \(extra.labels.count) labels for \(extra.features.rows) rows"
            )
        }
        let allowed = self.request.source.classes.map(Set.init)
        for row in 0..<extra.features.rows {
            if let allowed, !allowed.contains(extra.labels[row]) {
                throw DataError(
                    .invalidData,
                    self.sourceID,
                    "\(name): row \(row + 1): label \(extra.labels[row]) is not one of the classes declared for "
                        + "\(self.sourceID)"
                )
            }
            for (column, value) in extra.features.row(row).enumerated() where !value.isFinite {
                guard value.isNaN else {
                    throw DataError(
                        .invalidData,
                        self.sourceID,
                        "\(name): row \(row + 1), column \(column + 1): \(value) is not a finite number"
                    )
                }
                guard self.request.cleaning.imputeMissing else {
                    throw DataError(
                        .invalidData,
                        self.sourceID,
                        "\(name): row \(row + 1), column \(column + 1): a missing value and imputation is off"
                    )
                }
            }
        }
        self.isExtra = Array(repeating: false, count: self.labels.count) + Array(repeating: true, count: extra.labels.count)
        self.features.append(contentsOf: extra.features.values)
        self.labels.append(contentsOf: extra.labels)
        self.extraRows = extra.labels.count
    }

    // MARK: Cleaning

    private mutating func dropDuplicates() {
        var seen = Set<[UInt32]>(minimumCapacity: self.labels.count)
        var kept: [Int] = []
        kept.reserveCapacity(self.labels.count)
        var key = [UInt32](repeating: 0, count: self.width + 1)
        for row in 0..<self.labels.count {
            for column in 0..<self.width {
                let value = self.features[row * self.width + column]
                // One key for every NaN and for ±0, so "equal values" means equal as numbers.
                key[column] = value.isNaN ? 0x7FC0_0000 : (value == 0 ? 0 : value.bitPattern)
            }
            key[self.width] = UInt32(bitPattern: Int32(truncatingIfNeeded: self.labels[row]))
            if seen.insert(key).inserted { kept.append(row) }
        }
        guard kept.count < self.labels.count else { return }
        self.duplicatesRemoved = self.labels.count - kept.count
        self.features = self.gather(kept)
        self.labels = kept.map { self.labels[$0] }
        if !self.isExtra.isEmpty { self.isExtra = kept.map { self.isExtra[$0] } }
    }

    /// Stratified train/validation/test rows, each ascending: the test rows first (fraction
    /// `test`), then the validation rows from the rest (fraction `validation / (train + validation)`),
    /// both from the stream `data/<use case>/split`.
    private func split() throws(DataError) -> (train: [Int], validation: [Int], test: [Int]) {
        guard self.request.extraRowsTrainOnly, self.isExtra.contains(true) else { return try self.split(self.labels.indices.map { $0 }) }
        let source = self.labels.indices.filter { !self.isExtra[$0] }
        let extra = self.labels.indices.filter { self.isExtra[$0] }
        let (train, validation, test) = try self.split(source)
        return ((train + extra).sorted(), validation, test)
    }

    /// The split of `rows` (ascending indices into `labels`), as indices into `labels`.
    private func split(_ rows: [Int]) throws(DataError) -> (train: [Int], validation: [Int], test: [Int]) {
        let labels = rows.map { self.labels[$0] }
        let (train, validation, test) = try self.splitLabels(labels)
        return (train.map { rows[$0] }, validation.map { rows[$0] }, test.map { rows[$0] })
    }

    private func splitLabels(_ labels: [Int]) throws(DataError) -> (train: [Int], validation: [Int], test: [Int]) {
        let fractions = self.request.split
        let needed = fractions.validation > 0 ? 3 : 2
        var perClass: [Int: Int] = [:]
        for label in labels { perClass[label, default: 0] += 1 }
        if let (label, count) = perClass.sorted(by: { $0.key < $1.key }).first(where: { $0.value < needed }) {
            throw DataError(
                DatasetError(
                    .invalidSplit,
                    source: self.sourceName,
                    "class \(label) has \(count) row\(count == 1 ? "" : "s") after cleaning; a "
                        + (needed == 3 ? "train/validation/test" : "train/test")
                        + " split needs at least \(needed) per class"
                ),
                sourceID: self.sourceID
            )
        }
        var random = SeededRandom(seed: self.request.seed, key: "data/\(self.request.useCaseID)/split")
        do {
            let first = try StratifiedSplit(
                labels: labels,
                testFraction: fractions.test,
                source: self.sourceName,
                using: &random
            )
            guard fractions.validation > 0 else { return (first.train, [], first.test) }
            let rest = first.train
            let second = try StratifiedSplit(
                labels: rest.map { labels[$0] },
                testFraction: fractions.validation / (fractions.train + fractions.validation),
                source: self.sourceName,
                using: &random
            )
            return (second.train.map { rest[$0] }, second.test.map { rest[$0] }, first.test)
        } catch {
            throw DataError(error, sourceID: self.sourceID)
        }
    }

    /// Replaces every NaN with its feature's median over the training rows' known values.
    private mutating func impute(training rows: [Int]) throws(DataError) {
        var columnsWithGaps = Set<Int>()
        for (index, value) in self.features.enumerated() where value.isNaN {
            columnsWithGaps.insert(index % self.width)
            self.missingImputed += 1
        }
        for column in columnsWithGaps.sorted() {
            var known = rows.map { self.features[$0 * self.width + column] }.filter { !$0.isNaN }
            guard !known.isEmpty else {
                throw DataError(
                    .invalidData,
                    self.sourceID,
                    "\(self.sourceName): column \(self.featureNames[column]) has no value in the training split "
                        + "to impute its missing cells from"
                )
            }
            known.sort()
            let middle = known.count / 2
            let median =
                known.count % 2 == 1 ? known[middle] : Float((Double(known[middle - 1]) + Double(known[middle])) / 2)
            var index = column
            while index < self.features.count {
                if self.features[index].isNaN { self.features[index] = median }
                index += self.width
            }
        }
    }

    /// Clips every value of every split to the training rows' mean ± k·std of its feature.
    private mutating func clip(training rows: [Int], k: Double) {
        let (mean, std) = Self.moments(self.gather(rows), rows: rows.count, width: self.width)
        // Bounds in Float, so a constant feature (whose Double mean may differ from its value in
        // the last bits) never counts a value as clipped to itself.
        let low = (0..<self.width).map { Float(mean[$0] - k * std[$0]) }
        let high = (0..<self.width).map { Float(mean[$0] + k * std[$0]) }
        var clipped = 0
        let width = self.width
        self.features.withUnsafeMutableBufferPointer { values in
            var offset = 0
            while offset < values.count {
                for column in 0..<width {
                    let value = values[offset + column]
                    if value < low[column] {
                        values[offset + column] = low[column]
                        clipped += 1
                    } else if value > high[column] {
                        values[offset + column] = high[column]
                        clipped += 1
                    }
                }
                offset += width
            }
        }
        self.outliersClipped = clipped
    }

    // MARK: Profile

    private func summarize(_ values: [Float], rows: Int) -> [DatasetProfile.FeatureSummary] {
        let (mean, std) = Self.moments(values, rows: rows, width: self.width)
        var low = Array(values[0..<self.width])
        var high = low
        var offset = self.width
        while offset < values.count {
            for column in 0..<self.width {
                low[column] = min(low[column], values[offset + column])
                high[column] = max(high[column], values[offset + column])
            }
            offset += self.width
        }
        return (0..<self.width).map { column in
            DatasetProfile.FeatureSummary(
                name: DataCodec.clipped(self.featureNames[column], maximumBytes: 256),
                mean: mean[column],
                std: std[column],
                min: Double(low[column]),
                max: Double(high[column])
            )
        }
    }

    /// Per-column mean and population standard deviation, summed in Double in row order.
    private static func moments(_ values: [Float], rows: Int, width: Int) -> (mean: [Double], std: [Double]) {
        var sum = [Double](repeating: 0, count: width)
        for (index, value) in values.enumerated() { sum[index % width] += Double(value) }
        let mean = sum.map { $0 / Double(rows) }
        var squares = [Double](repeating: 0, count: width)
        for (index, value) in values.enumerated() {
            let d = Double(value) - mean[index % width]
            squares[index % width] += d * d
        }
        return (mean, squares.map { ($0 / Double(rows)).squareRoot() })
    }

    // MARK: Augmentation

    /// The augmented copies of the training rows, copy by copy, each in row order.
    private func augment(_ values: [Float], labels: [Int]) throws(DataError) -> (features: [Float], labels: [Int]) {
        guard let options = self.request.augmentation else { return ([], []) }
        if let shape = options.shift, shape.width * shape.height != self.width {
            throw DataError(
                .invalidRequest,
                self.sourceID,
                "augmentation: a \(shape.width) x \(shape.height) shift needs \(shape.width * shape.height) features, "
                    + "\(self.sourceName) has \(self.width)"
            )
        }
        let prefix = "data/\(self.request.useCaseID)/augment"
        var shifts = SeededRandom(seed: self.request.seed, key: prefix + "/shift")
        var noise = GaussianSampler(SeededRandom(seed: self.request.seed, key: prefix + "/noise"))
        let rows = labels.count
        var features = [Float]()
        features.reserveCapacity(options.copies * values.count)
        var row = [Float](repeating: 0, count: self.width)
        for _ in 0..<options.copies {
            for index in 0..<rows {
                let original = values[(index * self.width)..<((index + 1) * self.width)]
                if let shape = options.shift {
                    let (dx, dy) = Self.neighbours[Int(shifts.next(below: 8))]
                    for y in 0..<shape.height {
                        for x in 0..<shape.width {
                            let (sx, sy) = (x - dx, y - dy)
                            let inside = sx >= 0 && sx < shape.width && sy >= 0 && sy < shape.height
                            row[y * shape.width + x] = inside ? original[original.startIndex + sy * shape.width + sx] : 0
                        }
                    }
                } else {
                    row.replaceSubrange(0..<self.width, with: original)
                }
                if options.noiseSigma > 0 {
                    for column in 0..<self.width { row[column] += Float(options.noiseSigma * noise.next()) }
                }
                features.append(contentsOf: row)
            }
        }
        return (features, Array((0..<options.copies).map { _ in labels }.joined()))
    }

    /// The eight one-pixel moves (dx, dy).
    private static let neighbours = [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]

    // MARK: Helpers

    private func gather(_ rows: [Int]) -> [Float] {
        var values = [Float]()
        values.reserveCapacity(rows.count * self.width)
        for row in rows { values.append(contentsOf: self.features[(row * self.width)..<((row + 1) * self.width)]) }
        return values
    }

    private func rows(_ features: [Float], labels: [Int]) -> LabeledRows {
        LabeledRows(features: TensorFrame(rows: labels.count, columns: self.width, values: features), labels: labels)
    }

    private static func list(_ labels: [Int]) -> String {
        let shown = labels.prefix(20).map(String.init).joined(separator: ", ")
        return labels.count > 20 ? shown + ", …" : shown
    }
}
