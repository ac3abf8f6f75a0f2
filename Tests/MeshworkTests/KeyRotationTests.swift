import Foundation
import MeshProcessTesting
import MeshRuntime
import MeshStore
import Synchronization
import Testing

/// Key rotation without a restart (docs/MULTI-HOST.md, "Key rotation"), through the built binary:
/// a relay run over tcp with CURVE on loopback; mid-run data-1's key is rotated (`keys rotate`,
/// SIGHUP to the coordinator, SIGHUP to data-1, `keys retire`, SIGHUP to the coordinator), the
/// run finishes with the reference digest, and the retired key gets nothing in and nothing out.
@Suite("Key rotation during a tcp run", .serialized)
struct KeyRotationTests {
    @Test func rotatingAnAgentsKeyMidRunKeepsTheDigestAndShutsTheOldKeyOut() async throws {
        let tokens = 4_000
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            ProcessMeshTests.relayScenario(name: "rotation", tokens: tokens), named: "rotation.yaml", in: directory)
        let runs = directory + "/runs"
        let steps = Mutex<[String]>([])
        let progress = Mutex<(beforeRetire: UInt64, upAliveAfterProbe: Bool)>((0, false))
        let probe = Mutex<MeshworkBinary.Result?>(nil)
        let keys = Mutex<(old: String, new: String)>(("", ""))

        let up = try await MeshworkBinary.run(
            ["up", scenario, "--endpoint", "tcp://127.0.0.1:0", "--json", "--quiet", "--runs", runs], in: directory,
            timeout: .seconds(600)
        ) { pid in
            do {
                let run = try await Self.waitFor("the run directory") {
                    (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first.map { runs + "/" + $0 }
                }
                let keyDirectory = run + "/keys"
                let roster = keyDirectory + "/roster.yaml"
                // The mesh is working: data-1 joined and hand-offs are being journaled.
                let coordinator = try await Self.waitFor("the coordinator's start") { Self.coordinator(in: run) }
                _ = try await Self.waitFor("data-1's join and 20 records") {
                    MeshworkBinary.journaledRecords(runDirectory: run) >= 20 ? Self.pid(of: "data-1", in: run) : nil
                }
                let old = try MeshKeys.readSecret(path: keyDirectory + "/data-1.key")
                // The old secret key, kept by the test to knock on the door with afterwards.
                let oldKeyFile = directory + "/old-data-1.key"
                try FileManager.default.copyItem(atPath: keyDirectory + "/data-1.key", toPath: oldKeyFile)
                chmod(oldKeyFile, 0o600)

                let rotate = try await MeshworkBinary.run(
                    ["keys", "rotate", "--id", "data-1", "--dir", keyDirectory, "--roster", roster], in: directory, timeout: .seconds(60))
                #expect(rotate.status == 0, "\(rotate.stderr)")
                let new = rotate.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                keys.withLock { $0 = (old.publicKey, new) }
                steps.withLock { $0.append("rotated") }

                // 1. The coordinator admits both keys.
                kill(coordinator.pid, SIGHUP)
                _ = try await Self.waitFor("the coordinator to read the roster again") {
                    Self.log("coordinator", of: run).contains("SIGHUP: keys and roster read again") ? true : nil
                }
                // 2. data-1 (whichever process it is now) reads its new key and connects again.
                let data = try await Self.waitFor("data-1's pid") { Self.pid(of: "data-1", in: run) }
                kill(data, SIGHUP)
                _ = try await Self.waitFor("data-1 admitted with its new key") {
                    Self.log("coordinator", of: run).split(separator: "\n")
                        .contains { $0.contains("admitted a connection") && $0.contains(new) } ? true : nil
                }
                steps.withLock { $0.append("new key admitted") }
                // 3. The old key is retired: the coordinator drops the connections and refuses it.
                let retire = try await MeshworkBinary.run(
                    ["keys", "retire", "--id", "data-1", "--dir", keyDirectory, "--roster", roster], in: directory, timeout: .seconds(60))
                #expect(retire.status == 0 && retire.stdout.contains(old.publicKey), "\(retire.stderr)")
                progress.withLock { $0.beforeRetire = MeshworkBinary.journaledRecords(runDirectory: run) }
                kill(coordinator.pid, SIGHUP)
                _ = try await Self.waitFor("the coordinator to drop every connection") {
                    Self.log("coordinator", of: run).contains("dropped every connection") ? true : nil
                }
                steps.withLock { $0.append("old key retired") }

                // 4. The old key knocks: a blob fetch with it gets no answer, the coordinator refuses it.
                let fetch = try await MeshworkBinary.run(
                    [
                        "blob", "fetch", "sha256:" + String(repeating: "0", count: 64), "--connect", coordinator.endpoint,
                        "--cache", directory + "/cache", "--secret-key", oldKeyFile, "--server-key", keyDirectory + "/coordinator.pub",
                        "--timeout", "2",
                    ], in: directory, timeout: .seconds(60))
                probe.withLock { $0 = fetch }
                progress.withLock { $0.upAliveAfterProbe = MeshworkBinary.isAlive(pid) }
            } catch {
                Issue.record("the rotation did not go through: \(error)")
            }
        }
        #expect(steps.withLock { $0 } == ["rotated", "new key admitted", "old key retired"])
        #expect(up.status == 0, "stderr: \(up.stderr)")
        let json = try #require(up.json, "stdout: \(up.stdout)\nstderr: \(up.stderr)")
        #expect(json["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: tokens))
        #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0 && json["mismatched"] as? Int == 0)
        // The rotation happened during the run, not after it.
        let records = try #require(json["records"] as? Int)
        let (beforeRetire, aliveAfterProbe) = progress.withLock { $0 }
        #expect(beforeRetire >= 20 && beforeRetire < UInt64(records), "the key was retired after the run")
        #expect(aliveAfterProbe, "the run ended before the old key's probe; it proved nothing")

        // Nothing in, nothing out for the retired key: no answer to its fetch, and the coordinator's
        // log names it as refused.
        let fetch = try #require(probe.withLock { $0 })
        #expect(fetch.status == 1 && fetch.stderr.contains("no answer"), "stderr: \(fetch.stderr)")
        let run = try #require((try? FileManager.default.contentsOfDirectory(atPath: runs))?.first.map { runs + "/" + $0 })
        let (old, new) = keys.withLock { $0 }
        let log = Self.log("coordinator", of: run).split(separator: "\n")
        let reset = try #require(log.firstIndex { $0.contains("dropped every connection") })
        let afterRetire = log[reset...]
        #expect(afterRetire.contains { $0.contains("refused a connection") && $0.contains(old) }, "the old key was not refused")
        #expect(!afterRetire.contains { $0.contains("admitted a connection") && $0.contains(old) }, "the old key got in again")
        #expect(afterRetire.contains { $0.contains("admitted a connection") && $0.contains(new) }, "data-1 did not come back")
    }

