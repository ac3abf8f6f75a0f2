import Foundation
import MeshProcessTesting
import MeshCore
import MeshRuntime
import Testing

/// The hosts file of `meshwork up --hosts`: placement, command lines, and bad files refused with
/// the file, field and reason.
@Suite("Hosts file")
struct HostsFileTests {
    static func write(_ text: String) throws -> String {
        let directory = try MeshworkBinary.temporaryDirectory()
        return try MeshworkBinary.writeScenario(text, named: "hosts.yaml", in: directory)
    }

    @Test func placesAgentsByIdThenRoleThenOnTheCoordinatorsHost() throws {
        let path = try Self.write(
            """
            hosts:
              - { name: a, address: 10.200.0.1 }
              - { name: b, address: 10.200.0.2, launch: ip netns exec mw-b }
              - { name: c, address: box-c.example.net, launch: [ssh, -o, BatchMode=yes, c], meshwork: /opt/mw/meshwork }
            coordinator: a
            placement: { compute: b, compute-2: c }
            """)
        let hosts = try ScenarioLoader.decode(HostsFile.self, path: path)
        #expect(hosts.endpoint == "tcp://10.200.0.1:0")
        #expect(hosts.host(for: AgentID(role: .compute, instance: 1), role: .compute).name == "b")
        #expect(hosts.host(for: AgentID(role: .compute, instance: 2), role: .compute).name == "c")
        #expect(hosts.host(for: AgentID(role: .data, instance: 1), role: .data).name == "a")
        let b = try #require(hosts.host(named: "b"))
        #expect(
            hosts.commandLine(on: b, executable: "/x/meshwork", arguments: ["agent", "--role", "pipeline"],
                environment: ["MESHWORK_INFERENCE_HOST": "10.200.0.2"])
                == ["ip", "netns", "exec", "mw-b", "env", "MESHWORK_INFERENCE_HOST=10.200.0.2", "/x/meshwork", "agent", "--role", "pipeline"])
        let c = try #require(hosts.host(named: "c"))
        #expect(hosts.commandLine(on: c, executable: "/x/meshwork", arguments: ["agent"]) == ["ssh", "-o", "BatchMode=yes", "c", "/opt/mw/meshwork", "agent"])
    }

    @Test(arguments: [
        ("hosts: []\ncoordinator: a", "at least one host"),
        ("hosts: [{ name: a, address: 10.0.0.1 }]\ncoordinator: z", "one of the hosts"),
        ("hosts: [{ name: a, address: 10.0.0.1 }, { name: a, address: 10.0.0.2 }]\ncoordinator: a", "each host name once"),
        ("hosts: [{ name: a, address: 'tcp://10.0.0.1:5' }]\ncoordinator: a", "no scheme, no port"),
        ("hosts: [{ name: a, address: 10.0.0.1 }]\ncoordinator: a\nport: 65535", "0...65534"),
        ("hosts: [{ name: a, address: 10.0.0.1 }]\ncoordinator: a\nplacement: { data: q }", "'q' is not one"),
        ("hosts: [{ name: a, address: 10.0.0.1 }]\ncoordinator: a\nplacement: { 'bad id!': a }", "neither"),
        ("hosts: [{ name: a, address: 10.0.0.1, user: x }]\ncoordinator: a", "unknown field 'user'"),
        ("hosts: [{ name: a, address: 10.0.0.1, meshwork: bin/meshwork }]\ncoordinator: a", "an absolute path"),
    ])
    func badHostsFilesAreRefusedWithTheReason(text: String, mention: String) throws {
        let path = try Self.write(text)
        #expect {
            try ScenarioLoader.decode(HostsFile.self, path: path)
        } throws: { error in
            "\(error)".contains(mention) && "\(error)".contains(path)
        }
    }

    @Test func upNamesAnAgentThePlacementGetsWrong() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(ProcessMeshTests.relayScenario(name: "tiny", tokens: 1), named: "s.yaml", in: directory)
        let hosts = try MeshworkBinary.writeScenario(
            "hosts: [{ name: a, address: 127.0.0.1 }]\ncoordinator: a\nplacement: { compute-9: a }\n", named: "h.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--hosts", hosts, "--quiet"], in: directory, timeout: .seconds(60))
        #expect(result.status == 2)
        #expect(result.stderr.contains("compute-9 is not one of"), "\(result.stderr)")
    }

    /// Every process on one host reached over tcp on loopback: the relay's digest, as with ipc.
    @Test func upWithAHostsFileOnLoopbackMatchesTheReference() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(ProcessMeshTests.relayScenario(name: "tcp", tokens: 100), named: "s.yaml", in: directory)
        let hosts = try MeshworkBinary.writeScenario(
            "hosts: [{ name: here, address: 127.0.0.1, launch: env }]\ncoordinator: here\n", named: "h.yaml", in: directory)
        let result = try await MeshworkBinary.run(["up", scenario, "--hosts", hosts, "--json", "--quiet"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.json?["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: 100))
    }

    /// `--endpoint tcp://…` without a hosts file: the supervisor makes the keys and the roster too.
    @Test func upOverTcpWithoutAHostsFileMakesItsOwnKeys() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(ProcessMeshTests.relayScenario(name: "tcp", tokens: 50), named: "s.yaml", in: directory)
        let result = try await MeshworkBinary.run(
            ["up", scenario, "--endpoint", "tcp://127.0.0.1:0", "--json", "--quiet"], in: directory)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)")
        #expect(json["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: 50))
        let run = directory + "/" + (json["run_dir"] as? String ?? "")
        let mode = (try FileManager.default.attributesOfItem(atPath: run + "/keys/coordinator.key")[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(FileManager.default.fileExists(atPath: run + "/keys/roster.yaml"))
    }
}
