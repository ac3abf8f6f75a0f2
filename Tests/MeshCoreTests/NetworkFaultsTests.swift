import Foundation
import MeshCore
import Testing

/// Scripted faults: how they are written, and what the network ones do to each message.
@Suite("Scripted faults")
struct NetworkFaultsTests {
    static func fault(_ json: String) throws -> FaultSpec {
        try JSONDecoder().decode(FaultSpec.self, from: Data(json.utf8))
    }

    static let data1 = AgentID(unchecked: "data-1")
    static let model1 = AgentID(unchecked: "model-1")

    static func at(_ seconds: Double) -> MonotonicTime { MonotonicTime(nanoseconds: UInt64(seconds * 1e9)) }

    @Test func everyKindOfFaultReadsBackAsWritten() throws {
        let faults = try [
            #"{"kill": "any-agent", "start": 0.5, "every": 2, "times": 3}"#,
            #"{"pause": "data", "at_hour": 6, "for": 2}"#,
            #"{"drop": "monitoring", "rate": 0.3, "for": 3}"#,
            #"{"duplicate": "any", "rate": 0.2, "kinds": ["result", "award"]}"#,
            #"{"delay": "pipeline", "ms": 40, "jitter_ms": 10}"#,
            #"{"cut": "compute-1", "at_hour": 1, "for": 2}"#,
            #"{"slow_join": "monitoring-1", "for": 1.5}"#,
        ].map(Self.fault)
        #expect(faults.map(\.action) == [.kill, .pause, .drop, .duplicate, .delay, .cut, .slowJoin])
        #expect(faults.map(\.action.isNetwork) == [false, false, true, true, true, true, false])
        for fault in faults {
            let again = try JSONDecoder().decode(FaultSpec.self, from: JSONEncoder().encode(fault))
            #expect(again == fault)
        }
    }

