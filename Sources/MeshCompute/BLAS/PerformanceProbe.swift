import Foundation

/// Measurements of this machine's floating-point speed, for `meshwork doctor` and the benchmarks.
///
/// Each measurement blocks the calling thread for up to a few seconds: run it on a
/// ``ComputeExecutor`` (or a command-line tool's main thread), never on the cooperative pool.
public enum PerformanceProbe {
    /// One measured rate.
    public struct Rate: Sendable, Hashable, Codable {
        /// Billions of floating-point operations per second, the best of the repeats.
        public var gflops: Double
        /// What ran ("sgemm 2048", "avx512f").
        public var detail: String

        /// A rate.
        public init(gflops: Double, detail: String) {
            self.gflops = gflops
            self.detail = detail
        }
    }

    /// Times `C = A·B` for `size x size` matrices through `cblas_sgemm` with OpenBLAS's current
    /// thread count and returns the best of `repeats` runs (after one warm-up), counting
    /// `2 · size³` operations.
    public static func sgemm(size: Int = 2048, repeats: Int = 3) -> Rate {
        precondition(size > 0 && repeats > 0, "size and repeats must be positive")
        let count = size * size
        var a = [Float](repeating: 0, count: count)
        var b = [Float](repeating: 0, count: count)
        // Values in [-1, 1) so nothing overflows or goes subnormal and slows the kernel down.
        for index in 0..<count {
            a[index] = Float((index &* 7919) % 2001) / 1000.5 - 1
            b[index] = Float((index &* 104_729) % 2003) / 1001.5 - 1
        }
        var c = [Float](repeating: 0, count: count)
        let clock = ContinuousClock()
        var best = Double.infinity
        for round in 0...repeats {
            let elapsed = clock.measure {
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            BLAS.gemm(
                                transposeA: false,
                                transposeB: false,
                                m: size,
                                n: size,
                                k: size,
                                alpha: 1,
                                a: a.baseAddress!,
                                lda: size,
                                b: b.baseAddress!,
                                ldb: size,
                                beta: 0,
                                c: c.baseAddress!,
                                ldc: size
                            )
                        }
                    }
                }
            }
            if round > 0 { best = min(best, Self.seconds(elapsed)) }
        }
        precondition(c[0].isFinite, "sgemm produced a non-finite value")
        return Rate(gflops: 2 * Double(size) * Double(size) * Double(size) / best / 1e9, detail: "sgemm \(size)")
    }

    /// The single-core peak of fused multiply-add: 8 independent vector FMA chains with the
    /// widest FMA the CPU has (AVX-512 or AVX2), best of `repeats` runs of `iterations` rounds.
    ///
    /// The kernel is C compiled for that ISA (see COpenBLAS/shim.h for why it is not Swift);
    /// without FMA it falls back to a Swift SIMD multiply-then-add loop at the default target,
    /// reported with detail "swift-simd mul+add".
    public static func fmaCeiling(
        features: CPUFeatures = .current(),
        iterations: Int = 20_000_000,
        repeats: Int = 3
    ) -> Rate {
        let clock = ContinuousClock()
        var best = Double.infinity
        var flops: Double = 0
        var detail = "swift-simd mul+add"
        for _ in 0..<repeats {
            var ran: (flops: Double, isa: String, sink: Float)?
            let elapsed = clock.measure { ran = BLAS.fmaChains(iterations: iterations, features: features) }
            guard let ran else { return Self.swiftSIMDRate(iterations: iterations, repeats: repeats) }
            precondition(ran.sink.isFinite, "FMA kernel produced a non-finite value")
            best = min(best, Self.seconds(elapsed))
            flops = ran.flops
            detail = ran.isa
        }
        return Rate(gflops: flops / best / 1e9, detail: detail)
    }

    private static func swiftSIMDRate(iterations: Int, repeats: Int) -> Rate {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<repeats {
            var sink: Float = 0
            let elapsed = clock.measure { sink = Self.simdChains(iterations: iterations) }
            precondition(sink.isFinite, "SIMD loop produced a non-finite value")
            best = min(best, Self.seconds(elapsed))
        }
        return Rate(gflops: Double(iterations) * 8 * 8 * 2 / best / 1e9, detail: "swift-simd mul+add")
    }

    @inline(never)
    private static func simdChains(iterations: Int) -> Float {
        let x = SIMD8<Float>(repeating: 1e-3)
        let y = SIMD8<Float>(repeating: 0.999)
        var a0 = SIMD8<Float>(repeating: 0)
        var a1 = a0 + 1
        var a2 = a0 + 2
        var a3 = a0 + 3
        var a4 = a0 + 4
        var a5 = a0 + 5
        var a6 = a0 + 6
        var a7 = a0 + 7
        for _ in 0..<iterations {
            a0 = a0 * y + x
            a1 = a1 * y + x
            a2 = a2 * y + x
            a3 = a3 * y + x
            a4 = a4 * y + x
            a5 = a5 * y + x
            a6 = a6 * y + x
            a7 = a7 * y + x
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7).sum()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
