import Foundation
@preconcurrency import Glibc

/// Facts about, and one-time set-up of, the current OS process.
public enum ProcessEnvironment {
    /// This process's id.
    public static var pid: UInt32 { UInt32(getpid()) }

    /// The host's name.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The path of the running executable (`/proc/self/exe`), so children are started from the
    /// same binary wherever it was built.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// A fresh incarnation number: microseconds of wall time, so a restarted process always has a
    /// larger one than the process it replaces.
    public static func newIncarnation() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000)
    }

    /// Set-up for a process of the mesh: a closed pipe must not kill it (SIGPIPE ignored).
    public static func prepareChildProcess() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes one line to stdout at once (one write(2), unbuffered), so a supervisor reading the
    /// pipe sees each line as it is written.
    public static func emitLine(_ line: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Writes text to stderr at once, without a newline (progress that redraws itself).
    public static func emitErrorFragment(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }

    /// Writes one line to stderr at once.
    public static func emitError(_ line: String) {
        try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Sends `signal` to the process `pid` (a child this process started); false if it is gone.
    @discardableResult
    public static func send(_ signal: Int32, to pid: Int32) -> Bool {
        kill(pid, signal) == 0
    }
}
