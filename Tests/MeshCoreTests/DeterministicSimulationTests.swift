import Foundation
import MeshCore
import MeshTesting
import Testing

/// The seeds to run: `MESHWORK_SIM_SEED=N` runs just seed N (to rerun a failure); otherwise `count`
/// seeds from `first`, or `MESHWORK_SIM_SEEDS` of them (to search further than CI does).
private func seeds(_ count: Int, from first: UInt64 = 0) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let text = environment["MESHWORK_SIM_SEED"], let seed = UInt64(text) { return [seed] }
    let count = environment["MESHWORK_SIM_SEEDS"].flatMap { UInt64($0) } ?? UInt64(count)
    return (0..<count).map { first + $0 }
}

@Suite("Deterministic simulation of the coordinator, reliable delivery and supervision")
struct DeterministicSimulationTests {
    /// The relay (24 tokens, 144 negotiated hand-offs) under a seeded mix of loss, duplication,
    /// delay, reordering, agent crashes and pauses, network cuts, coordinator crashes and a
    /// supervisor that sometimes runs out of restart budget.
    @Test(arguments: seeds(200))
    func relayKeepsEveryInvariant(seed: UInt64) {
        let outcome = Simulation.run(.generated(seed: seed, workload: .relay(tokens: 24)))
        let matchesTheReference = outcome.finished && outcome.digest == outcome.referenceDigest
        let violations = outcome.violations
        #expect(violations.isEmpty, "\(outcome.report)")
        #expect(matchesTheReference, "\(outcome.report)")
    }

    /// A workflow with dependent steps (split, two parallel branches, a join, a wake-up, a publish),
    /// where some jobs fail on purpose: those tasks are committed once as `task.failed`.
    @Test(arguments: seeds(100, from: 10_000))
    func fanInKeepsEveryInvariantAndFailsExplicitly(seed: UInt64) {
        let outcome = Simulation.run(.generated(seed: seed, workload: .fanIn(jobs: 8)))
        let matchesTheReference = outcome.finished && outcome.digest == outcome.referenceDigest
        let failedTasks = outcome.failedTasks
        let violations = outcome.violations
        #expect(violations.isEmpty, "\(outcome.report)")
        #expect(matchesTheReference, "\(outcome.report)")
        // Jobs 3 and 4 fail (no agent can do a branch; a branch's input is bad), each at one task.
        #expect(failedTasks == 2, "\(outcome.report)")
    }

    /// The simulation itself is deterministic: one seed, one event trace.
    @Test(arguments: seeds(8, from: 500))
    func theSameSeedGivesTheSameTrace(seed: UInt64) {
        let first = Simulation.run(.generated(seed: seed, workload: .relay(tokens: 12)))
        let second = Simulation.run(.generated(seed: seed, workload: .relay(tokens: 12)))
        #expect(first.trace == second.trace, "seed \(seed): the trace differs between two runs; rerun with \(first.rerun)")
        #expect(first.statistics == second.statistics, "seed \(seed); rerun with \(first.rerun)")
        #expect(first.digest == second.digest)
        let other = Simulation.run(.generated(seed: seed + 1, workload: .relay(tokens: 12)))
        #expect(other.trace != first.trace)
    }

    /// Faults change the physical history, never the logical one: every seed's journal is the same.
    @Test func faultsNeverChangeTheLogicalDigest() {
        var digests: Set<String> = []
        var faulty = 0
        for seed in 0..<UInt64(8) {
            var scenario = SimulationScenario.generated(seed: 7_000 + seed, workload: .relay(tokens: 10))
            scenario.seed = 7
            faulty += scenario.faults.isEmpty ? 0 : 1
            let outcome = Simulation.run(scenario)
            let violations = outcome.violations
        #expect(violations.isEmpty, "\(outcome.report)")
            digests.insert(outcome.digest)
        }
        #expect(faulty > 0)
        #expect(digests.count == 1)
    }

    /// The checks can fail: a coordinator that forgets to fence old awards applies a re-awarded
    /// task's second result, and the simulation says so, naming the seed and how to rerun it.
    @Test func aCoordinatorThatForgetsFencingIsCaught() throws {
        var caught: [SimulationOutcome] = []
        for seed in 0..<UInt64(40) where caught.isEmpty {
            var scenario = SimulationScenario.generated(seed: seed, workload: .relay(tokens: 20))
            scenario.flaw = .forgetsFencing
            let outcome = Simulation.run(scenario)
            if !outcome.passed { caught.append(outcome) }
        }
        let outcome = try #require(caught.first, "no seed of 40 caught the broken coordinator")
        let appliedTwice = outcome.violations.contains { $0.contains("applied twice") }
        let namesTheSeed = outcome.report.contains("MESHWORK_SIM_SEED=\(outcome.scenario.seed)")
        #expect(appliedTwice, "\(outcome.report)")
        #expect(namesTheSeed)
    }

    /// Seed 128 (one of eleven in the first 300) found it: an agent that rejoined as the same
    /// incarnation (after a late message of a dead coordinator incarnation made it leave the live
    /// one) met a coordinator whose link still counted the old stream, which acknowledged and
    /// dropped the new messages. Agents as they were then fail this seed; agents as they are pass it.
    @Test func seed128_rejoiningAsTheSameIncarnationLosesAcknowledgedMessages() {
        var scenario = SimulationScenario.generated(seed: 128, workload: .relay(tokens: 30))
        let fixed = Simulation.run(scenario)
        let fixedViolations = fixed.violations
        #expect(fixedViolations.isEmpty, "\(fixed.report)")
        scenario.flaw = .rejoinsAsTheSameIncarnation
        let broken = Simulation.run(scenario)
        let lost = broken.violations.contains { $0.contains("acknowledged") }
        #expect(lost, "\(broken.report)")
    }

    /// A run that cannot finish is a failure, not a hang: past its horizon it is reported as a livelock.
    @Test func aRunThatDoesNotFinishIsReportedAsALivelock() {
        var scenario = SimulationScenario(seed: 3, workload: .relay(tokens: 5))
        scenario.dropPercent = 100  // a network that delivers nothing: agents say hello forever
        scenario.horizon = .seconds(10)
        let outcome = Simulation.run(scenario)
        let livelock = outcome.violations.contains { $0.contains("livelock") }
        let namesTheSeed = outcome.report.contains("MESHWORK_SIM_SEED=3")
        #expect(livelock, "\(outcome.report)")
        #expect(namesTheSeed)
    }
}
