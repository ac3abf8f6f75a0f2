import Foundation
import MeshProcessTesting
import MeshStore
import Synchronization
import Testing

/// Layer 4 across hosts: three network namespaces made by `scripts/netns-hosts.sh` stand for three
/// machines on 10.200.0.0/24; `meshwork up --hosts` places the coordinator and agents on them over
/// tcp and must print the digest of the one-process run, with and without a 10-s link cut.
///
/// Needs root (CAP_NET_ADMIN) and iproute2, as CI has; elsewhere the suite is skipped with a reason.
@Suite(
    "meshwork up across hosts (network namespaces)", .serialized,
    .enabled(if: NetnsHosts.available, "needs root and iproute2 to create network namespaces (`ip netns add`)"))
struct MultiHostTests {
    /// The default scenario across three hosts gives the digest of `meshwork run` in one process, and
    /// the monitoring agent on host c reached the pipeline's inference API at host c's address.
    @Test func theDefaultScenarioAcrossThreeHostsGivesTheOneHostDigest() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = directory + "/runs"
        let root = ProcessMeshTests.repositoryRoot
        let single = try await MeshworkBinary.run(
            ["run", "scenarios/default.yaml", "--json", "--quiet", "--runs", runs], in: root, timeout: .seconds(900))
        #expect(single.status == 0, "stderr: \(single.stderr)")
        let expected = try #require(single.json?["digest"] as? String, "stdout: \(single.stdout)")

        try await NetnsHosts.with { hosts in
            let file = try hosts.writeHostsFile(in: directory)
            let up = try await MeshworkBinary.run(
                ["up", "scenarios/default.yaml", "--hosts", file, "--json", "--quiet", "--runs", runs], in: root,
                timeout: .seconds(900))
            #expect(up.status == 0, "stderr: \(up.stderr)")
            let json = try #require(up.json, "stdout: \(up.stdout)\nstderr: \(up.stderr)")
            #expect(json["digest"] as? String == expected)
            #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0)
            let run = runs + "/" + (json["run_dir"] as? String ?? "").split(separator: "/").last.map(String.init)!
            let store = try RunStore.openReadOnly(at: run)
            defer { try? store.close() }
            let telemetry = try store.physicalEvents(kind: "telemetry")
            #expect(
                telemetry.contains { $0.task.contains("/window/") && $0.detail.contains("window.inference=http://10.200.0.3:") },
                "the monitoring agent did not reach the pipeline at host c's address")
        }
    }

    /// Host c (a compute node, the pipeline and the monitoring agent) loses its link for 10 s in the
    /// middle of the run: once it is back, the run ends with the same digest and nothing lost.
    @Test func aTenSecondLinkCutKeepsTheDigest() async throws {
        try await Self.checkDigest(under: [["cut", "c", "10"]])
    }

    /// Host c answers every TCP segment with a reset for 5 s (a one-sided reset: its own sockets
    /// are not told; ZMTP heartbeats notice), then drops 20 % of its packets for 10 s (nftables).
    @Test(.enabled(if: NetnsHosts.hasNftables, "needs nftables (apt-get install nftables; make test installs it)"))
    func aOneSidedResetPacketLossAndDelayKeepTheDigest() async throws {
        // Host c's connections go through the delay proxy from the start (delay 0); then 80 ms each
        // way for 8 s, a reset, and 20 % loss, in a lifecycle long enough to outlast them.
        try await Self.checkDigest(
            under: [["delay", "c", "80", "8"], ["reset", "c", "5"], ["loss", "c", "20", "10"]], prepare: [["proxy", "c"]],
            lifecycle: TestScenarios.smallLifecycle(name: "lifecycle-hosts", hours: 24, agents: "{ compute: 2 }"))
    }

    /// Runs the small lifecycle in one process, then across the three hosts while `faults`
    /// (netns-hosts.sh actions, one after another) hit the mesh once hand-offs are being
    /// journaled; expects the same digest, nothing lost, and every fault over before the run.
    /// `prepare` (netns-hosts.sh actions too) runs once the hosts exist, before the mesh starts.
    static func checkDigest(under faults: [[String]], prepare: [[String]] = [], lifecycle: String = smallLifecycle) async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = directory + "/runs"
        let root = ProcessMeshTests.repositoryRoot
        let scenario = try MeshworkBinary.writeScenario(lifecycle, named: "small.yaml", in: directory)
        let single = try await MeshworkBinary.run(["run", scenario, "--json", "--quiet", "--runs", runs], in: root)
        #expect(single.status == 0, "stderr: \(single.stderr)")
        let expected = try #require(single.json?["digest"] as? String, "stdout: \(single.stdout)")

        try await NetnsHosts.with { hosts in
            let file = try hosts.writeHostsFile(in: directory)
            for action in prepare {
                let done = await NetnsHosts.script([action[0], hosts.prefix] + action.dropFirst())
                try #require(done.status == 0, "\(action): \(done.output)")
            }
            let faultRuns = directory + "/faults"
            let beforeFaults = Mutex<UInt64>(0)
            let up = try await MeshworkBinary.run(
                ["up", scenario, "--hosts", file, "--json", "--quiet", "--runs", faultRuns], in: root, timeout: .seconds(600)
            ) { pid in
                let deadline = ContinuousClock.now + .seconds(120)
                var records: UInt64 = 0
                while ContinuousClock.now < deadline {
                    let run = (try? FileManager.default.contentsOfDirectory(atPath: faultRuns))?.first
                    if let run { records = MeshworkBinary.journaledRecords(runDirectory: faultRuns + "/" + run) }
                    if records >= 3 { break }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                beforeFaults.withLock { $0 = records }
                for fault in faults {
                    let done = await NetnsHosts.script([fault[0], hosts.prefix] + fault.dropFirst())
                    #expect(done.status == 0, "\(fault): \(done.output)")
                    // A delay proves something only if the mesh's connections go through the proxy.
                    if fault[0] == "delay" { #expect(!done.output.contains(" 0 connections"), "\(done.output)") }
                }
                // Every fault fell inside the run: the mesh was still working when the last one ended.
                #expect(MeshworkBinary.isAlive(pid), "the run ended before the faults did; they proved nothing")
            }
            #expect(up.status == 0, "stderr: \(up.stderr)")
            let json = try #require(up.json, "stdout: \(up.stdout)\nstderr: \(up.stderr)")
            #expect(json["digest"] as? String == expected)
            #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0)
            let records = try #require(json["records"] as? Int)
            let before = beforeFaults.withLock { $0 }
            #expect(before >= 3 && before < UInt64(records), "the faults began after the run")
        }
    }

    /// A lifecycle small enough to still be running when the link is cut, and quick in debug builds.
    static let smallLifecycle = TestScenarios.smallLifecycle(name: "lifecycle-hosts", hours: 12, agents: "{ compute: 2 }")
}

