import Foundation
import MeshAgents
import MeshCore
import Testing

/// The data agent's worker through ``Worker/perform(_:)``, as an agent calls it.
@Suite("Data worker")
struct DataWorkerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let worker = DataWorker(baseDirectory: root)
    static let policy = DataPolicy(piiAllowed: false, licences: ["CC-BY-4.0", "CC0-1.0"], regions: ["eu"])

    static func source(_ id: String, _ path: String, classes: [Int]? = nil) -> CatalogSource {
        CatalogSource(id: id, kind: .csv(path: path), licence: "CC-BY-4.0", region: "eu", classes: classes)
    }

    static func perform(_ work: DataWork, _ input: [UInt8]) async -> TaskResult.Outcome {
        await Self.worker.perform(
            Assignment(task: TaskID(unchecked: "usecase/uc-1/\(work.rawValue)"), work: work.rawValue, input: input, simTime: .zero)
        )
    }

    static func prepare(_ source: CatalogSource) async -> TaskResult.Outcome {
        await Self.perform(.prepare, PrepareRequest(useCaseID: "uc-1", source: source, seed: 7).encoded())
    }

    @Test func doesTheDataWorksOnly() {
        #expect(Self.worker.canDo("data.discover") && Self.worker.canDo("data.prepare"))
        #expect(!Self.worker.canDo("relay.hash") && !Self.worker.canDo("compute.train"))
    }

    @Test func discoversThroughPerform() async throws {
        let catalog = [
            Self.source("digits", "scenarios/data/digits.csv"),
            CatalogSource(
                id: "people-pii",
                kind: .csv(path: "scenarios/data/pii-people.csv"),
                licence: "proprietary",
                pii: true,
                piiColumns: ["name_code"],
                region: "eu"
            ),
        ]
        let request = DiscoveryRequest(useCaseID: "uc-1", policy: Self.policy, catalog: catalog)
        guard case .done(let bytes) = await Self.perform(.discover, request.encoded()) else {
            Issue.record("discovery failed")
            return
        }
        let report = try DiscoveryReport(decoding: bytes)
        #expect(report == DiscoveryReport(answering: request))
        #expect(report.accepted == ["digits"])
        #expect(report.rejected.map(\.rule) == [.piiNotAllowed, .licenceNotAccepted])
    }

    @Test func preparesDigitsThroughPerformWithTheSameBytesAsThePureFunction() async throws {
        let source = Self.source("digits", "scenarios/data/digits.csv", classes: Array(0...9))
        guard case .done(let bytes) = await Self.prepare(source) else {
            Issue.record("digits failed")
            return
        }
        let dataset = try PreparedDataset(decoding: bytes)
        #expect(dataset.profile.rowsRead == 1797 && dataset.classLabels == Array(0...9))
        let text = try String(contentsOfFile: Self.root + "/scenarios/data/digits.csv", encoding: .utf8)
        let direct = try PreparedDataset(
            preparing: PrepareRequest(useCaseID: "uc-1", source: source, seed: 7),
            sourceText: text
        )
        #expect(direct.encoded() == bytes)
        #expect(await Self.prepare(source) == .done(bytes))
    }

    @Test(arguments: [
        ("scenarios/data/nope.csv", "sourceUnavailable: bad: scenarios/data/nope.csv: no such file"),
        ("scenarios/data", "sourceUnavailable: bad: scenarios/data: a directory, not a CSV file"),
        ("/etc/hostname", "invalidRequest: bad: /etc/hostname: a source path must be relative to the working directory, without '..'"),
        ("scenarios/../../x.csv", "invalidRequest: bad: scenarios/../../x.csv: a source path must be relative to the working directory, without '..'"),
        ("scenarios/data/ragged.csv", "invalidData: bad: scenarios/data/ragged.csv:7:4: ragged row: expected 5 cells as in the header, found 4"),
        ("scenarios/data/non-numeric.csv", "invalidData: bad: scenarios/data/non-numeric.csv:4:2: not a number: \"abc\""),
        ("scenarios/data/missing-label-column.csv", "invalidData: bad: scenarios/data/missing-label-column.csv:1: no label column \"label\" in the header (4 columns)"),
        ("scenarios/data/empty.csv", "invalidData: bad: scenarios/data/empty.csv: no header row: the text is empty"),
        ("scenarios/data/label-out-of-classes.csv", "invalidData: bad: scenarios/data/label-out-of-classes.csv:7:3: label 7 is not one of the classes declared for bad (0, 1, 2)"),
    ])
    func badSourcesFailWithTheirPlaceAndTheWorkerKeepsServing(path: String, reason: String) async {
        let outcome = await Self.prepare(Self.source("bad", path, classes: path.contains("classes") ? [0, 1, 2] : nil))
        #expect(outcome == .failed(reason))
        guard case .done = await Self.prepare(Self.source("ok", "scenarios/data/pii-people.csv")) else {
            Issue.record("a good request failed after a bad one")
            return
        }
    }

    @Test func badBytesFailAsMalformed() async {
        let prepare = PrepareRequest(useCaseID: "uc-1", source: Self.source("a", "a.csv"), seed: 1).encoded()
        for (work, input) in [
            (DataWork.prepare, [UInt8]()), (.prepare, Array(prepare.dropLast())), (.discover, prepare),
            (.prepare, Array("MWPQ\u{2}\u{0}".utf8)),
        ] {
            guard case .failed(let reason) = await Self.perform(work, input) else {
                Issue.record("\(work) accepted bad bytes")
                continue
            }
            #expect(reason.hasPrefix("malformedRequest: request: "))
        }
        #expect(
            await Self.perform(.prepare, [])
                == .failed("malformedRequest: request: truncated: prepare_request.magic: needs 4 bytes at offset 0, 0 left")
        )
        let outcome = await Self.worker.perform(
            Assignment(task: TaskID(unchecked: "t"), work: "data.clean", input: [], simTime: .zero)
        )
        #expect(outcome == .failed("malformedRequest: request: the data agent does not do data.clean"))
    }

    @Test func theRaggedCatalogSourceFailsWhereTheFailureScenarioExpects() async throws {
        let text = try String(contentsOfFile: Self.root + "/agents/catalog.yaml", encoding: .utf8)
        #expect(text.contains("path: scenarios/data/ragged.csv"))
        let outcome = await Self.prepare(
            CatalogSource(id: "ragged", kind: .csv(path: "scenarios/data/ragged.csv"), licence: "CC0-1.0", region: "eu")
        )
        guard case .failed(let reason) = outcome else {
            Issue.record("ragged.csv was prepared")
            return
        }
        let error = DataError(reportedReason: reason)
        #expect(error.code == .invalidData && error.subject == "ragged")
        #expect(error.reason.hasPrefix("scenarios/data/ragged.csv:7:4: "))
    }
}

