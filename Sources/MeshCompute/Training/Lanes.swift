/// Element-wise loops over raw buffers in explicit 8-lane blocks, each lane doing exactly what the
/// scalar tail does.
enum Lanes {
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }

    /// `values[r][j] += bias[j]`, then `max(·, 0)` when `relu`.
    @inline(__always)
    static func addBias(
        _ bias: UnsafePointer<Float>,
        to values: UnsafeMutablePointer<Float>,
        rows: Int,
        columns: Int,
        relu: Bool
    ) {
        let zero = SIMD8<Float>(repeating: 0)
        for row in 0..<rows {
            let base = values + row * columns
            var j = 0
            while j + 8 <= columns {
                let sum = Self.load(base + j) + Self.load(bias + j)
                // `replacing` inlines to a compare and a blend; `pointwiseMax` stayed a generic call.
                Self.store(relu ? sum.replacing(with: zero, where: sum .< zero) : sum, base + j)
                j += 8
            }
            while j < columns {
                let sum = base[j] + bias[j]
                base[j] = relu ? max(sum, 0) : sum
                j += 1
            }
        }
    }

    /// `sums[j] = Σ_r values[r][j]`, rows added in order.
    @inline(__always)
    static func columnSums(
        _ values: UnsafePointer<Float>,
        rows: Int,
        columns: Int,
        into sums: UnsafeMutablePointer<Float>
    ) {
        sums.update(repeating: 0, count: columns)
        for row in 0..<rows {
            let base = values + row * columns
            var j = 0
            while j + 8 <= columns {
                Self.store(Self.load(sums + j) + Self.load(base + j), sums + j)
                j += 8
            }
            while j < columns {
                sums[j] += base[j]
                j += 1
            }
        }
    }

    /// Zeroes `values[i]` wherever `mask[i]` is not positive (a ReLU's derivative).
    @inline(__always)
    static func maskByPositive(_ values: UnsafeMutablePointer<Float>, where mask: UnsafePointer<Float>, count: Int) {
        let zero = SIMD8<Float>(repeating: 0)
        var index = 0
        while index + 8 <= count {
            let keep = Self.load(mask + index) .> zero
            Self.store(Self.load(values + index).replacing(with: zero, where: .!keep), values + index)
            index += 8
        }
        while index < count {
            if !(mask[index] > 0) { values[index] = 0 }
            index += 1
        }
    }
}