    @Test(arguments: [
        (#"{"drop": "data"}"#, "'rate: FRACTION'"),
        (#"{"drop": "data", "rate": 0}"#, "0 < rate <= 1"),
        (#"{"duplicate": "data", "rate": 2}"#, "0 < rate <= 1"),
        (#"{"delay": "data"}"#, "'ms: MILLISECONDS'"),
        (#"{"delay": "data", "ms": 5, "rate": 0}"#, "a fraction"),
        (#"{"cut": "data"}"#, "'for: SECONDS'"),
        (#"{"cut": "coordinator", "for": 1}"#, "only kill can"),
        (#"{"cut": "data", "for": 1, "every": 2}"#, "no 'every'"),
        (#"{"slow_join": "any-agent", "for": 1}"#, "a slow joiner is named"),
        (#"{"slow_join": "data"}"#, "'for: SECONDS'"),
        (#"{"kill": "data", "rate": 0.5}"#, "no 'rate'"),
        (#"{"kill": "data", "ms": 5}"#, "'ms' only on a delay"),
        (#"{"kill": "data", "kinds": ["result"]}"#, "'kinds' only on"),
        (#"{"drop": "data", "rate": 0.5, "kinds": ["results"]}"#, "not 'results'"),
        (#"{"pause": "data", "at_hour": -1, "for": 1}"#, "a simulated hour"),
        (#"{"drop": "data", "cut": "data", "rate": 1, "for": 1}"#, "exactly one of"),
        (#"{"lose": "data"}"#, "unknown field 'lose'"),
    ])
    func aMalformedFaultSaysWhatWasExpected(json: String, expected: String) {
        #expect {
            try Self.fault(json)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func nothingHappensBeforeTheWorkflowStartsAndTheWindowOpensAtStart() throws {
        var faults = NetworkFaults([try Self.fault(#"{"cut": "data", "start": 1, "for": 2}"#)], seed: 1)
        #expect(faults.decide(.hello, peer: .agent(Self.data1), simTime: .zero, at: Self.at(0)) == .deliver)
        _ = faults.decide(.callForProposals, peer: .role(.model), simTime: .zero, at: Self.at(10))  // the workflow starts
        #expect(faults.decide(.result, peer: .agent(Self.data1), simTime: .zero, at: Self.at(10.5)).copies == 1)
        #expect(faults.decide(.result, peer: .agent(Self.data1), simTime: .zero, at: Self.at(11)).copies == 0)
        #expect(faults.decide(.heartbeat, peer: .agent(Self.data1), simTime: .zero, at: Self.at(12.9)).copies == 0)
        #expect(faults.decide(.result, peer: .agent(Self.model1), simTime: .zero, at: Self.at(12)).copies == 1, "another role")
        #expect(faults.decide(.result, peer: .agent(Self.data1), simTime: .zero, at: Self.at(13)).copies == 1, "the cut is over")
        #expect(faults.counts.map(\.counts.dropped) == [2])
    }

    @Test func aFaultAtASimulatedHourWaitsForTheClock() throws {
        var faults = NetworkFaults([try Self.fault(#"{"drop": "any", "rate": 1, "at_hour": 2, "for": 1}"#)], seed: 1)
        _ = faults.decide(.callForProposals, peer: .role(.data), simTime: .zero, at: Self.at(0))
        let oneHour = SimTime(microseconds: 3_600_000_000)
        #expect(faults.decide(.award, peer: .agent(Self.data1), simTime: oneHour, at: Self.at(5)).copies == 1)
        let twoHours = SimTime(microseconds: 7_200_000_000)
        #expect(faults.decide(.award, peer: .agent(Self.data1), simTime: twoHours, at: Self.at(6)).copies == 0)
        #expect(faults.decide(.award, peer: .agent(Self.data1), simTime: oneHour, at: Self.at(6.5)).copies == 0, "open now")
        #expect(faults.decide(.award, peer: .agent(Self.data1), simTime: twoHours, at: Self.at(7.1)).copies == 1, "closed")
    }

    @Test func ratesAreDrawnFromTheSeedAndKindsFilter() throws {
        let specs = try [
            Self.fault(#"{"duplicate": "data", "rate": 0.5, "kinds": ["result"]}"#),
            Self.fault(#"{"delay": "any", "ms": 10, "jitter_ms": 10}"#),
        ]
        func trace(seed: UInt64) -> [NetworkFaults.Verdict] {
            var faults = NetworkFaults(specs, seed: seed)
            _ = faults.decide(.callForProposals, peer: .everyone, simTime: .zero, at: Self.at(0))
            return (0..<200).map { faults.decide(.result, peer: .agent(Self.data1), simTime: .zero, at: Self.at(1 + Double($0) / 1000)) }
        }
        let first = trace(seed: 3)
        #expect(first == trace(seed: 3), "the same seed picks the same messages")
        #expect(first != trace(seed: 4))
        let duplicated = first.filter { $0.copies == 2 }.count
        #expect((60...140).contains(duplicated), "about half of 200: \(duplicated)")
        #expect(first.allSatisfy { $0.delay >= .zero && $0.delay <= .milliseconds(20) })
        #expect(Set(first.map(\.delay)).count > 10, "jitter spreads the delays (and so reorders)")

        var faults = NetworkFaults(specs, seed: 3)
        _ = faults.decide(.callForProposals, peer: .everyone, simTime: .zero, at: Self.at(0))
        let bids = (0..<50).map { _ in faults.decide(.bid, peer: .agent(Self.data1), simTime: .zero, at: Self.at(1)) }
        #expect(bids.allSatisfy { $0.copies == 1 }, "only results are duplicated")
    }

    @Test func rolesAndBroadcastsMatchOnlyWhatTheyName() throws {
        var faults = NetworkFaults([try Self.fault(#"{"cut": "data", "for": 5}"#)], seed: 1)
        _ = faults.decide(.callForProposals, peer: .everyone, simTime: .zero, at: Self.at(0))
        #expect(faults.decide(.callForProposals, peer: .role(.data), simTime: .zero, at: Self.at(1)).copies == 0)
        #expect(faults.decide(.callForProposals, peer: .role(.model), simTime: .zero, at: Self.at(1)).copies == 1)
        #expect(faults.decide(.shutdown, peer: .everyone, simTime: .zero, at: Self.at(1)).copies == 1)
        #expect(faults.decide(.bid, peer: .agent(AgentID(unchecked: "data-12")), simTime: .zero, at: Self.at(1)).copies == 0)
        #expect(NetworkFaults([try Self.fault(#"{"kill": "data"}"#)], seed: 1).isEmpty, "kills are the supervisor's")
    }
}