/// Three namespaces from `scripts/netns-hosts.sh`, under a prefix of their own so that concurrent
/// runs never collide, always removed.
struct NetnsHosts {
    /// The namespaces are PREFIX-a, PREFIX-b, PREFIX-c (and the switch, PREFIX-sw).
    let prefix: String

    /// Whether this process may create network namespaces (root, iproute2 present).
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip")
        else { return false }
        let probe = "mwprobe\(getpid())"
        guard Self.runBlocking(["ip", "netns", "add", probe]).status == 0 else { return false }
        _ = Self.runBlocking(["ip", "netns", "del", probe])
        return true
    }()

    /// Whether nftables is installed (the reset and loss faults need it).
    static let hasNftables = ["/usr/sbin/nft", "/sbin/nft"].contains { FileManager.default.isExecutableFile(atPath: $0) }

    /// Makes the three hosts, runs `body`, and removes them whatever happens.
    static func with(_ body: (NetnsHosts) async throws -> Void) async throws {
        let hosts = NetnsHosts(prefix: "m" + String(UInt32.random(in: 0...UInt32.max), radix: 36).prefix(7))
        let up = await Self.script(["up", hosts.prefix])
        guard up.status == 0 else {
            _ = await Self.script(["down", hosts.prefix])
            Issue.record("netns-hosts.sh up failed: \(up.output)")
            return
        }
        do {
            try await body(hosts)
        } catch {
            _ = await Self.script(["down", hosts.prefix])
            throw error
        }
        let down = await Self.script(["down", hosts.prefix])
        #expect(down.status == 0, "netns-hosts.sh down failed: \(down.output)")
    }

    /// scenarios/hosts-netns.yaml with this run's namespace names, written into `directory`.
    func writeHostsFile(in directory: String) throws -> String {
        let template = try String(
            contentsOfFile: ProcessMeshTests.repositoryRoot + "/scenarios/hosts-netns.yaml", encoding: .utf8)
        let path = directory + "/hosts.yaml"
        try template.replacingOccurrences(of: "ip netns exec mw-", with: "ip netns exec \(self.prefix)-")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs scripts/netns-hosts.sh on a thread of its own (never on the cooperative pool).
    static func script(_ arguments: [String]) async -> (status: Int32, output: String) {
        let command = [ProcessMeshTests.repositoryRoot + "/scripts/netns-hosts.sh"] + arguments
        return await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.runBlocking(command)) }.start()
        }
    }

    /// Runs a command to its end on the calling thread; its stdout and stderr together.
    static func runBlocking(_ command: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