    /// Polls `probe` every 50 ms for at most 120 s; throws naming `what` if it never gives a value.
    static func waitFor<T>(_ what: String, _ probe: () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let value = probe() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Timeout(description: "timed out waiting for \(what)")
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// The latest coordinator's pid and bound endpoint, from the physical journal.
    static func coordinator(in run: String) -> (pid: Int32, endpoint: String)? {
        guard FileManager.default.fileExists(atPath: run + "/mesh.sqlite"), let store = try? RunStore.openReadOnly(at: run) else {
            return nil
        }
        defer { try? store.close() }
        guard let event = (try? store.physicalEvents(kind: "coordinator-started"))?.last,
            let pid = Self.field("pid", in: event.detail).flatMap({ Int32($0) }),
            let endpoint = Self.field("endpoint", in: event.detail)
        else { return nil }
        return (pid, endpoint)
    }

    /// The pid of the latest process that joined as `id`.
    static func pid(of id: String, in run: String) -> Int32? {
        guard FileManager.default.fileExists(atPath: run + "/mesh.sqlite"), let store = try? RunStore.openReadOnly(at: run) else {
            return nil
        }
        defer { try? store.close() }
        let joined = ((try? store.physicalEvents(kind: "joined")) ?? []).filter { $0.agent.hasPrefix(id + "#") }
        return joined.last.flatMap { Self.field("pid", in: $0.detail) }.flatMap { Int32($0) }
    }

    /// `NAME=VALUE` in a physical event's detail.
    static func field(_ name: String, in detail: String) -> String? {
        guard let range = detail.range(of: name + "=") else { return nil }
        return String(detail[range.upperBound...].prefix { !$0.isWhitespace })
    }

    /// A process's log in the run directory ("" before it exists).
    static func log(_ name: String, of run: String) -> String {
        (try? String(contentsOfFile: run + "/logs/\(name).log", encoding: .utf8)) ?? ""
    }
}
