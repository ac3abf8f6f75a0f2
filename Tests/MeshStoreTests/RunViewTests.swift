import Foundation
import MeshCore
@testable import MeshStore
import Testing

@Suite("Run views: the typed projections the oversight pages and /metrics read")
struct RunViewTests {
    /// A run with two committed hand-offs, a restarted agent, a re-award in flight, link
    /// statistics, a stale result and telemetry.
    static func makeJournaledRun(in directory: String) throws -> RunStore {
        let (_, store) = try makeRun(in: directory)
        let journal = SQLiteJournal(store)
        var digest = JournalDigest()
        var entries = JournalWorkload.entries(count: 2, continuing: &digest)
        let fact = LogicalRecord(
            time: SimTime(microseconds: 9_000), kind: "custom.fact", subject: "digits",
            fields: [.init("version", "digits@v1"), .init("epochs", "5")])
        entries.append(JournalEntry(index: 2, record: fact, digest: digest.append(fact)))
        try journal.appendLogical(entries)
        func at(_ nanoseconds: UInt64) -> MonotonicTime { MonotonicTime(nanoseconds: nanoseconds) }
        try journal.appendPhysical([
            PhysicalEvent(kind: "joined", agent: "data-1#1", detail: "role=data pid=11 host=alpha inference=127.0.0.1:1", at: at(0)),
            PhysicalEvent(kind: "joined", agent: "data-1#2", detail: "role=data pid=12 host=alpha", at: at(1)),
            PhysicalEvent(kind: "joined", agent: "pipeline-1#1", detail: "role=pipeline pid=13 host=beta", at: at(2)),
            PhysicalEvent(kind: "departed", agent: "data-1#1", detail: "killed", at: at(3)),
            PhysicalEvent(kind: "award", agent: "data-1#2", task: "relay/0/0", detail: "award=1", at: at(1_000)),
            PhysicalEvent(kind: "result", agent: "data-1#2", task: "relay/0/0", detail: "award=1", at: at(3_001_000)),
            PhysicalEvent(kind: "award", agent: "data-1#2", task: "relay/9/9", detail: "award=2", at: at(4_000_000)),
            PhysicalEvent(kind: "link", agent: "data-1#1", detail: "sent=5 retransmitted=2 duplicates=1", at: at(5_000_000)),
            PhysicalEvent(kind: "link", agent: "data-1#1", detail: "sent=9 retransmitted=3 delivered=9 duplicates=1", at: at(6_000_000)),
            PhysicalEvent(kind: "link", agent: "data-1#2", detail: "sent=4 retransmitted=4 duplicates=0", at: at(7_000_000)),
            PhysicalEvent(kind: "stale-result", agent: "data-1#1", task: "relay/0/1", detail: "award=1", at: at(8_000_000)),
            PhysicalEvent(kind: "telemetry", task: "uc/a_b/window/1", detail: "window.inference_ms=2.5", at: at(9_000_000)),
            PhysicalEvent(kind: "telemetry", task: "uc/aXb/window/2", detail: "window.inference_ms=9", at: at(9_000_001)),
        ])
        return store
    }

    @Test func theViewsProjectTheJournals() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Self.makeJournaledRun(in: directory)
        defer { try? store.close() }

