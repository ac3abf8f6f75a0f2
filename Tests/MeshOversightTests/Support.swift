import Foundation
import MeshProcessTesting
import Synchronization
import Testing

/// Processes for the oversight tests: the built `meshwork` binary and the Python client, each
/// killed by pid when a test ends; blocking waits run on threads of their own (never the pool).
enum Support {
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var client: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts/oversight_client.py").path
    }

    /// The `meshwork` binary beside the test bundle.
    static var meshwork: String { MeshworkBinary.path }

    static func temporaryDirectory() throws -> String {
        try MeshworkBinary.temporaryDirectory(prefix: "meshwork-oversight-")
    }

    /// Whether a command is on the PATH.
    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// A long-lived child whose stdout and stderr go to files; `stop()` kills it by pid.
    final class Child {
        let process: Process
        let stdoutPath: String
        let stderrPath: String

        init(_ executable: String, _ arguments: [String], in directory: String, logs: String) throws {
            self.stdoutPath = logs + ".stdout"
            self.stderrPath = logs + ".stderr"
            _ = FileManager.default.createFile(atPath: self.stdoutPath, contents: nil)
            _ = FileManager.default.createFile(atPath: self.stderrPath, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: self.stdoutPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: self.stderrPath))
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
        }

        var pid: Int32 { self.process.processIdentifier }
        var stdout: String { (try? String(contentsOfFile: self.stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: self.stderrPath, encoding: .utf8)) ?? "" }
        var isRunning: Bool { self.process.isRunning }

        /// Waits (polling, off the pool's threads' time) until it exits or `timeout` passes; then kills it.
        func waitForExit(timeout: Duration) async -> Int32? {
            let deadline = ContinuousClock.now + timeout
            while self.process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if self.process.isRunning {
                self.stop()
                return nil
            }
            return self.process.terminationStatus
        }

        /// SIGTERM, then SIGKILL after 10 s; by pid.
        func stop() {
            guard self.process.isRunning else { return }
            kill(self.pid, SIGTERM)
            for _ in 0..<100 where self.process.isRunning { usleep(100_000) }
            if self.process.isRunning { kill(self.pid, SIGKILL) }
        }
    }

    /// Runs a short command to its end; killed by pid after `timeout`.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(120)) async throws -> MeshworkBinary.Result {
        try await MeshworkBinary.run(executable: executable, arguments, in: self.repositoryRoot, timeout: timeout)
    }

    /// `oversight_client.py post …`: the status code and the body.
    static func post(_ url: String, gate: String, _ options: [String]) async throws -> (status: Int, body: String) {
        let result = try await self.run("/usr/bin/env", ["python3", self.client, "post", url, gate] + options)
        let lines = result.stdout.split(separator: "\n", maxSplits: 1)
        guard let first = lines.first, first.hasPrefix("STATUS ") else {
            throw MeshProcessTesting.TimedOut(what: "a status from the client (stderr: \(result.stderr))")
        }
        return (Int(first.dropFirst(7)) ?? 0, lines.count > 1 ? String(lines[1]) : "")
    }

    /// A GET of `url`, through Python (status, body).
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=30); print(r.status); print(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); print(e.read().decode())
            """
        let result = try await self.run("/usr/bin/env", ["python3", "-c", script, url])
        let lines = result.stdout.split(separator: "\n", maxSplits: 1)
        return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? String(lines[1]) : "")
    }
}
