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
            ("data-1: { role: data }", "either key"),
            ("data-1: { role: data, keys: [\"\(key)\", \"\(key)\"] }", "listed twice"),
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

    /// `keys rotate` puts the new key beside the old in the agent's roster entry (written
    /// atomically, readable as a roster), `keys retire` leaves only the current one; both refuse
    /// an id outside the roster, and retiring refuses to lock an agent out.
    @Test func rotateAddsTheNewKeyBesideTheOldAndRetireRemovesTheOld() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func meshwork(_ arguments: [String]) async throws -> MeshworkBinary.Result {
            try await MeshworkBinary.run(arguments, in: directory, timeout: .seconds(30))
        }
        _ = try await meshwork(["keys", "generate", "--id", "data-1", "--dir", "keys"])
        _ = try await meshwork(["keys", "generate", "--id", "compute-1", "--dir", "keys"])
        let roster = directory + "/roster.yaml"
        let lines = try ["data-1", "compute-1"].map { try String(contentsOfFile: directory + "/keys/\($0).pub", encoding: .utf8) }
        try lines.joined().write(toFile: roster, atomically: true, encoding: .utf8)
        let old = try MeshKeys.readSecret(path: directory + "/keys/data-1.key").publicKey

        let rotated = try await meshwork(["keys", "rotate", "--id", "data-1", "--dir", "keys", "--roster", "roster.yaml"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let new = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(CurveKeyPair.isKey(new) && new != old)
        #expect(try MeshKeys.readSecret(path: directory + "/keys/data-1.key").publicKey == new)
        let overlap = try MeshKeys.readRoster(path: roster)
        #expect(overlap[old]?.id.rawValue == "data-1" && overlap[new]?.id.rawValue == "data-1" && overlap.count == 3)
        #expect(overlap[new]?.role == .data)

        let retired = try await meshwork(["keys", "retire", "--id", "data-1", "--dir", "keys", "--roster", "roster.yaml"])
        #expect(retired.status == 0 && retired.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == old, "\(retired.stderr)")
        let after = try MeshKeys.readRoster(path: roster)
        #expect(after[old] == nil && after[new]?.id.rawValue == "data-1" && after.count == 2)

        let stranger = try await meshwork(["keys", "rotate", "--id", "model-1", "--dir", "keys", "--roster", "roster.yaml"])
        #expect(stranger.status == 2 && stranger.stderr.contains("not in the roster"), "\(stranger.stderr)")
        // A key made with --force outside the rotation is not in the roster: retiring would lock data-1 out.
        _ = try await meshwork(["keys", "generate", "--id", "data-1", "--dir", "keys", "--force"])
        let lockout = try await meshwork(["keys", "retire", "--id", "data-1", "--dir", "keys", "--roster", "roster.yaml"])
        #expect(lockout.status == 2 && lockout.stderr.contains("lock it out"), "\(lockout.stderr)")
        #expect(try MeshKeys.readRoster(path: roster)[new] != nil, "a refused retire changed the roster")
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
