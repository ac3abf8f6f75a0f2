import Foundation
import MeshCore
import Testing

/// The pure parts of serving and monitoring: the stream, the messages, the settings, the gates.
@Suite("Serving and monitoring logic")
struct ServingTests {
    /// 40 rows of 8 features in 0...16, labels 0-3, standardized by a known scaler.
    static let standardizer = Standardizer(mean: Array(repeating: 8, count: 8), std: Array(repeating: 4, count: 8))
    static var rawTest: LabeledRows {
        // Distinct rows: the last feature is the row number / 4.
        var values: [Float] = []
        for index in 0..<(40 * 8) {
            let value: Float = index % 8 == 7 ? Float(index / 8) / 4 : Float((index * 7) % 17)
            values.append(value)
        }
        return LabeledRows(features: TensorFrame(rows: 40, columns: 8, values: values), labels: (0..<40).map { $0 % 4 })
    }
    static var standardizedTest: LabeledRows {
        let raw = Self.rawTest
        let values = raw.features.values.enumerated().map { ($1 - 8) / 4 }
        return LabeledRows(features: TensorFrame(rows: 40, columns: 8, values: values), labels: raw.labels)
    }
    static func stream(seed: UInt64 = 42) -> StreamReplay {
        StreamReplay(test: Self.standardizedTest, standardizer: Self.standardizer, range: 0...16, seed: seed)
    }

