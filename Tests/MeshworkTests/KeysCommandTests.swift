import Foundation
import MeshProcessTesting
import MeshCore
import MeshRuntime
import MeshZeroMQ
import Testing

/// `meshwork keys generate`, key files and rosters, and tcp refusing to start without them.
@Suite("CURVE keys at the command line")
struct KeysCommandTests {
    @Test func generateWritesASecretKeyOnlyItsOwnerCanReadAndARosterLine() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await MeshworkBinary.run(["keys", "generate", "--id", "compute-2", "--dir", "keys"], in: directory, timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        let publicKey = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(publicKey.count == 40)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/keys/compute-2.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let identity = try MeshKeys.readSecret(path: directory + "/keys/compute-2.key")
        #expect(identity.id.rawValue == "compute-2" && identity.role == .compute && identity.publicKey == publicKey)
        let roster = try MeshKeys.readRoster(path: directory + "/keys/compute-2.pub")
        #expect(roster[publicKey]?.id.rawValue == "compute-2")
        #expect(try MeshKeys.readPublicKey(directory + "/keys/compute-2.pub") == publicKey)

        // No silent overwrite; --force rotates.
        let again = try await MeshworkBinary.run(["keys", "generate", "--id", "compute-2", "--dir", "keys"], in: directory, timeout: .seconds(30))
        #expect(again.status == 2 && again.stderr.contains("already there"), "\(again.stderr)")
        let rotated = try await MeshworkBinary.run(
            ["keys", "generate", "--id", "compute-2", "--dir", "keys", "--force"], in: directory, timeout: .seconds(30))
        #expect(rotated.status == 0 && rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != publicKey)

        // A secret key others can read is refused.
        chmod(directory + "/keys/compute-2.key", 0o644)
        #expect(throws: RuntimeError.self) { try MeshKeys.readSecret(path: directory + "/keys/compute-2.key") }
        let noRole = try await MeshworkBinary.run(["keys", "generate", "--id", "watcher", "--dir", "keys"], in: directory, timeout: .seconds(30))
        #expect(noRole.status == 2 && noRole.stderr.contains("give --role"), "\(noRole.stderr)")
    }

    @Test func badRostersAreRefusedWithTheReason() throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = String(repeating: "a", count: 40)
        let cases = [
            ("data-1: { role: wizard, key: \"\(key)\" }", "not a role"),
            ("data-1: { role: data, key: \"short\" }", "not a CURVE public key"),
            ("data-1: { role: data, key: \"\(key)\" }\ndata-2: { role: data, key: \"\(key)\" }", "each key once"),
            ("{}", "empty"),
        ]
        for (text, mention) in cases {
            let path = try MeshworkBinary.writeScenario(text, named: "roster.yaml", in: directory)
            #expect {
                try MeshKeys.readRoster(path: path)
            } throws: { error in
                "\(error)".contains(mention) && "\(error)".contains(path)
            }
        }
    }

    @Test func tcpWithoutKeysFailsClosedAtTheCommandLine() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(ProcessMeshTests.relayScenario(name: "open", tokens: 1), named: "s.yaml", in: directory)
        let coordinator = try await MeshworkBinary.run(
            ["coordinator", "--bind", "tcp://127.0.0.1:0", "--scenario", scenario], in: directory, timeout: .seconds(30))
        #expect(coordinator.status == 1 && coordinator.stderr.contains("fail closed"), "\(coordinator.stderr)")
        let agent = try await MeshworkBinary.run(["agent", "--role", "data", "--connect", "tcp://127.0.0.1:5555"], in: directory, timeout: .seconds(30))
        #expect(agent.status == 1 && agent.stderr.contains("fail closed"), "\(agent.stderr)")
        let half = try await MeshworkBinary.run(
            ["agent", "--role", "data", "--connect", "tcp://127.0.0.1:5555", "--secret-key", "k.key"], in: directory, timeout: .seconds(30))
        #expect(half.status == 2 && half.stderr.contains("go together"), "\(half.stderr)")
    }
}
