import Foundation
import MeshCore
import Testing

/// `data.prepare`'s pure part on the real datasets and on crafted tables.
@Suite("Data preparation")
struct DataPreparationTests {
    static let digits = DataFixtures.csv("digits", "scenarios/data/digits.csv", classes: Array(0...9))
    static let breastCancer = DataFixtures.csv("breast-cancer", "scenarios/data/breast_cancer.csv", classes: [0, 1])

    static func prepare(_ request: PrepareRequest) throws -> PreparedDataset {
        var text: String?
        if case .csv(let path) = request.source.kind { text = try DataFixtures.text(path) }
        return try PreparedDataset(preparing: request, sourceText: text)
    }

    /// The values a split had before standardization (up to rounding).
    static func unstandardized(_ rows: LabeledRows, _ scaler: Standardizer) -> [Float] {
        rows.features.values.enumerated().map { index, value in
            value * scaler.std[index % scaler.featureCount] + scaler.mean[index % scaler.featureCount]
        }
    }

    /// Checks every class is split in the asked proportions to within one row.
    static func expectStratified(_ dataset: PreparedDataset, _ fractions: SplitFractions) {
        for count in dataset.profile.classCounts {
            let total = Double(count.train + count.validation + count.test)
            #expect(abs(Double(count.train) - total * fractions.train) <= 1, "class \(count.label) train")
            #expect(abs(Double(count.validation) - total * fractions.validation) <= 1, "class \(count.label) validation")
            #expect(abs(Double(count.test) - total * fractions.test) <= 1, "class \(count.label) test")
        }
    }

