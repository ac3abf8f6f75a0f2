import Foundation

/// Memory figures of a running process, read from `/proc/<pid>/status` (Linux).
public enum ProcessMemory {
    /// The process's peak resident set size (`VmHWM`) in kB, or nil when it cannot be read (the
    /// process has exited, or this is not Linux).
    public static func peakResidentKilobytes(pid: Int32) -> Int? {
        self.field("VmHWM", pid: pid)
    }

    /// The process's current resident set size (`VmRSS`) in kB, or nil when it cannot be read.
    public static func residentKilobytes(pid: Int32) -> Int? {
        self.field("VmRSS", pid: pid)
    }

    /// The process's current anonymous resident memory (`RssAnon`: its heap and stacks, without
    /// the binary's and shared libraries' file pages, which every process of the mesh shares) in
    /// kB, or nil when it cannot be read.
    public static func privateResidentKilobytes(pid: Int32) -> Int? {
        self.field("RssAnon", pid: pid)
    }

    /// The peak (`VmHWM`) and the current anonymous (`RssAnon`) resident memory in kB, from one read.
    public static func peakAndPrivateKilobytes(pid: Int32) -> (peak: Int, private: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let peak = self.field("VmHWM", in: status), let anonymous = self.field("RssAnon", in: status)
        else { return nil }
        return (peak, anonymous)
    }

    /// Parses `name:   1234 kB` out of a `/proc/<pid>/status` text.
    static func field(_ name: String, in status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.dropFirst(name.count + 1).filter(\.isNumber)
            return Int(digits)
        }
        return nil
    }

    private static func field(_ name: String, pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return self.field(name, in: status)
    }
}