/// Times of `data.prepare` on digits, printed for docs/DATA.md; opt-in
/// (`MESHWORK_MEASURE_DATA=1`), and meaningful in a release build only:
/// `MESHWORK_MEASURE_DATA=1 swift test -c release --scratch-path .build-data --filter DataMeasurements`.
/// Each figure is the median of 21 runs: the calling thread's CPU time (stable on a shared
/// machine) and, after the slash, the wall time.
@Suite("Data measurements", .enabled(if: ProcessInfo.processInfo.environment["MESHWORK_MEASURE_DATA"] == "1"))
struct DataMeasurements {
    static func threadCPUTime() -> Double {
        #if canImport(Glibc)
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
        #else
        return 0
        #endif
    }

    static func median(_ name: String, _ body: () throws -> Void) rethrows -> String {
        var cpu: [Double] = []
        var wall: [Double] = []
        for _ in 0..<21 {
            let start = ContinuousClock.now
            let startCPU = Self.threadCPUTime()
            try body()
            cpu.append(Self.threadCPUTime() - startCPU)
            let elapsed = ContinuousClock.now - start
            wall.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        let format = { (value: Double) in String(format: "%.2f", value) }
        return "\(name) \(format(cpu.sorted()[10]))/\(format(wall.sorted()[10])) ms"
    }

    @Test func prepareOnDigits() throws {
        let root = DataWorkerTests.root
        let path = "scenarios/data/digits.csv"
        let text = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
        let source = CatalogSource(id: "digits", kind: .csv(path: path), licence: "CC-BY-4.0", region: "eu", classes: Array(0...9))
        let plain = PrepareRequest(useCaseID: "digits-uc", source: source, seed: 7)
        var bare = plain
        bare.cleaning = CleaningOptions(imputeMissing: false, dropDuplicates: false, outlierK: 0)
        bare.normalization = .none
        var augmented = plain
        augmented.augmentation = AugmentationOptions(copies: 1, noiseSigma: 0.5, shift: .init(width: 8, height: 8))
        let dataset = try PreparedDataset(preparing: plain, sourceText: text)
        let bytes = dataset.encoded()
        let lines = [
            try Self.median("CSVTable.parse") { _ = try CSVTable.parse(text: text, source: path) },
            try Self.median("prepare") { _ = try PreparedDataset(preparing: plain, sourceText: text) },
            try Self.median("prepare without cleaning or scaling") { _ = try PreparedDataset(preparing: bare, sourceText: text) },
            try Self.median("prepare with 1 augmented copy (shift + noise)") {
                _ = try PreparedDataset(preparing: augmented, sourceText: text)
            },
            Self.median("encode") { _ = dataset.encoded() },
            try Self.median("decode (with hash check)") { _ = try PreparedDataset(decoding: bytes) },
            try Self.median("worker: read + prepare + encode") {
                _ = try DataWorker.prepareNow(plain, baseDirectory: root).get()
            },
            try Self.median("discover (6 sources)") {
                let request = DiscoveryRequest(
                    useCaseID: "uc",
                    policy: DataPolicy(licences: ["CC-BY-4.0"], regions: ["eu"]),
                    catalog: Array(repeating: source, count: 6)
                )
                _ = try DiscoveryReport(answering: DiscoveryRequest(decoding: request.encoded())).encoded()
            },
        ]
        let profile = dataset.profile
        print("data.prepare on digits, CPU/wall, median of 21:\n  " + lines.joined(separator: "\n  "))
        print(
            """
            rows \(dataset.train.labels.count)/\(dataset.validation.labels.count)/\(dataset.test.labels.count), \
            duplicates \(profile.duplicatesRemoved), outliers clipped \(profile.outliersClipped), bytes \(bytes.count), \
            augmented bytes \(try PreparedDataset(preparing: augmented, sourceText: text).encoded().count), \
            hash \(dataset.contentHash)
            """
        )
    }
}