    @Test func theStreamReplaysTheTestRowsInRawUnitsFromTwoDisjointPools() {
        let stream = Self.stream()
        #expect(stream.raw.features.values.sorted() == Self.rawTest.features.values.sorted())
        #expect(stream.feedbackPool.labels.count == 20 && stream.heldOutPool.labels.count == 20)
        let feedback = Set((0..<20).map { Array(stream.feedbackPool.features.row($0)) })
        let heldOut = Set((0..<20).map { Array(stream.heldOutPool.features.row($0)) })
        #expect(feedback.isDisjoint(with: heldOut))
        let clean = MonitoringSettings.Drift(atHour: 5, noiseSigma: 2, fraction: 0.3)
        let window = stream.window(1, rows: 10, drift: clean)
        #expect(window.rows.labels.count == 10 && window.heldOutFrom == 5)
        #expect(window == stream.window(1, rows: 10, drift: clean), "the same window twice")
        // Feedback rows come from the feedback pool, the rest from the held-out pool.
        for row in 0..<5 { #expect(feedback.contains(Array(window.rows.features.row(row)))) }
        for row in 5..<10 { #expect(heldOut.contains(Array(window.rows.features.row(row)))) }
        #expect(window.feedback.labels == Array(window.rows.labels.prefix(5)))
    }

    @Test func fromTheScriptedHourTheStreamIsNoisedOnAFractionOfValuesWithinRange() {
        let stream = Self.stream()
        let drift = MonitoringSettings.Drift(atHour: 3, noiseSigma: 2, fraction: 0.3)
        let none = MonitoringSettings.Drift(atHour: 1_000, noiseSigma: 2, fraction: 0.3)
        for hour in [3, 4, 9] {
            let drifted = stream.window(hour, rows: 400, drift: drift).rows
            let clean = stream.window(hour, rows: 400, drift: none).rows
            #expect(drifted.labels == clean.labels)
            let changed = zip(drifted.features.values, clean.features.values).filter { $0 != $1 }.count
            let fraction = Double(changed) / Double(clean.features.values.count)
            #expect(fraction > 0.2 && fraction < 0.31, "hour \(hour): \(fraction) of values changed")
            #expect(drifted.features.values.allSatisfy { (0...16).contains($0) })
        }
        #expect(stream.window(2, rows: 50, drift: drift) == stream.window(2, rows: 50, drift: none))
        #expect(stream.window(5, rows: 50, drift: drift) != Self.stream(seed: 43).window(5, rows: 50, drift: drift))
    }

    @Test func messagesRoundTripAndDamageIsNamed() throws {
        let weights = SerializedWeights(Array(0..<200).map { UInt8($0) })
        let deploy = DeployRequest(
            name: "digits", version: 2, alias: "staging", precision: "int8", standardizer: Self.standardizer, dataset: "sha256:ab",
            fp32: weights, int8: SerializedWeights([1, 2, 3]))
        #expect(try DeployRequest(decoding: deploy.encoded()) == deploy)
        let test = ServingTestRequest(name: "digits", version: 2, connections: 4, milliseconds: 100, rows: Self.rawTest)
        #expect(try ServingTestRequest(decoding: test.encoded()) == test)
        let reference = DriftReference(rows: Self.rawTest.features, seed: 1)
        #expect(try DriftReference(decoding: reference.encoded()) == reference)
        let window = WindowRequest(
            useCase: "uc", name: "digits", version: 1, window: 7, rule: DriftRule(), rows: Self.rawTest, heldOutFrom: 20,
            reference: reference)
        #expect(try WindowRequest(decoding: window.encoded()) == window)
        // Every truncation is refused with a typed error, never a crash.
        let bytes = window.encoded()
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            #expect(throws: WireError.self) { try WindowRequest(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: WireError.self) { try DeployRequest(decoding: test.encoded()) }
        var int8Only = deploy
        int8Only.int8 = nil
        #expect(throws: WireError.self) { try DeployRequest(decoding: int8Only.encoded()) }
        var outside = window
        outside.head.heldOutFrom = 41
        #expect(throws: WireError.self) { try WindowRequest(decoding: outside.encoded()) }
    }

    @Test func resultsCarryTelemetryAndHelloCarriesServices() throws {
        let result = TaskResult(
            task: TaskID(unchecked: "t"), award: 3, outcome: .done([1, 2]), telemetry: ["load.p99_ms": "4.2", "load.rps": "900"])
        #expect(try TaskResult(decoding: result.encoded()) == result)
        let hello = Hello(role: .pipeline, capacity: 4, pid: 9, host: "h", services: ["inference": "http://127.0.0.1:8080"])
        #expect(try Hello(decoding: hello.encoded()) == hello)
        var tooMany = WireWriter()
        tooMany.write(UInt16(StringPairs.maxPairs + 1))
        var reader = WireReader(tooMany.bytes)
        #expect(throws: WireError.self) { try StringPairs.read("pairs", from: &reader) }
        var twice = WireWriter()
        twice.write(UInt16(2))
        for _ in 0..<2 {
            twice.write("k")
            twice.write("v")
        }
        var again = WireReader(twice.bytes)
        #expect(throws: WireError.self) { try StringPairs.read("pairs", from: &again) }
    }

    @Test func monitoringSettingsRefuseWhatCannotWork() throws {
        let decoder = JSONDecoder()
        let settings = try decoder.decode(MonitoringSettings.self, from: Data("{}".utf8))
        #expect(settings == MonitoringSettings())
        for bad in [
            #"{"hours": 0}"#, #"{"window_rows": 5}"#, #"{"drift": {"fraction": 2}}"#, #"{"drift": {"noise_sigma": -1}}"#,
            #"{"retrain": {"windows": 0}}"#, #"{"houres": 3}"#,
            #"{"alerts": [{"name": "A", "condition": "drift"}, {"name": "A", "condition": "drift"}]}"#,
        ] {
            #expect(throws: DecodingError.self, "\(bad)") { try decoder.decode(MonitoringSettings.self, from: Data(bad.utf8)) }
        }
        for bad in [#"{"tolerance_points": -1}"#, #"{"load_connections": 0}"#, #"{"quantise": true}"#] {
            #expect(throws: DecodingError.self, "\(bad)") { try decoder.decode(ServingSettings.self, from: Data(bad.utf8)) }
        }
    }

    @Test func thePromotionGateFollowsTheEvidenceAndThePolicy() {
        let task = TaskID(unchecked: "uc/x/gate-promotion")
        func decide(_ recommendation: Bool, reject: Double = 0) -> GateDecision {
            ScriptedHuman.decide(
                GateRequest(
                    useCase: "x", gate: .promotion, evidence: ["staging failed its edge cases"], recommendation: recommendation, seed: 1,
                    policy: HumanPolicy(who: "alice", rejectProbability: reject)),
                task: task)
        }
        #expect(decide(true).approved && decide(true).who == "alice")
        #expect(!decide(false).approved && decide(false).reason.contains("edge cases"))
        #expect(!decide(true, reject: 1).approved)
    }
}
