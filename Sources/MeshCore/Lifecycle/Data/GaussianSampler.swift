/// Standard normal numbers drawn from a ``SeededRandom`` stream (Marsaglia's polar method).
///
/// MeshCore links no C library, so the one transcendental function the method needs, the natural
/// logarithm, is computed here in plain arithmetic (``naturalLogarithm(_:)``); the numbers are
/// therefore the same on every platform and Swift release, like the stream itself.
///
/// ```swift
/// var noise = GaussianSampler(SeededRandom(seed: seed, key: "data/uc-1/augment"))
/// let value = 0.5 * noise.next()
/// ```
public struct GaussianSampler: Sendable {
    private var random: SeededRandom
    private var spare: Double?

    /// A sampler drawing from `random`.
    public init(_ random: SeededRandom) {
        self.random = random
    }

    /// The next standard normal number (mean 0, standard deviation 1).
    public mutating func next() -> Double {
        if let spare = self.spare {
            self.spare = nil
            return spare
        }
        while true {
            let u = 2 * self.random.nextUnitDouble() - 1
            let v = 2 * self.random.nextUnitDouble() - 1
            let s = u * u + v * v
            guard s > 0, s < 1 else { continue }
            let factor = (-2 * Self.naturalLogarithm(s) / s).squareRoot()
            self.spare = v * factor
            return u * factor
        }
    }

    /// `ln(x)` for a positive finite `x`, within a few units in the last place.
    ///
    /// `x = m · 2^e` with `m` in [√½, √2), then `ln m = 2 atanh(s)`, `s = (m − 1)/(m + 1)`, whose
    /// odd series converges fast because |s| ≤ 0.172.
    public static func naturalLogarithm(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "the logarithm of \(x)")
        var m = x.significand
        var e = Double(x.exponent)
        if m > 1.414_213_562_373_095_1 {
            m /= 2
            e += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var power = s
        var sum = s
        // |s|^25 < 1e-19: twelve more terms reach the last bit of a Double.
        for k in 1...12 {
            power *= s2
            sum += power / Double(2 * k + 1)
        }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }
}