    @Test func digitsHasTheAskedShapesAndIsStratified() throws {
        let dataset = try Self.prepare(PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 7))
        let profile = dataset.profile
        #expect(profile.sourceID == "digits" && profile.rowsRead == 1797 && profile.featureCount == 64)
        #expect(profile.rowsKept == 1797 - profile.duplicatesRemoved)
        #expect(dataset.train.labels.count + dataset.validation.labels.count + dataset.test.labels.count == profile.rowsKept)
        #expect([dataset.train, dataset.validation, dataset.test].allSatisfy { $0.features.columns == 64 })
        #expect(dataset.classLabels == Array(0...9))
        #expect(profile.missingImputed == 0 && profile.augmentedRows == 0)
        #expect(profile.features.count == 64 && profile.features[0].name == "pixel_0_0")
        Self.expectStratified(dataset, SplitFractions())
        for count in profile.classCounts {
            #expect(dataset.train.labels.count(where: { $0 == count.label }) == count.train)
            #expect(dataset.validation.labels.count(where: { $0 == count.label }) == count.validation)
            #expect(dataset.test.labels.count(where: { $0 == count.label }) == count.test)
        }
        #expect(dataset.contentHash == PreparedDataset.contentHash(train: dataset.train, validation: dataset.validation, test: dataset.test))
    }

    @Test func breastCancerHasTheAskedShapesAndIsStratified() throws {
        let fractions = SplitFractions(train: 0.6, validation: 0.2, test: 0.2)
        let dataset = try Self.prepare(
            PrepareRequest(useCaseID: "bc-uc", source: Self.breastCancer, seed: 3, split: fractions)
        )
        #expect(dataset.profile.rowsRead == 569 && dataset.profile.featureCount == 30 && dataset.classLabels == [0, 1])
        #expect(dataset.profile.classCounts.map { $0.train + $0.validation + $0.test } == [212, 357])
        Self.expectStratified(dataset, fractions)
    }

    /// The feedback loop's expansion: extra rows all go to training, the source rows keep the
    /// split they had without them (nothing of the hold-out moves into training).
    @Test func extraRowsForTrainingOnlyLeaveTheSourceSplitAsItWas() throws {
        var plain = PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 42)
        plain.normalization = .none  // nor clipping: both take their statistics from training rows
        plain.cleaning.outlierK = 0
        let before = try Self.prepare(plain)
        let extra = LabeledRows(
            features: TensorFrame(rows: 30, columns: 64, values: (0..<(30 * 64)).map { Float($0 % 17) + 0.5 }),
            labels: (0..<30).map { $0 % 10 })
        var expanded = plain
        expanded.extraRows = extra
        expanded.extraRowsTrainOnly = true
        #expect(try PrepareRequest(decoding: expanded.encoded()) == expanded)
        let after = try Self.prepare(expanded)
        #expect(after.test == before.test && after.validation == before.validation)
        #expect(after.train.labels.count == before.train.labels.count + 30)
        #expect(after.profile.extraRows == 30)
        // Mixed in before the split instead, the same rows reshuffle the hold-out.
        expanded.extraRowsTrainOnly = false
        #expect(try Self.prepare(expanded).test != before.test)
    }

    @Test func normalizationUsesTheTrainingSplitOnly() throws {
        let dataset = try Self.prepare(PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 11))
        let scaler = dataset.standardizer
        // The standardizer is the profile's training statistics, and refitting it on the training
        // rows (un-standardized) gives it back.
        for (index, feature) in dataset.profile.features.enumerated() {
            #expect(scaler.mean[index] == Float(feature.mean))
            #expect(scaler.std[index] == (feature.std > 1e-12 ? Float(feature.std) : 1))
        }
        let train = Self.unstandardized(dataset.train, scaler)
        let refit = try Standardizer(fitting: train, columns: 64, source: "train")
        for index in 0..<64 {
            #expect(abs(refit.mean[index] - scaler.mean[index]) <= 1e-4)
            #expect(abs(refit.std[index] - scaler.std[index]) <= 1e-4 * max(1, scaler.std[index]))
        }
        // Statistics over every split differ: something would have leaked had they been used.
        let all = train + Self.unstandardized(dataset.validation, scaler) + Self.unstandardized(dataset.test, scaler)
        let leaky = try Standardizer(fitting: all, columns: 64, source: "all")
        #expect((0..<64).contains { abs(leaky.mean[$0] - scaler.mean[$0]) > 1e-3 })
        // The standardized training split is centred; the test split is not exactly.
        let centred = try Standardizer(fitting: dataset.train.features.values, columns: 64, source: "z")
        #expect(centred.mean.allSatisfy { abs($0) < 1e-4 })
        let testMeans = try Standardizer(fitting: dataset.test.features.values, columns: 64, source: "t").mean
        #expect(testMeans.contains { abs($0) > 1e-2 })
    }

    /// `a` is a row id; `b` has gaps, and two rows are exact duplicates of earlier ones.
    static let gappy = """
        a,b,label
        1,10,0
        2,,0
        3,30,0
        1,10,0
        4,NA,0
        5,20,0
        6,60,1
        7,?,1
        8,80,1
        6,60,1
        9,nan,1
        10,100,1
        11,110,1
        12, null ,1
        """

    @Test func missingCellsGetTheTrainingMedianAndDuplicatesAreDropped() throws {
        let source = DataFixtures.csv("gappy", "gappy.csv")
        let request = PrepareRequest(
            useCaseID: "uc",
            source: source,
            seed: 5,
            split: SplitFractions(train: 0.5, validation: 0, test: 0.5),
            cleaning: CleaningOptions(outlierK: 0),
            normalization: .none
        )
        let dataset = try PreparedDataset(preparing: request, sourceText: Self.gappy)
        #expect(dataset.profile.rowsRead == 14 && dataset.profile.duplicatesRemoved == 2 && dataset.profile.rowsKept == 12)
        #expect(dataset.profile.missingImputed == 5)
        #expect(dataset.standardizer == Standardizer(mean: [0, 0], std: [1, 1]))
        let original: [Float: Float?] = [
            1: 10, 2: nil, 3: 30, 4: nil, 5: 20, 6: 60, 7: nil, 8: 80, 9: nil, 10: 100, 11: 110, 12: nil,
        ]
        let trainKnown = (0..<dataset.train.labels.count).compactMap { original[dataset.train.features.row($0).first!]! }
            .sorted()
        let median =
            trainKnown.count % 2 == 1
            ? trainKnown[trainKnown.count / 2]
            : (trainKnown[trainKnown.count / 2 - 1] + trainKnown[trainKnown.count / 2]) / 2
        var ids: [Float] = []
        for split in [dataset.train, dataset.test] {
            for row in 0..<split.labels.count {
                let values = Array(split.features.row(row))
                ids.append(values[0])
                #expect(values[1] == (original[values[0]]! ?? median), "row \(values[0])")
            }
        }
        #expect(ids.sorted() == (1...12).map(Float.init))
        // Without imputation the first gap is an error at its line and column.
        var strict = request
        strict.cleaning.imputeMissing = false
        #expect(throws: DataError.self) { try PreparedDataset(preparing: strict, sourceText: Self.gappy) }
        do {
            _ = try PreparedDataset(preparing: strict, sourceText: Self.gappy)
        } catch {
            #expect(error.reason == "gappy.csv:3:2: not a number: an empty cell")
        }
        // Without dropping, duplicates stay.
        var keep = request
        keep.cleaning.dropDuplicates = false
        #expect(try PreparedDataset(preparing: keep, sourceText: Self.gappy).profile.rowsKept == 14)
    }

    @Test func outliersAreClippedToTheTrainingBounds() throws {
        // 49 values in {0, 1} and one 100: whichever split 100 lands in, it is the one outlier at k = 3.
        let rows = (0..<50).map { "\($0 == 17 ? 100 : $0 % 2),\($0 % 2)" }
        let text = "x,label\n" + rows.joined(separator: "\n")
        let request = PrepareRequest(
            useCaseID: "uc",
            source: DataFixtures.csv("spiky", "spiky.csv"),
            seed: 1,
            cleaning: CleaningOptions(dropDuplicates: false, outlierK: 3),
            normalization: .none
        )
        let dataset = try PreparedDataset(preparing: request, sourceText: text)
        #expect(dataset.profile.outliersClipped == 1)
        let values = [dataset.train, dataset.validation, dataset.test].flatMap(\.features.values)
        #expect(values.count(where: { $0 != 0 && $0 != 1 }) == 1 && !values.contains(100))

        // On digits: the count equals the values outside the training mean ± 5 std, counted here
        // from the unclipped preparation (the split does not depend on cleaning).
        var plain = PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 2, normalization: .none)
        plain.cleaning.outlierK = 0
        let raw = try Self.prepare(plain)
        let train = raw.train.features.values
        var expected = 0
        var bounds: [(Float, Float)] = []
        for column in 0..<64 {
            let mean = raw.profile.features[column].mean
            let std = raw.profile.features[column].std
            bounds.append((Float(mean - 5 * std), Float(mean + 5 * std)))
        }
        for split in [train, raw.validation.features.values, raw.test.features.values] {
            for (index, value) in split.enumerated() {
                let (low, high) = bounds[index % 64]
                if value < low || value > high { expected += 1 }
            }
        }
        plain.cleaning.outlierK = 5
        let clipped = try Self.prepare(plain)
        #expect(expected > 0)
        #expect(clipped.profile.outliersClipped == expected)
        #expect(clipped.test.labels == raw.test.labels && clipped.train.labels == raw.train.labels)
        for (index, value) in clipped.test.features.values.enumerated() {
            let (low, high) = bounds[index % 64]
            #expect(value >= low && value <= high)
        }
    }

    @Test func augmentationAddsAlteredCopiesOfTrainingRowsOnly() throws {
        let shape = AugmentationOptions.ImageShape(width: 8, height: 8)
        let base = PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 9, normalization: .none)
        var request = base
        request.augmentation = AugmentationOptions(copies: 2, noiseSigma: 0, shift: shape)
        let plain = try Self.prepare(base)
        let shifted = try Self.prepare(request)
        let rows = plain.train.labels.count
        #expect(shifted.profile.augmentedRows == 2 * rows)
        #expect(shifted.train.labels.count == 3 * rows)
        #expect(shifted.train.labels == plain.train.labels + plain.train.labels + plain.train.labels)
        #expect(shifted.validation == plain.validation && shifted.test == plain.test)
        #expect(Array(shifted.train.features.values[..<(rows * 64)]) == plain.train.features.values)
        #expect(shifted.standardizer == plain.standardizer && shifted.profile.features == plain.profile.features)
        // Each added row is its original moved by one pixel in one of the eight directions.
        var moves = Set<Int>()
        for copy in 1...2 {
            for row in 0..<rows {
                let original = Array(plain.train.features.row(row))
                let added = Array(shifted.train.features.row(copy * rows + row))
                let move = (0..<8).first { Self.shift(original, $0) == added }
                #expect(move != nil, "copy \(copy) row \(row)")
                if let move { moves.insert(move) }
            }
        }
        #expect(moves.count == 8)

        // Noise: σ 0.5 around the shifted rows, drawn from its own stream (the shifts do not move).
        request.augmentation = AugmentationOptions(copies: 2, noiseSigma: 0.5, shift: shape)
        let noisy = try Self.prepare(request)
        let extra = Array(noisy.train.features.values[(rows * 64)...])
        let clean = Array(shifted.train.features.values[(rows * 64)...])
        let differences = zip(extra, clean).map { Double($0 - $1) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let std = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)).squareRoot()
        #expect(abs(mean) < 0.01 && abs(std - 0.5) < 0.01)
        #expect(try Self.prepare(request).encoded() == noisy.encoded())
        var reseeded = request
        reseeded.seed = 10
        #expect(try Self.prepare(reseeded).train != noisy.train)

        // A shape that does not match the rows is refused.
        request.augmentation = AugmentationOptions(copies: 1, shift: .init(width: 5, height: 5))
        #expect(throws: DataError.self) { try Self.prepare(request) }
    }

    /// `image` (8x8) moved by the `move`-th of the eight one-pixel steps, vacated pixels 0.
    static func shift(_ image: [Float], _ move: Int) -> [Float] {
        let (dx, dy) = [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)][move]
        var out = [Float](repeating: 0, count: 64)
        for y in 0..<8 {
            for x in 0..<8 where (0..<8).contains(x - dx) && (0..<8).contains(y - dy) {
                out[y * 8 + x] = image[(y - dy) * 8 + x - dx]
            }
        }
        return out
    }

    @Test func theSameRequestGivesTheSameBytesAndAnotherSeedAnotherSplit() throws {
        let request = PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 7)
        let first = try Self.prepare(request).encoded()
        #expect(try Self.prepare(request).encoded() == first)
        var reseeded = request
        reseeded.seed = 8
        let other = try Self.prepare(reseeded)
        #expect(other.test.labels.count == (try PreparedDataset(decoding: first)).test.labels.count)
        #expect(other.encoded() != first)
        var renamed = request
        renamed.useCaseID = "another-uc"
        #expect(try Self.prepare(renamed).contentHash != (try PreparedDataset(decoding: first)).contentHash)
    }

    @Test func syntheticSourcesAreDrawnFromTheSeed() throws {
        let generator = GaussianMixture(classes: 4, features: 16, rowsPerClass: 250, separation: 1.5)
        let source = CatalogSource(id: "gaussian-mixture", kind: .synthetic(generator), licence: "CC0-1.0", region: "eu")
        let request = PrepareRequest(useCaseID: "uc", source: source, seed: 1)
        let dataset = try PreparedDataset(preparing: request, sourceText: nil)
        #expect(dataset.profile.rowsRead == 1000 && dataset.profile.featureCount == 16 && dataset.classLabels == [0, 1, 2, 3])
        #expect(dataset.profile.features.map(\.name) == (1...16).map { "x\($0)" })
        Self.expectStratified(dataset, SplitFractions())
        #expect(try PreparedDataset(preparing: request, sourceText: nil) == dataset)
        var salted = source
        salted.kind = .synthetic(GaussianMixture(classes: 4, features: 16, rowsPerClass: 250, separation: 1.5, seedSalt: 1))
        let other = try PreparedDataset(preparing: PrepareRequest(useCaseID: "uc", source: salted, seed: 1), sourceText: nil)
        #expect(other.standardizer != dataset.standardizer)
        // Within-class spread is 1 per feature; the centres are spread by the separation.
        let table = generator.generate(seed: 1, useCaseID: "uc", sourceID: "gaussian-mixture")
        let firstClass = try Standardizer(fitting: Array(table.features[..<(250 * 16)]), columns: 16, source: "c0")
        #expect(firstClass.std.allSatisfy { abs($0 - 1) < 0.15 })
    }

    @Test func extraRowsAreAppendedBeforeSplittingAndFeedStreams() throws {
        let extraValues = (0..<30).flatMap { row in (0..<64).map { Float(($0 + row) % 17) } }
        let extra = LabeledRows(
            features: TensorFrame(rows: 30, columns: 64, values: extraValues),
            labels: (0..<30).map { $0 % 10 }
        )
        let base = try Self.prepare(PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 7))
        let expanded = try Self.prepare(PrepareRequest(useCaseID: "digits-uc", source: Self.digits, seed: 7, extraRows: extra))
        #expect(expanded.profile.extraRows == 30 && expanded.profile.rowsKept == base.profile.rowsKept + 30)
        #expect(expanded.contentHash != base.contentHash)

        let stream = CatalogSource(id: "digits-live", kind: .stream, licence: "CC-BY-4.0", region: "eu", classes: Array(0...9))
        let window = try PreparedDataset(
            preparing: PrepareRequest(useCaseID: "uc", source: stream, seed: 1, extraRows: extra),
            sourceText: nil
        )
        #expect(window.profile.rowsRead == 0 && window.profile.rowsKept == 30 && window.classLabels == Array(0...9))

        let wrongWidth = LabeledRows(features: TensorFrame(rows: 1, columns: 3, values: [1, 2, 3]), labels: [0])
        let wrongLabel = LabeledRows(features: TensorFrame(rows: 1, columns: 64, values: Array(repeating: 1, count: 64)), labels: [12])
        for rows in [wrongWidth, wrongLabel] {
            #expect(throws: DataError.self) {
                try Self.prepare(PrepareRequest(useCaseID: "uc", source: Self.digits, seed: 7, extraRows: rows))
            }
        }
        #expect(throws: DataError.self) {
            try PreparedDataset(preparing: PrepareRequest(useCaseID: "uc", source: stream, seed: 1), sourceText: nil)
        }
    }

    @Test(arguments: [
        ("ragged.csv", nil, "invalidData: bad: scenarios/data/ragged.csv:7:4: ragged row: expected 5 cells as in the header, found 4"),
        ("non-numeric.csv", nil, "invalidData: bad: scenarios/data/non-numeric.csv:4:2: not a number: \"abc\""),
        (
            "missing-label-column.csv", nil,
            "invalidData: bad: scenarios/data/missing-label-column.csv:1: no label column \"label\" in the header (4 columns)"
        ),
        ("empty.csv", nil, "invalidData: bad: scenarios/data/empty.csv: no header row: the text is empty"),
        (
            "label-out-of-classes.csv", [0, 1, 2],
            "invalidData: bad: scenarios/data/label-out-of-classes.csv:7:3: label 7 is not one of the classes declared for bad (0, 1, 2)"
        ),
    ] as [(String, [Int]?, String)])
    func unreadableSourcesNameFileLineAndColumn(file: String, classes: [Int]?, reason: String) throws {
        let source = DataFixtures.csv("bad", "scenarios/data/\(file)", classes: classes)
        do {
            _ = try Self.prepare(PrepareRequest(useCaseID: "uc", source: source, seed: 1))
            Issue.record("\(file) was prepared")
        } catch let error as DataError {
            #expect(error.reportedReason == reason)
            #expect(DataError(reportedReason: error.reportedReason) == error)
        }
    }

    @Test func tooSmallClassesAndBadOptionsAreErrors() throws {
        let text = "x,label\n1,0\n2,0\n3,1\n4,1\n5,1\n"
        let source = DataFixtures.csv("tiny", "tiny.csv")
        do {
            _ = try PreparedDataset(preparing: PrepareRequest(useCaseID: "uc", source: source, seed: 1), sourceText: text)
            Issue.record("a class of 2 rows was split three ways")
        } catch {
            #expect(error.code == .invalidData)
            #expect(error.reason.hasPrefix("tiny.csv: class 0 has 2 rows after cleaning"))
        }
        let twoWay = PrepareRequest(
            useCaseID: "uc",
            source: source,
            seed: 1,
            split: SplitFractions(train: 0.5, validation: 0, test: 0.5)
        )
        #expect(try PreparedDataset(preparing: twoWay, sourceText: text).profile.rowsKept == 5)
        var bad = twoWay
        bad.split = SplitFractions(train: 0.5, validation: 0.2, test: 0.5)
        #expect(throws: DataError.self) { try PreparedDataset(preparing: bad, sourceText: text) }
        bad = twoWay
        bad.augmentation = AugmentationOptions(copies: 0, noiseSigma: 1)
        #expect(throws: DataError.self) { try PreparedDataset(preparing: bad, sourceText: text) }
        #expect(throws: DataError.self) { try PreparedDataset(preparing: twoWay, sourceText: "label\n0\n1\n0\n1\n") }
        do {
            _ = try PreparedDataset(preparing: twoWay, sourceText: "x,label\n1,0\n2,0\n\n3,4294967296\n")
            Issue.record("a 33-bit label was accepted")
        } catch {
            #expect(error.reason == "tiny.csv:5:2: label 4294967296 does not fit in 32 bits")
        }
    }

    @Test func preparedDatasetBytesRoundTripAndRejectDamage() throws {
        let dataset = try Self.prepare(
            PrepareRequest(
                useCaseID: "digits-uc",
                source: Self.digits,
                seed: 7,
                augmentation: AugmentationOptions(copies: 1, noiseSigma: 0.25)
            )
        )
        let bytes = dataset.encoded()
        #expect(Array(bytes[..<4]) == Array("MWPD".utf8))
        #expect(try PreparedDataset(decoding: bytes) == dataset)
        #expect(bytes.count < ComputeLimits.maximumPayloadBytes)
        for length in stride(from: 0, to: bytes.count, by: 997) {
            #expect(throws: WireError.self) { try PreparedDataset(decoding: Array(bytes[..<length])) }
        }
        #expect(throws: WireError.self) { try PreparedDataset(decoding: Array(bytes.dropLast())) }
        #expect(throws: WireError.self) { try PreparedDataset(decoding: bytes + [0]) }
        var tampered = bytes
        tampered[100] ^= 1
        #expect(throws: WireError.self) { try PreparedDataset(decoding: tampered) }

        // Every truncation of a small dataset is refused.
        let small = try PreparedDataset(
            preparing: PrepareRequest(
                useCaseID: "uc",
                source: DataFixtures.csv("gappy", "gappy.csv"),
                seed: 5,
                split: SplitFractions(train: 0.5, validation: 0, test: 0.5)
            ),
            sourceText: Self.gappy
        )
        let smallBytes = small.encoded()
        #expect(try PreparedDataset(decoding: smallBytes) == small)
        for length in 0..<smallBytes.count {
            #expect(throws: WireError.self) { try PreparedDataset(decoding: Array(smallBytes[..<length])) }
        }
    }

    @Test func prepareRequestBytesRoundTrip() throws {
        let generator = GaussianMixture(classes: 3, features: 4, rowsPerClass: 10, separation: 2, seedSalt: 9)
        let requests = [
            PrepareRequest(useCaseID: "uc", source: Self.digits, seed: 7),
            PrepareRequest(
                useCaseID: "uc-2",
                source: CatalogSource(
                    id: "g",
                    kind: .synthetic(generator),
                    labelColumn: "y",
                    licence: "CC0-1.0",
                    pii: true,
                    piiColumns: ["a", "b"],
                    region: "us",
                    description: "synthetic",
                    classes: [0, 1, 2]
                ),
                seed: .max,
                split: SplitFractions(train: 0.8, validation: 0, test: 0.2),
                cleaning: CleaningOptions(imputeMissing: false, dropDuplicates: false, outlierK: 0),
                normalization: .none,
                augmentation: AugmentationOptions(copies: 3, noiseSigma: 0.1, shift: .init(width: 2, height: 2)),
                extraRows: LabeledRows(features: TensorFrame(rows: 1, columns: 4, values: [1, .nan, 3, 4]), labels: [2])
            ),
            PrepareRequest(
                useCaseID: "uc-3",
                source: CatalogSource(id: "s", kind: .stream, licence: "x", region: "eu"),
                seed: 0,
                augmentation: AugmentationOptions(noiseSigma: 1)
            ),
        ]
        for request in requests {
            let bytes = request.encoded()
            let decoded = try PrepareRequest(decoding: bytes)
            #expect(decoded.encoded() == bytes)
            if request.extraRows == nil { #expect(decoded == request) }
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try PrepareRequest(decoding: Array(bytes[..<length])) }
            }
        }
        var bad = requests[0]
        bad.split = SplitFractions(train: 0.9, validation: 0.1, test: 0.2)
        #expect(throws: WireError.self) { try PrepareRequest(decoding: bad.encoded()) }
    }

    @Test func gaussianSamplerAndLogarithm() {
        for x in [1e-300, 1e-10, 0.1, 0.5, 0.7071, 1, 1.5, 2, 3, 10, 1e10, 1e300, .leastNonzeroMagnitude] {
            let expected = Foundation.log(x)
            #expect(abs(GaussianSampler.naturalLogarithm(x) - expected) <= 4e-16 * max(1, abs(expected)), "ln \(x)")
        }
        var sampler = GaussianSampler(SeededRandom(seed: 1, key: "test"))
        let values = (0..<100_000).map { _ in sampler.next() }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02)
        #expect(Double(values.count(where: { abs($0) < 1 })) / 1e5 > 0.677 && Double(values.count(where: { abs($0) < 1 })) / 1e5 < 0.689)
    }
}
