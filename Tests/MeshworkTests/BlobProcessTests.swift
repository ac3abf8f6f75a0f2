import Foundation
import MeshProcessTesting
import MeshCore
import MeshRuntime
import Synchronization
import Testing

/// Layer 4: a blob moves from a coordinator's run directory to another process's cache over
/// the mesh, the two sharing no directory (M2: "Blob transfer is tested between two processes
/// that share no directory").
@Suite("meshwork blob between processes", .serialized)
struct BlobProcessTests {
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed, key: "blob")
        var bytes = [UInt8](repeating: 0, count: count)
        for index in stride(from: 0, to: count, by: 8) {
            let word = rng.next()
            for byte in 0..<min(8, count - index) { bytes[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
        }
        return bytes
    }

    /// A run directory (with a relay scenario whose agents never come, so the coordinator just
    /// waits) in its own temporary directory, the coordinator running on it at a unique ipc
    /// path, and `body` given the endpoint; SIGTERM to the coordinator at the end, reaped by pid.
    ///
    /// With `tcpKeys`, the coordinator binds tcp://127.0.0.1:0 with CURVE: its key, `fetch-1`'s
    /// (role compute) and a roster of `fetch-1` go into that directory, and `body` gets the
    /// endpoint it bound.
    static func withCoordinator(
        serving blobs: [[UInt8]],
        tcpKeys: String? = nil,
        _ body: @escaping @Sendable (_ endpoint: String, _ hashes: [String]) async -> Void
    ) async throws -> (coordinator: MeshworkBinary.Result, runDirectory: String, home: String) {
        let home = try MeshworkBinary.temporaryDirectory()
        let run = home + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        _ = try MeshworkBinary.writeScenario(
            ProcessMeshTests.relayScenario(name: "blobs", tokens: 100_000), named: "scenario.yaml", in: run)
        var hashes: [String] = []
        for (index, blob) in blobs.enumerated() {
            let file = home + "/blob-\(index).bin"
            try Data(blob).write(to: URL(fileURLWithPath: file))
            let put = try await MeshworkBinary.run(["blob", "put", file, "--run-dir", run], in: home, timeout: .seconds(60))
            #expect(put.status == 0, "stderr: \(put.stderr)")
            hashes.append(put.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let ipcEndpoint = "ipc://\(home)/mesh"
        var arguments = ["--bind", ipcEndpoint]
        if let keys = tcpKeys {
            try MeshKeys.generate(id: .coordinator, role: .coordinator, directory: keys)
            try MeshKeys.generate(id: AgentID("fetch-1")!, role: .compute, directory: keys)
            try FileManager.default.copyItem(atPath: keys + "/fetch-1.pub", toPath: keys + "/roster.yaml")
            arguments = [
                "--bind", "tcp://127.0.0.1:0", "--secret-key", keys + "/coordinator.key", "--roster", keys + "/roster.yaml",
            ]
        }
        let known = hashes
        let coordinator = try await MeshworkBinary.run(
            ["coordinator", "--scenario", run + "/scenario.yaml", "--run-dir", run, "--log-level", tcpKeys == nil ? "warning" : "info"]
                + arguments,
            in: home, timeout: .seconds(180)
        ) { pid in
            if tcpKeys != nil {
                if let bound = try? await KeyRotationTests.waitFor("the coordinator's endpoint", { KeyRotationTests.coordinator(in: run) }) {
                    await body(bound.endpoint, known)
                } else {
                    Issue.record("the coordinator did not start")
                }
            } else {
                await body(ipcEndpoint, known)
            }
            kill(pid, SIGTERM)
        }
        return (coordinator, run, home)
    }

    @Test func aMultiChunkBlobMovesBetweenTwoProcessesThatShareNoDirectory() async throws {
        let blob = Self.bytes((1 << 20) * 7 / 2, seed: 35)
        let cacheHome = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cacheHome) }
        let cache = cacheHome + "/cache"
        let results = Mutex<[MeshworkBinary.Result]>([])
        let missingHash = "sha256:" + String(repeating: "0", count: 64)
        let (coordinator, run, home) = try await Self.withCoordinator(serving: [blob]) { endpoint, hashes in
            for hash in [hashes[0], missingHash] {
                let fetch = try? await MeshworkBinary.run(
                    ["blob", "fetch", hash, "--connect", endpoint, "--cache", cache, "--id", "fetch-test", "--timeout", "60"],
                    in: cacheHome, timeout: .seconds(90))
                if let fetch { results.withLock { $0.append(fetch) } }
            }
        }
        defer { try? FileManager.default.removeItem(atPath: home) }
        let runs = results.withLock { $0 }
        try #require(runs.count == 2, "coordinator stderr: \(coordinator.stderr)")
        let hash = BlobHash(of: blob)
        // The blob: fetched into the other directory, whole and under its hash.
        let fetched = runs[0]
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)\ncoordinator: \(coordinator.stderr)")
        let path = fetched.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasPrefix(cache + "/sha256/"), "\(path)")
        #expect(!path.hasPrefix(home))
        let bytes = try #require(FileManager.default.contents(atPath: path), "no file at \(path)")
        #expect(Array(bytes) == blob)
        #expect(BlobHash(of: Array(bytes)) == hash)
        #expect(path.hasSuffix(String(hash.description.dropFirst(7))))
        // A hash the coordinator does not have: one line naming it, exit code 1, nothing cached.
        let missing = runs[1]
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("error: \(missingHash): the coordinator at"), "\(missing.stderr)")
        #expect(missing.stderr.contains("does not have it (no such blob)"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cache + "/sha256/00"))
        // Every process is gone: the coordinator and the fetchers (which joined).
        let pids = MeshworkBinary.startedPIDs(runDirectory: run)
        #expect(pids.count >= 3, "\(pids)")
        for pid in pids { #expect(!MeshworkBinary.isAlive(pid), "process \(pid) outlived the test") }
    }

    @Test func aTwentyMegabyteBlobFetchReportsItsThroughput() async throws {
        let blob = Self.bytes(20_000_000, seed: 20)
        let cacheHome = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cacheHome) }
        let result = Mutex<MeshworkBinary.Result?>(nil)
        let (coordinator, _, home) = try await Self.withCoordinator(serving: [blob]) { endpoint, hashes in
            let fetch = try? await MeshworkBinary.run(
                ["blob", "fetch", hashes[0], "--connect", endpoint, "--cache", cacheHome + "/cache", "--timeout", "120"],
                in: cacheHome, timeout: .seconds(150))
            result.withLock { $0 = fetch }
        }
        defer { try? FileManager.default.removeItem(atPath: home) }
        let fetch = try #require(result.withLock { $0 }, "coordinator stderr: \(coordinator.stderr)")
        #expect(fetch.status == 0, "stderr: \(fetch.stderr)")
        let path = fetch.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == blob)
        let rate = fetch.stderr.split(separator: "\n").first { $0.hasPrefix("fetched ") }
        #expect(rate != nil, "\(fetch.stderr)")
        print("blob fetch over ipc: \(rate ?? "no figure")")
    }

    /// `blob fetch` over tcp with CURVE: with a roster key it fetches the blob; with a key outside
    /// the roster it gets no answer (exit 1 after its timeout, the coordinator logs the refusal);
    /// without keys it refuses to connect (fail closed); half the key options are a usage error.
    @Test func aBlobFetchOverTcpAuthenticatesWithTheAgentsKeyOptions() async throws {
        let blob = Self.bytes((1 << 20) + 12_345, seed: 77)
        let cacheHome = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cacheHome) }
        let keys = cacheHome + "/keys"
        try MeshKeys.generate(id: AgentID("stranger-1")!, role: .compute, directory: keys)
        let cache = cacheHome + "/cache"
        let results = Mutex<[MeshworkBinary.Result]>([])
        let (coordinator, _, home) = try await Self.withCoordinator(serving: [blob], tcpKeys: keys) { endpoint, hashes in
            let server = ["--server-key", keys + "/coordinator.pub"]
            for (index, options) in [
                ["--secret-key", keys + "/fetch-1.key"] + server + ["--timeout", "60"],
                ["--secret-key", keys + "/stranger-1.key"] + server + ["--timeout", "3"],
                ["--timeout", "3"],
                ["--secret-key", keys + "/fetch-1.key"],
            ].enumerated() {
                let fetch = try? await MeshworkBinary.run(
                    ["blob", "fetch", hashes[0], "--connect", endpoint, "--cache", cache + "/\(index)"] + options, in: cacheHome,
                    timeout: .seconds(90))
                if let fetch { results.withLock { $0.append(fetch) } }
            }
        }
        defer { try? FileManager.default.removeItem(atPath: home) }
        let runs = results.withLock { $0 }
        try #require(runs.count == 4, "coordinator stderr: \(coordinator.stderr)")
        let fetched = runs[0]
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)\ncoordinator: \(coordinator.stderr)")
        let path = fetched.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == blob)
        #expect(coordinator.stderr.contains("admitted a connection") && coordinator.stderr.contains("fetch-1"))
        // A key outside the roster: nothing answers, and the coordinator names the key it refused.
        let stranger = runs[1]
        let strangerKey = try MeshKeys.readSecret(path: keys + "/stranger-1.key").publicKey
        #expect(stranger.status == 1 && stranger.stderr.contains("no answer"), "stderr: \(stranger.stderr)")
        #expect(
            coordinator.stderr.split(separator: "\n").contains { $0.contains("refused a connection") && $0.contains(strangerKey) },
            "coordinator: \(coordinator.stderr)")
        let plaintext = runs[2]
        #expect(plaintext.status == 1 && plaintext.stderr.contains("fail closed"), "stderr: \(plaintext.stderr)")
        let half = runs[3]
        #expect(half.status == 2 && half.stderr.contains("go together"), "stderr: \(half.stderr)")
    }
}