        let agents = try store.agentSummaries()
        #expect(agents.map(\.id) == ["data-1", "pipeline-1"], "ordered by host: alpha before beta")
        #expect(agents.first == RunStore.AgentSummary(
            id: "data-1", incarnation: 2, role: "data", pid: 12, host: "alpha", departure: nil, restarts: 1,
            lastSeen: agents.first?.lastSeen, awards: 2))
        #expect(agents.first?.lastSeen != nil)
        #expect(agents.last?.restarts == 0 && agents.last?.awards == 0 && agents.last?.host == "beta")
        #expect(try store.roles() == ["data", "pipeline"])

        #expect(try store.handoffsByStage() == [RunStore.StageTally(stage: "relay", done: 2, failed: 0, duplicates: 0)])
        let inFlight = try store.inFlightAwards()
        #expect(inFlight.map(\.task) == ["relay/9/9"] && inFlight.first?.award == "award=2" && inFlight.first?.agent == "data-1#2")
        #expect(try store.inFlightByRole().map { "\($0.role)=\($0.count)" } == ["data=1"])
        #expect(try store.awardToResultLatencies().map { "\($0.stage) \($0.nanoseconds)" } == ["relay 3000000"])
        #expect(try store.reawardCount() == 1)
        #expect(try store.staleResultCount() == 1)
        // The latest event of each incarnation, summed per agent: 3 + 4 retransmitted, 1 + 0 dropped.
        #expect(try store.linkTotals() == [RunStore.LinkTotals(agent: "data-1", retransmitted: 7, duplicatesDropped: 1)])

        #expect(try store.lastRecordTime() == SimTime(microseconds: 9_000))
        #expect(try store.lastPhysicalEventTime() != nil)
        #expect(try store.records(.subject("digits")).map(\.kind) == ["custom.fact"])
        #expect(try store.records(.subject("relay/0/0", excluding: ["task.done"])).isEmpty)
        #expect(try store.records(.kinds(["task.done"])).map(\.subject) == ["relay/0/0", "relay/0/1"])
        #expect(try store.records(.subjectAndKinds("digits", ["custom.fact", "other"])).first?.fields.last?.value == "5")
        #expect(try store.records(.kindsWithFirstField(["custom.fact"], value: "digits@v1")).count == 1)
        #expect(try store.records(.kindsWithFirstField(["custom.fact"], value: "digits@v2")).isEmpty)
        // `_` and `%` in a prefix are literal, not LIKE wildcards.
        #expect(try store.physicalEvents(kind: "telemetry", taskPrefix: "uc/a_b/").map(\.task) == ["uc/a_b/window/1"])
        #expect(try store.physicalEvents(kind: "telemetry", taskPrefix: "uc/a%").isEmpty)
    }

    @Test func metricsAndAlertsKeepTheirLatestAndTheirCounts() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, store) = try makeRun(in: directory)
        defer { try? store.close() }
        let labels = ["use_case": "digits", "version": "1"]
        try store.appendMetrics([
            MetricSample(series: "stream_accuracy", labels: labels, time: SimTime(microseconds: 2), value: 0.9),
            MetricSample(series: "stream_accuracy", labels: labels, time: SimTime(microseconds: 1), value: 0.5),
            MetricSample(series: "stream_accuracy", labels: ["use_case": "digits", "version": "2"], time: SimTime(microseconds: 1), value: 0.7),
        ])
        #expect(try store.latestMetrics("stream_accuracy").map(\.value) == [0.9, 0.7])
        #expect(try store.latestMetrics("unknown").isEmpty)

        try store.raiseAlert(Alert(rule: "drift", subject: "digits", since: SimTime(microseconds: 5), evidenceJSON: #"{"severity":"warning"}"#))
        try store.raiseAlert(Alert(rule: "drift", subject: "digits", since: SimTime(microseconds: 1), evidenceJSON: #"{"severity":"warning"}"#))
        try store.resolveAlerts(rule: "drift", subject: "digits", at: SimTime(microseconds: 3))
        try store.raiseAlert(Alert(rule: "drift", subject: "digits", since: SimTime(microseconds: 7), evidenceJSON: #"{"severity":"page"}"#))
        #expect(try store.allAlerts().map(\.since.microseconds) == [1, 5, 7])
        #expect(try store.alertTallies() == [RunStore.AlertTally(rule: "drift", subject: "digits", severity: "page", firing: true, raised: 3)])

        try store.registerUseCase(UseCase(id: "digits", name: "Digits", template: "t", stage: "intake", policyJSON: "{}", created: .zero))
        #expect(try store.models().isEmpty && store.aliases().isEmpty)
    }
}
