import Foundation
import MeshCore
import MeshProcessTesting
import MeshStore
import Synchronization
import Testing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A fresh directory per test, removed by the caller's `defer`.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "meshstore-test-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A run directory under a fresh temporary directory, and a store created in it.
func makeRun(in parent: String, id: String = "relay-test-0001", seed: UInt64 = 7) throws -> (path: String, store: RunStore) {
    let path = parent + "/" + id
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let store = try RunStore.create(at: path, run: RunInfo(id: id, scenario: "relay", seed: seed))
    return (path, store)
}

/// Appends `batches` batches of `size` synthetic records; returns the digest state after them.
@discardableResult
func appendSynthetic(_ journal: SQLiteJournal, batches: Int, size: Int, digest: JournalDigest = JournalDigest()) throws -> JournalDigest {
    var digest = digest
    for _ in 0..<batches {
        try journal.appendLogical(JournalWorkload.entries(count: size, continuing: &digest))
    }
    return digest
}

/// Runs blocking work on a thread of its own, off Swift's cooperative pool (2 threads here).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 4 << 20
        thread.start()
    }
}

/// The built `meshwork` binary next to the test bundle (SwiftPM builds executables before tests).
var meshworkBinary: String { MeshworkBinary.path }

/// Runs a command to its end and returns (status, stdout + stderr).
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A child process whose stdout is read line by line with a deadline; killed by pid on `stop`.
final class Child: @unchecked Sendable {
    // Touched by the one thread that drives the test body only.
    let process = Process()
    private let output: FileHandle
    private var buffer: [UInt8] = []

    init(_ executable: String, _ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        let pipe = Pipe()
            self.process.standardOutput = pipe
        self.process.standardError = FileHandle.nullDevice
        self.output = pipe.fileHandleForReading
        try self.process.run()
    }

    var pid: Int32 { self.process.processIdentifier }

    /// The next line of stdout, or nil at its end or after `timeout` seconds.
    func readLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = self.buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: self.buffer[..<newline], as: UTF8.self)
                self.buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var descriptor = pollfd(fd: self.output.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = read(self.output.fileDescriptor, &chunk, chunk.count)
            if got <= 0 { return nil }
            self.buffer.append(contentsOf: chunk[..<got])
        }
    }

    /// SIGKILLs the child (if still running) and reaps it.
    func kill() {
        if self.process.isRunning { Glibc.kill(self.pid, SIGKILL) }
        self.process.waitUntilExit()
    }
}

/// A small tmpfs mounted in a temporary directory, for full-disk and read-only tests (needs root).
struct Tmpfs {
    let path: String

    /// Whether this machine lets the tests mount one (root, mount(8) present).
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        guard let probe = try? Tmpfs(kilobytes: 256) else { return false }
        probe.unmount()
        return true
    }()

    init(kilobytes: Int) throws {
        self.path = try temporaryDirectory()
        let result = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0755", "tmpfs", self.path])
        if result.status != 0 {
            try? FileManager.default.removeItem(atPath: self.path)
            throw StoreError(.io, path: self.path, "mount failed: \(result.output)")
        }
    }

    /// Makes the mount read-only.
    func remountReadOnly() throws {
        let result = try run("/bin/mount", ["-o", "remount,ro", self.path])
        #expect(result.status == 0, "remount ro: \(result.output)")
    }

    func unmount() {
        _ = try? run("/bin/umount", [self.path])
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// Runs `body` and returns the StoreError it threw, recording an issue when it threw none.
func storeError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StoreError? {
    do {
        try body()
        Issue.record("expected a StoreError", sourceLocation: sourceLocation)
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
