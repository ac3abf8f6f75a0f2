import Foundation
import MeshProcessTesting
import MeshCore
import Testing

/// `meshwork bench` as a user runs it: the JSON keys and their sanity, never the speeds.
@Suite("meshwork bench", .serialized)
struct BenchCommandTests {
    @Test func aCheapSubsetPrintsEveryKeyOfItsParts() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await MeshworkBinary.run(
            [
                "bench", "--json", "--only", "relay,handoffs,latency", "--messages", "3000", "--mesh-messages", "3000",
                "--tokens", "40", "--latency-rate", "300", "--latency-seconds", "1",
            ], in: directory, timeout: .seconds(240))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        for key in [
            "relay_msgs_per_s", "raw_relay_msgs_per_s", "relay_vs_raw_ratio", "relay_forwarded_batches", "handoffs_per_s",
            "handoff_p50_ms", "handoff_p99_ms",
        ] {
            let value = try #require(json[key] as? Double, "missing \(key) in \(json)")
            #expect(value > 0, "\(key) = \(value)")
        }
        #expect(json["handoffs"] as? Int == 240)
        #expect(json["relay_retransmitted"] != nil)
        // Parts not asked for are not run.
        #expect(json["gemm_gflops"] == nil && json["infer_rps"] == nil && json["fleet_lifecycles_per_min"] == nil)
    }

    @Test func anUnknownPartIsAClearError() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await MeshworkBinary.run(["bench", "--only", "relay,warp"], in: directory, timeout: .seconds(60))
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown part 'warp'"), "stderr: \(result.stderr)")
    }

    @Test func aWallClockPacedRelayKeepsTheSimulatedDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            """
            name: paced
            seed: 7
            clock: wall
            workflow:
              relay: { tokens: 60, interarrival_us: 2000, duration_us: [100, 900] }
            """, named: "paced.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--json"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        let reference = Orchestrator.runLocally(RelayWorkflow(tokens: 60, seed: 7, interarrival: 2_000, durationRange: 100...900)) { spec in
            .done(RelayWork.output(input: spec.input, task: spec.id))
        }.digest.text
        #expect(json["digest"] as? String == reference)
        #expect(json["handoffs"] as? Int == 360)
    }
}
