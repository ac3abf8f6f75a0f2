import MeshCore
import MeshRuntime
import Testing

/// Replay's comparison, without processes.
@Suite("Replay comparison")
struct ReplayTests {
    static func record(_ index: Int, kind: String = "task.done", value: String = "a") -> LogicalRecord {
        LogicalRecord(
            time: SimTime(microseconds: UInt64(index) * 60_000_000), kind: kind, subject: "uc/x/t\(index)",
            fields: [.init("role", "compute"), .init("work", "compute.train"), .init("output", value)])
    }

    @Test func identicalJournalsHaveNoDivergence() {
        let records = (0..<6).map { Self.record($0) }
        #expect(Replay.firstDivergence(expected: records, actual: records) == nil)
    }

    @Test func theFirstDifferentRecordIsNamedWithTheHandOffsBeforeIt() throws {
        let expected = (0..<8).map { Self.record($0) }
        var actual = expected
        actual[5] = Self.record(5, value: "b")
        actual[6] = Self.record(6, value: "c")
        let divergence = try #require(Replay.firstDivergence(expected: expected, actual: actual))
        #expect(divergence.index == 5)
        #expect(divergence.simTime == "1970-01-01T00:05:00Z")
        #expect(divergence.agent == "compute")
        #expect(divergence.expected == expected[5] && divergence.actual == actual[5])
        #expect(divergence.chain == (0..<5).map { "uc/x/t\($0) (compute.train)" })
    }

    @Test func aJournalThatEndsEarlyDivergesWhereItEnds() throws {
        let expected = (0..<4).map { Self.record($0) }
        let shorter = try #require(Replay.firstDivergence(expected: expected, actual: Array(expected.prefix(2))))
        #expect(shorter.index == 2 && shorter.actual == nil && shorter.expected == expected[2])
        let longer = try #require(Replay.firstDivergence(expected: Array(expected.prefix(3)), actual: expected))
        #expect(longer.index == 3 && longer.expected == nil && longer.actual == expected[3])
    }
}
