/// The symmetric int8 scheme of the reference (../shared/reference/README.md).
public enum Quantization {
    /// `clamp(round(value / scale), -127, 127)`, rounding half away from zero; 0 when `scale` is 0.
    @inline(__always)
    public static func code(_ value: Float, scale: Float) -> Int8 {
        guard scale > 0 else { return 0 }
        // Clamping first changes nothing (±127 are integers) and makes the truncating conversion
        // safe; truncate-then-compare is exact and, unlike `rounded()`, needs no libm call at
        // Swift's default x86-64 target, so the loop over a row vectorizes.
        let clamped = min(max(value / scale, -127), 127)
        let truncated = Int32(clamped)
        let fraction = clamped - Float(truncated)
        let step: Int32 = fraction >= 0.5 ? 1 : (fraction <= -0.5 ? -1 : 0)
        return Int8(truncatingIfNeeded: truncated + step)
    }

    /// The symmetric scale of a row: `max |x| / 127`.
    @inline(__always)
    public static func scale(of values: UnsafeBufferPointer<Float>) -> Float {
        var largest: Float = 0
        for value in values { largest = max(largest, abs(value)) }
        return largest / 127
    }
}
