import Foundation
import MeshStore
import Synchronization
import Testing

/// Runs the built `meshwork` binary as a user would, with a hard timeout and every child killed
/// by pid when it ends (STYLE.md §8, layer 4).
struct MeshworkBinary {
    /// The result of one invocation.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The last line of stdout, parsed as a JSON object.
        var json: [String: Any]? {
            guard let line = self.stdout.split(separator: "\n").last,
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return nil }
            return object
        }
    }

    /// The binary next to the test bundle (SwiftPM builds executables before tests).
    static var path: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("meshwork").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/meshwork"
    }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "meshwork-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `meshwork arguments…` in `directory`; kills it by pid if it outlives `timeout`.
    /// `whileRunning` gets the pid once started (to signal it, say).
    static func run(
        _ arguments: [String],
        in directory: String,
        timeout: Duration = .seconds(180),
        whileRunning: (@Sendable (Int32) async -> Void)? = nil
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.path)
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
            Issue.record("meshwork \(arguments.joined(separator: " ")) timed out after \(timeout)")
        }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Writes a scenario file into `directory` and returns its path.
    static func writeScenario(_ text: String, named name: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The pids of the processes a run's physical journal says joined (empty before the database exists).
    static func joinedPIDs(runDirectory: String) -> [Int32] {
        self.pids(runDirectory: runDirectory, kinds: ["joined"])
    }

    /// Every pid the physical journal names: agents that joined and coordinators that started.
    static func startedPIDs(runDirectory: String) -> [Int32] {
        self.pids(runDirectory: runDirectory, kinds: ["joined", "coordinator-started"])
    }

    static func pids(runDirectory: String, kinds: [String]) -> [Int32] {
        guard FileManager.default.fileExists(atPath: runDirectory + "/mesh.sqlite"),
            let store = try? RunStore.openReadOnly(at: runDirectory)
        else { return [] }
        defer { try? store.close() }
        return kinds.flatMap { kind in
            ((try? store.physicalEvents(kind: kind)) ?? []).compactMap { event -> Int32? in
                guard let range = event.detail.range(of: "pid=") else { return nil }
                return Int32(event.detail[range.upperBound...].prefix { $0.isNumber })
            }
        }
    }

    /// How many logical records the run has journaled so far (0 before the database exists).
    static func journaledRecords(runDirectory: String) -> UInt64 {
        guard FileManager.default.fileExists(atPath: runDirectory + "/mesh.sqlite"),
            let store = try? RunStore.openReadOnly(at: runDirectory)
        else { return 0 }
        defer { try? store.close() }
        return (try? store.journalHead().count) ?? 0
    }

    /// Whether `pid` is a live process (not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        let state = status.split(separator: ")").last?.split(separator: " ").first
        return state != "Z" && state != "X"
    }
}

/// Reads a pipe to its end on a thread of its own.
final class PipeReader: @unchecked Sendable {
    // Written once by the reading thread before `done` is signalled, read after.
    private var result = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            self.result = handle.readDataToEndOfFile()
            self.done.signal()
        }
        thread.start()
    }

    /// The pipe's whole content, once the writer closed it.
    func data() async -> Data {
        await withCheckedContinuation { continuation in
            Thread {
                self.done.wait()
                continuation.resume(returning: self.result)
            }.start()
        }
    }
}

/// Kills a process by pid if it outlives its timeout; runs on a thread of its own.
final class Watchdog: Sendable {
    private let state = Mutex((cancelled: false, fired: false))

    init(pid: Int32, timeout: Duration) {
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
    var fired: Bool { self.state.withLock { $0.fired } }

    /// Stops watching.
    func cancel() { self.state.withLock { $0.cancelled = true } }
}
