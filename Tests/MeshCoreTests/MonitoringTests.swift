import MeshCore
import Testing

@Suite("Drift statistics and alert rules")
struct MonitoringTests {
    // The same numbers as this Python, run once with scipy 1.17.1 (independent implementation):
    //   ref = [((i*37) % 101) / 10.0 for i in range(200)]; smp = [((i*53) % 97) / 9.0 + 0.5 for i in range(80)]
    //   scipy.stats.ks_2samp(float32(ref), float32(smp)).statistic == 0.11
    //   PSI over the reference's deciles (bins (e[i-1], e[i]], floor 1e-4) == 0.09082587437462006
    static let reference: [Float] = (0..<200).map { Float(($0 * 37) % 101) / 10 }
    static let sample: [Float] = (0..<80).map { Float(($0 * 53) % 97) / 9 + 0.5 }

    static func frame(_ column: [Float]) -> TensorFrame {
        TensorFrame(rows: column.count, columns: 1, values: column)
    }

    @Test func ksMatchesScipy() {
        let ks = DriftStatistics.ks(sortedReference: Self.reference.sorted(), sample: Self.sample)
        #expect(abs(ks - 0.11) < 1e-9)
        #expect(abs(DriftStatistics.ksCritical(200, 80) - 0.21536415672065767) < 1e-12)
        #expect(DriftStatistics.ks(sortedReference: Self.reference.sorted(), sample: Self.reference) == 0)
    }

    @Test func psiMatchesAnIndependentComputation() {
        let reference = DriftReference(rows: Self.frame(Self.reference), seed: 1)
        #expect(reference.features[0].edges.count == 9)
        let psi = DriftStatistics.psi(reference: reference.features[0], sample: Self.sample)
        #expect(abs(psi - 0.09082587437462006) < 1e-6)
        #expect(abs(DriftStatistics.psi(reference: reference.features[0], sample: Self.reference)) < 1e-9)
    }

    @Test func aShiftedWindowIsFlaggedAndACleanOneIsNot() {
        var rng = SeededRandom(seed: 3, key: "drift")
        let columns = 8
        func rows(_ count: Int, shift: Float) -> TensorFrame {
            var values: [Float] = []
            for _ in 0..<count {
                for column in 0..<columns {
                    // Uniform noise around a per-column level; `shift` moves the first 6 columns.
                    values.append(Float(column) + rng.nextUnitFloat() * 2 + (column < 6 ? shift : 0))
                }
            }
            return TensorFrame(rows: count, columns: columns, values: values)
        }
        let reference = DriftReference(rows: rows(1_000, shift: 0), seed: 1)
        let rule = DriftRule(minKSFeatures: 4, minPSIFeatures: 4)
        let clean = DriftStatistics.measure(rows(200, shift: 0), against: reference)
        #expect(!rule.isDrifted(clean), "\(clean.ksFlagged) \(clean.psiFlagged)")
        let shifted = DriftStatistics.measure(rows(200, shift: 1), against: reference)
        #expect(shifted.ksFlagged.count == 6)
        #expect(rule.isDrifted(shifted))
    }

    @Test func anAlertFiresOnlyAfterItsPendingTimeAndResolves() {
        var tracker = AlertTracker(rule: AlertRule(name: "DataDrift", condition: .drift, forMinutes: 120))
        let hour: UInt64 = 3_600_000_000
        #expect(tracker.evaluate(holds: true, at: SimTime(microseconds: 1 * hour)) == nil)
        #expect(tracker.state == .pending(since: SimTime(microseconds: hour)))
        #expect(tracker.evaluate(holds: true, at: SimTime(microseconds: 2 * hour)) == nil)
        #expect(tracker.evaluate(holds: true, at: SimTime(microseconds: 3 * hour)) == .fire(startsAt: SimTime(microseconds: 3 * hour)))
        #expect(tracker.evaluate(holds: true, at: SimTime(microseconds: 4 * hour)) == nil)
        #expect(tracker.evaluate(holds: false, at: SimTime(microseconds: 5 * hour))
            == .resolve(startsAt: SimTime(microseconds: 3 * hour), endsAt: SimTime(microseconds: 5 * hour)))
        // A condition that stops holding while pending never fires.
        #expect(tracker.evaluate(holds: true, at: SimTime(microseconds: 6 * hour)) == nil)
        #expect(tracker.evaluate(holds: false, at: SimTime(microseconds: 7 * hour)) == nil)
        #expect(tracker.state == .inactive)
        var immediate = AlertTracker(rule: AlertRule(name: "Now", condition: .accuracyBelow, threshold: 0.9))
        #expect(immediate.evaluate(holds: true, at: .zero) == .fire(startsAt: .zero))
    }

    @Test func theWebhookPayloadHasAlertmanagersShape() {
        let payload = AlertmanagerPayload(
            rule: AlertRule(name: "DataDrift", condition: .drift, forMinutes: 120, severity: "critical"), subject: "digits",
            firing: true, startsAt: SimTime(microseconds: 86_400_000_000 + 3_661_000_000), endsAt: nil, summary: "15 features drifted",
            run: "run-1")
        #expect(payload.version == "4" && payload.status == "firing")
        #expect(payload.alerts[0].labels["alertname"] == "DataDrift")
        #expect(payload.alerts[0].startsAt == "1970-01-02T01:01:01Z")
        #expect(payload.alerts[0].endsAt == "0001-01-01T00:00:00Z")
        let json = String(decoding: CanonicalJSON.encode(payload), as: UTF8.self)
        for key in ["\"groupKey\"", "\"commonLabels\"", "\"externalURL\"", "\"truncatedAlerts\"", "\"generatorURL\""] {
            #expect(json.contains(key))
        }
        #expect(SimClock.iso8601(SimTime(microseconds: UInt64(59) * 86_400_000_000)) == "1970-03-01T00:00:00Z")
        #expect(SimClock.iso8601(SimTime(microseconds: UInt64(365 + 365 + 59) * 86_400_000_000)) == "1972-02-29T00:00:00Z")
    }
}
