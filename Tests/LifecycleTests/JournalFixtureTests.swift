import Foundation
import Logging
import MeshAgents
import MeshCompute
import MeshCore
import MeshRuntime
import Testing

/// Journals recorded by earlier versions (Tests/Fixtures/journals/*.json: the scenario, its
/// logical records and digest) re-executed by this code: a change that breaks determinism, or
/// changes what a scenario journals, fails here with the first divergent record. Most fixtures
/// do not depend on the machine's BLAS kernel (the relay; lifecycles that end before training);
/// one that trains (`lifecycle-trains.json`) names the OpenBLAS kernel it was recorded with and
/// is re-executed where this process has that kernel (skipped, with a note, elsewhere).
/// Re-record one deliberately with `meshwork run` when a change is meant.
@Suite("Recorded journals replay unchanged")
struct JournalFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/journals")

    struct Fixture: Decodable {
        var scenario: String
        var digest: String
        var records: [[Recorded]]
        /// The OpenBLAS kernel a fixture that trains was recorded with (its outputs depend on it).
        var blasKernel: String?

        enum CodingKeys: String, CodingKey {
            case scenario, digest, records
            case blasKernel = "blas_kernel"
        }

        enum Recorded: Decodable {
            case number(UInt64)
            case text(String)
            case fields([[String]])

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(UInt64.self) {
                    self = .number(number)
                } else if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    self = .fields(try container.decode([[String]].self))
                }
            }
        }

        /// The records as LogicalRecords (`[time_us, kind, subject, [[name, value], …]]`).
        func logicalRecords() throws -> [LogicalRecord] {
            try self.records.map { row in
                guard row.count == 4, case .number(let time) = row[0], case .text(let kind) = row[1],
                    case .text(let subject) = row[2], case .fields(let fields) = row[3]
                else { throw FixtureError.malformed }
                return LogicalRecord(
                    time: SimTime(microseconds: time), kind: kind, subject: subject,
                    fields: fields.map { LogicalRecord.Field($0[0], $0.count > 1 ? $0[1] : "") })
            }
        }
    }

    enum FixtureError: Error { case malformed }

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Self.directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test func thereAreFixtures() {
        #expect(Self.names.count >= 4, "fixtures in \(Self.directory.path)")
    }

    @Test(arguments: Self.names)
    func aRecordedJournalReplaysRecordByRecord(_ name: String) async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let expected = try fixture.logicalRecords()
        var recomputed = JournalDigest()
        for record in expected { recomputed.append(record) }
        #expect(recomputed.text == fixture.digest, "\(name): the fixture's records do not hash to its digest")
        if let kernel = fixture.blasKernel, kernel != BLAS.coreName {
            print("SKIP \(name): recorded with OpenBLAS's \(kernel) kernel; this process has \(BLAS.coreName)")
            return
        }
        var scenario = try ScenarioLoader.parse(fixture.scenario, file: name)
        if case .lifecycle(let files) = scenario.workflow { scenario.lifecycle = try ScenarioLoader.resolve(files) }
        let logger = Logger(label: "fixture", factory: { _ in SwiftLogNoOpLogHandler() })
        let replayed = try await Replay.reexecute(scenario, logger: logger)
        if let divergence = Replay.firstDivergence(expected: expected, actual: replayed.records) {
            Issue.record(
                """
                \(name): first divergence at record \(divergence.index) (\(divergence.simTime)):
                  expected \(divergence.expected.map { "\($0)" } ?? "nothing")
                  actual   \(divergence.actual.map { "\($0)" } ?? "nothing")
                """)
        }
        #expect(replayed.digest == fixture.digest)
    }

    /// A change to one agent's rule in code — the use case agent's feasibility check gains a
    /// check of its own — is caught by replaying a recorded journal: the first divergence is
    /// that agent's feasibility result, with every record before it unchanged.
    @Test func changingOneAgentsRuleIsReportedAtItsFirstRecord() async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("pii-infeasible.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let expected = try fixture.logicalRecords()
        var scenario = try ScenarioLoader.parse(fixture.scenario, file: "pii-infeasible.json")
        if case .lifecycle(let files) = scenario.workflow { scenario.lifecycle = try ScenarioLoader.resolve(files) }
        let stricter = RecordWorker([
            LifecycleWork.intake: RecordWorker.json(UseCaseSpec.self) { spec, _ in spec },
            LifecycleWork.feasibility: RecordWorker.json(FeasibilityRequest.self) { request, _ in
                var report = FeasibilityCheck.evaluate(request)
                report.checks.append(.init(name: "budget", passed: true, detail: "a rule this code added"))
                return report
            },
        ])
        let logger = Logger(label: "fixture", factory: { _ in SwiftLogNoOpLogHandler() })
        let replayed = try await Replay.reexecute(scenario, replacing: [.useCase: stricter], logger: logger)
        let divergence = try #require(Replay.firstDivergence(expected: expected, actual: replayed.records))
        let feasibility = try #require(expected.firstIndex { $0.kind == "task.done" && $0.field("work") == LifecycleWork.feasibility })
        #expect(divergence.index == feasibility)
        #expect(divergence.agent == Role.useCase.rawValue)
        #expect(divergence.expected?.subject == divergence.actual?.subject)
        #expect(divergence.expected?.field("output") != divergence.actual?.field("output"))
        #expect(divergence.chain.last?.hasPrefix("uc/customer-churn/discover") == true, "\(divergence.chain)")
        #expect(Array(replayed.records.prefix(feasibility)) == Array(expected.prefix(feasibility)))
    }

    /// A scripted data-source outage is a logical event: preparation waits for the source to come
    /// back (`data.outage`, then the preparation at the outage's end), every record before it is
    /// the outage-free run's, and the digest differs from it — by design.
    @Test func aDataSourceOutageDelaysPreparationUntilItEnds() async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("ragged-data.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let expected = try fixture.logicalRecords()
        let text = fixture.scenario + "    outages: [{ source: ragged, from_hour: 0.5, until_hour: 3 }]\n"
        var scenario = try ScenarioLoader.parse(text, file: "ragged-outage.yaml")
        if case .lifecycle(let files) = scenario.workflow { scenario.lifecycle = try ScenarioLoader.resolve(files) }
        let logger = Logger(label: "fixture", factory: { _ in SwiftLogNoOpLogHandler() })
        let replayed = try await Replay.reexecute(scenario, logger: logger)
        let outage = try #require(replayed.records.firstIndex { $0.kind == "data.outage" }, "\(replayed.records.map(\.kind))")
        #expect(replayed.records[outage].field("source") == "ragged")
        #expect(Array(replayed.records.prefix(outage)) == Array(expected.prefix(outage)), "nothing before the outage changes")
        let prepare = try #require(replayed.records.first { $0.subject == "uc/ragged-data/prepare" })
        let threeHours: UInt64 = 3 * 3_600_000_000
        #expect(replayed.records[outage].time.microseconds < threeHours)
        #expect(prepare.time.microseconds > threeHours, "prepared when the source came back")
        #expect(replayed.digest != fixture.digest)
        #expect(throws: (any Error).self) {
            try ScenarioLoader.parse(fixture.scenario + "    outages: [{ source: ragged, from_hour: 2, until_hour: 1 }]\n", file: "bad.yaml")
        }
        let unknown = try ScenarioLoader.parse(fixture.scenario + "    outages: [{ source: nowhere, until_hour: 1 }]\n", file: "bad.yaml")
        guard case .lifecycle(let files) = unknown.workflow else { return }
        #expect(throws: (any Error).self) { try ScenarioLoader.resolve(files) }
    }
}
