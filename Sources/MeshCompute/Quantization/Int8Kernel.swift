/// The integer inner loop of the int8 path.
enum Int8Kernel {
    /// Outputs computed together: one `SIMD16<Int32>` of sums.
    static let lanes = 16

    /// `count` rounded up to a multiple of ``lanes``.
    static func padded(_ count: Int) -> Int { (count + lanes - 1) / lanes * lanes }

    /// `sums[j] = Σ_i codes[i] * weights[i * stride + j]` for `j < stride`, in `Int32`.
    ///
    /// Input-major weights let a block of 16 outputs accumulate in one vector while the inputs
    /// stream past (no horizontal sum per output). Each product of two codes in ±127 fits an
    /// `Int16` exactly, and callers keep `inputs` at most ``QuantizedLayer/maximumInputs`` so the
    /// `Int32` sums cannot overflow. Inputs whose code is 0 (a ReLU's zeros) are skipped.
    @inline(__always)
    static func accumulate(
        codes: UnsafePointer<Int8>,
        inputs: Int,
        weights: UnsafePointer<Int8>,
        stride: Int,
        sums: UnsafeMutablePointer<Int32>
    ) {
        var block = 0
        while block < stride {
            var sum = SIMD16<Int32>()
            for i in 0..<inputs where codes[i] != 0 {
                let x = SIMD16<Int16>(repeating: Int16(codes[i]))
                let w = SIMD16<Int16>(
                    truncatingIfNeeded: UnsafeRawPointer(weights + i * stride + block).loadUnaligned(
                        as: SIMD16<Int8>.self
                    )
                )
                sum &+= SIMD16<Int32>(truncatingIfNeeded: w &* x)
            }
            UnsafeMutableRawPointer(sums + block).storeBytes(of: sum, as: SIMD16<Int32>.self)
            block += lanes
        }
    }
}
