/// Which OpenBLAS kernel a compute process should use, decided before it starts.
///
/// Debian 12's OpenBLAS 0.3.21 does not know newer CPUs (family 6, model 207 here) and falls back
/// to its SSE3 "Prescott" kernels, five times slower than the AVX-512 "SkylakeX" ones on the same
/// core. The choice is made when the library loads, from `OPENBLAS_CORETYPE`, so it must be put in
/// the environment of the process before it starts: a launcher does it for its children, and
/// `meshwork train`/`doctor` re-execute themselves with it.
///
/// ```swift
/// var environment = ProcessInfo.processInfo.environment
/// if let core = BLASKernel.recommendedCoreType(
///     environment: environment, features: .current(), currentCore: BLAS.coreName) {
///     environment[BLASKernel.environmentKey] = core   // then start the child with it
/// }
/// ```
public enum BLASKernel {
    /// The environment variable OpenBLAS reads at load time.
    public static let environmentKey = "OPENBLAS_CORETYPE"

    /// The kernel for CPUs with AVX-512 F/BW/DQ/VL.
    public static let skylakeX = "SkylakeX"
    /// The kernel for CPUs with AVX2 and FMA.
    public static let haswell = "Haswell"

    /// Kernels that already use AVX-512 (Cooperlake and SapphireRapids are SkylakeX's kernels
    /// plus bf16 work), so they are as good as SkylakeX for sgemm.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// Kernels that already use AVX2 and FMA, or better.
    static let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen", "skylake"])

    /// The `OPENBLAS_CORETYPE` value a launcher should set for a compute process, or nil to leave
    /// the environment alone.
    ///
    /// Pure: the caller gives the environment, the CPU's features and the kernel OpenBLAS picked
    /// in the launcher's own process (the same library and CPU pick the same kernel in a child).
    /// - Returns: nil when the variable is already set (whatever its value: the user's choice is
    ///   always respected), when `currentCore` already uses the best vector unit the CPU has, or
    ///   when the CPU has neither AVX-512 F/BW/DQ/VL nor AVX2+FMA; otherwise ``skylakeX`` or
    ///   ``haswell``.
    public static func recommendedCoreType(
        environment: [String: String],
        features: CPUFeatures,
        currentCore: String
    ) -> String? {
        if environment[environmentKey] != nil { return nil }
        let current = currentCore.lowercased()
        if features.hasAVX512SkylakeSet {
            return avx512Cores.contains(current) ? nil : skylakeX
        }
        if features.hasAVX2FMA {
            return avx2Cores.contains(current) ? nil : haswell
        }
        return nil
    }
}
