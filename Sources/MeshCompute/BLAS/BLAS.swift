internal import COpenBLAS
import Foundation

/// The one door to OpenBLAS: every call into the C library in MeshCompute goes through here.
///
/// OpenBLAS chooses its kernel (``coreName``) once, when the library loads, from the CPU or from
/// `OPENBLAS_CORETYPE`; nothing in-process can change it afterwards (see ``BLASKernel``). The
/// thread count is process-wide; ``ComputeExecutor`` sets it when it starts.
public enum BLAS {
    /// The name of the kernel family OpenBLAS uses in this process ("SkylakeX", "Haswell",
    /// "Prescott", …), as `openblas_get_corename()` reports it.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// How many threads OpenBLAS splits one call across.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The number of cores OpenBLAS detected.
    public static var processorCount: Int { Int(openblas_get_num_procs()) }

    /// Sets how many threads OpenBLAS splits one call across, process-wide.
    ///
    /// The compute node uses 1 (see docs/COMPUTE.md): its matrices are small, where waking a
    /// second thread costs more than it saves, and the machine's other core belongs to the mesh's
    /// other processes. With 1, OpenBLAS runs each call on the calling thread.
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "OpenBLAS needs at least one thread")
        openblas_set_num_threads(Int32(count))
    }

    /// `C = alpha * op(A) * op(B) + beta * C`, all row-major; `op(A)` is m x k, `op(B)` k x n.
    @inline(__always)
    static func gemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float,
        a: UnsafePointer<Float>,
        lda: Int,
        b: UnsafePointer<Float>,
        ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m),
            blasint(n),
            blasint(k),
            alpha,
            a,
            blasint(lda),
            b,
            blasint(ldb),
            beta,
            c,
            blasint(ldc)
        )
    }

    /// Runs `iterations` rounds of 8 independent FMA chains with the widest FMA the CPU has and
    /// returns how many floating-point operations that was and which instruction set did them,
    /// or nil when the CPU has no FMA.
    static func fmaChains(iterations: Int, features: CPUFeatures) -> (flops: Double, isa: String, sink: Float)? {
        #if arch(x86_64)
        if features.contains("avx512f") {
            let sink = meshwork_fma_chains_avx512(iterations, 1)
            return (Double(iterations) * 8 * 16 * 2, "avx512f", sink)
        }
        if features.contains("avx2"), features.contains("fma") {
            let sink = meshwork_fma_chains_avx2(iterations, 1)
            return (Double(iterations) * 8 * 8 * 2, "avx2+fma", sink)
        }
        #endif
        return nil
    }
}
