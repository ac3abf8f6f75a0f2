import Foundation

/// The instruction-set flags of the CPU, as Linux lists them in `/proc/cpuinfo`.
///
/// Parsing is separate from reading so the kernel choice can be tested with any CPU's text.
public struct CPUFeatures: Sendable, Hashable {
    /// The lower-case flags ("avx2", "fma", "avx512f", …).
    public var flags: Set<String>
    /// The CPU's model name, when the text has one.
    public var modelName: String?

    /// Features from a known set of flags.
    public init(flags: Set<String>, modelName: String? = nil) {
        var normalized = Set(flags.map { $0.lowercased() })
        // Linux calls SSE3 "pni" (Prescott New Instructions).
        if normalized.contains("pni") { normalized.insert("sse3") }
        self.flags = normalized
        self.modelName = modelName
    }

    /// Parses the text of `/proc/cpuinfo`: the first `flags` line (every core lists the same) and
    /// the first `model name` line. Text without them gives no flags.
    public init(cpuinfo text: String) {
        var flags: Set<String> = []
        var model: String?
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "flags", flags.isEmpty {
                flags = Set(value.split(separator: " ").map { $0.lowercased() })
            } else if key == "model name", model == nil {
                model = value
            }
            if !flags.isEmpty, model != nil { break }
        }
        self.init(flags: flags, modelName: model)
    }

    /// The running machine's features, read from `/proc/cpuinfo`; empty where that file is
    /// missing (not Linux), which makes ``BLASKernel`` recommend nothing.
    public static func current() -> CPUFeatures {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return CPUFeatures(flags: [])
        }
        return CPUFeatures(cpuinfo: text)
    }

    /// True when the CPU has `flag`.
    public func contains(_ flag: String) -> Bool { self.flags.contains(flag) }

    /// AVX-512 Foundation, Byte/Word, Doubleword/Quadword and Vector Length: what OpenBLAS's
    /// SkylakeX kernels need.
    public var hasAVX512SkylakeSet: Bool {
        ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(self.flags.contains)
    }

    /// AVX2 and FMA3: what OpenBLAS's Haswell kernels need.
    public var hasAVX2FMA: Bool { self.flags.contains("avx2") && self.flags.contains("fma") }

    /// The flags that matter to the BLAS kernel choice, in a fixed order, for reports.
    public var relevantFlags: [String] {
        [
            "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
            "avx512_vnni", "avx512_bf16", "amx_tile",
        ].filter(self.flags.contains)
    }
}
