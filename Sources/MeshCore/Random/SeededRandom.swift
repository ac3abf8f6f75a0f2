internal import Crypto

/// A seeded, splittable random number generator (xoshiro256**), the only randomness in MeshCore.
///
/// Every stream of random numbers is keyed by the scenario's seed and a task id, so the numbers a
/// task draws never depend on which other tasks ran first, on which process, or how fast:
///
/// ```swift
/// var rng = SeededRandom(seed: scenario.seed, key: "relay/17/data")
/// let delay = Int.random(in: 1...5, using: &rng)
/// var child = rng.split("shuffle")   // an independent stream, also reproducible
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Makes the generator for `key` under `seed`; the same pair always gives the same numbers.
    public init(seed: UInt64, key: String) {
        var hasher = SHA256()
        withUnsafeBytes(of: seed.littleEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(key.utf8))
        let digest = Array(hasher.finalize())
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in digest[(index * 8)..<(index * 8 + 8)].reversed() { value = value << 8 | UInt64(byte) }
            return value
        }
        self.state = (word(0), word(1), word(2), word(3))
        if self.state == (0, 0, 0, 0) { self.state.0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// An independent generator for a sub-task, derived from this one's next output and `label`.
    public mutating func split(_ label: String) -> SeededRandom {
        SeededRandom(seed: self.next(), key: label)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(self.state.1 &* 5, 7) &* 9
        let t = self.state.1 << 17
        self.state.2 ^= self.state.0
        self.state.3 ^= self.state.1
        self.state.1 ^= self.state.2
        self.state.0 ^= self.state.3
        self.state.2 ^= t
        self.state.3 = rotate(self.state.3, 45)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits, identical on every platform.
    public mutating func nextUnitFloat() -> Float {
        Float(self.next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Double in [0, 1) with 53 random bits, identical on every platform.
    public mutating func nextUnitDouble() -> Double {
        Double(self.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

@inline(__always)
private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
}

extension SeededRandom {
    /// A uniform integer in `0..<bound` (Lemire's method), written here rather than taken from the
    /// standard library so the sequence cannot change with a Swift release.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = self.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = self.next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// A uniform integer in `range`.
    public mutating func next(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(self.next(below: span))
    }

    /// Shuffles `elements` in place (Fisher-Yates), reproducibly for a given generator state.
    public mutating func shuffle<C: MutableCollection & RandomAccessCollection>(_ elements: inout C) where C.Index == Int {
        guard elements.count > 1 else { return }
        var index = elements.count - 1
        while index > 0 {
            let other = Int(self.next(below: UInt64(index + 1)))
            elements.swapAt(elements.startIndex + index, elements.startIndex + other)
            index -= 1
        }
    }
}
