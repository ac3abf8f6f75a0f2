public import Foundation
import Synchronization
import Testing

/// Runs the built `meshwork` binary as a user would, with a hard timeout and every child killed
/// by pid when it ends (STYLE.md §8, layer 4). Shared by every test target that runs processes.
public enum MeshworkBinary {
    /// The result of one invocation.
    public struct Result: Sendable {
        /// The exit status (a signal's number for a killed process).
        public var status: Int32
        /// Everything written to stdout.
        public var stdout: String
        /// Everything written to stderr.
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }

        /// The last line of stdout, parsed as a JSON object.
        public var json: [String: Any]? {
            guard let line = self.stdout.split(separator: "\n").last,
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return nil }
            return object
        }
    }

    /// The binary next to the test bundle (SwiftPM builds executables before tests).
    public static var path: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("meshwork").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/meshwork"
    }

    /// A fresh temporary directory for one test; the caller removes it.
    public static func temporaryDirectory(prefix: String = "meshwork-test-") throws -> String {
        let path = NSTemporaryDirectory() + prefix + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `meshwork arguments…` in `directory`; kills it by pid if it outlives `timeout`
    /// (and records a test issue). `whileRunning` gets the pid once started (to signal it, say).
    public static func run(
        _ arguments: [String],
        in directory: String,
        timeout: Duration = .seconds(180),
        whileRunning: (@Sendable (Int32) async -> Void)? = nil
    ) async throws -> Result {
        try await self.run(executable: self.path, arguments, in: directory, timeout: timeout, whileRunning: whileRunning)
    }

    /// Runs any executable as ``run(_:in:timeout:whileRunning:)`` runs `meshwork`.
    public static func run(
        executable: String,
        _ arguments: [String],
        in directory: String,
        timeout: Duration = .seconds(180),
        whileRunning: (@Sendable (Int32) async -> Void)? = nil
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        // Blocking reads and the watchdog run on threads of their own: on a 2-core machine the
        // cooperative pool has two threads, and two blocking reads on it would stall every task.
        let stdout = PipeReader(out.fileHandleForReading)
        let stderr = PipeReader(err.fileHandleForReading)
        let watchdog = Watchdog(pid: pid, timeout: timeout)
        defer { watchdog.cancel() }
        if let whileRunning { await whileRunning(pid) }
        let stdoutData = await stdout.data()
        let stderrData = await stderr.data()
        process.waitUntilExit()
        if watchdog.fired {
            Issue.record("\(executable) \(arguments.joined(separator: " ")) timed out after \(timeout)")
        }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Writes a scenario file into `directory` and returns its path.
    public static func writeScenario(_ text: String, named name: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Whether `pid` is a live process (not a zombie).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        let state = status.split(separator: ")").last?.split(separator: " ").first
        return state != "Z" && state != "X"
    }
}

/// Reads a pipe to its end on a thread of its own.
public final class PipeReader: @unchecked Sendable {
    // Written once by the reading thread before `done` is signalled, read after.
    private var result = Data()
    private let done = DispatchSemaphore(value: 0)

    public init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            self.result = handle.readDataToEndOfFile()
            self.done.signal()
        }
        thread.start()
    }

    /// The pipe's whole content, once the writer closed it.
    public func data() async -> Data {
        await withCheckedContinuation { continuation in
            Thread {
                self.done.wait()
                continuation.resume(returning: self.result)
            }.start()
        }
    }
}

/// Kills a process by pid if it outlives its timeout; runs on a thread of its own.
public final class Watchdog: Sendable {
    private let state = Mutex((cancelled: false, fired: false))

    public init(pid: Int32, timeout: Duration) {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        Thread { [self] in
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if self.state.withLock({ $0.cancelled }) { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            // Only a process still running at the deadline timed out: one that ended (a zombie not
            // yet reaped) while the test's task waited for a thread of the pool did not.
            let running = MeshworkBinary.isAlive(pid)
            self.state.withLock { $0.fired = !$0.cancelled && running }
            if self.fired { kill(pid, SIGKILL) }
        }.start()
    }

    /// Whether the timeout passed and the process was killed.
    public var fired: Bool { self.state.withLock { $0.fired } }

    /// Stops watching.
    public func cancel() { self.state.withLock { $0.cancelled = true } }
}

/// Polls `body` until it returns a value or `timeout` passes (then throws ``TimedOut``).
public func eventually<T>(_ what: String, timeout: Duration = .seconds(400), _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try? await body() { return value }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw TimedOut(what: what)
}

/// What ``eventually(_:timeout:_:)`` throws when its condition never held.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was waited for.
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(self.what)" }
}
