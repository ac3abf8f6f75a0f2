/// A latency histogram in the manner of HdrHistogram: fixed memory, constant-time recording, and
/// percentiles to within 1/64 (about 1.6 %) of the true value, from 1 ns to about 584 years.
///
/// Values below 64 ns each have a bucket of their own; above, every power of two is cut into 32
/// equal sub-buckets, so a bucket's width is at most 1/32 of its lower bound, and a percentile is
/// reported as the middle of its bucket.
///
/// ```swift
/// var histogram = LatencyHistogram()
/// histogram.record(nanoseconds: 812_000)
/// histogram.percentile(0.99)   // nanoseconds, within 1.6 %
/// ```
public struct LatencyHistogram: Sendable, Equatable {
    /// Sub-buckets per power of two (as a power of two).
    static let subBucketBits = 5
    static let subBuckets = 1 << subBucketBits
    /// Values below this have exact buckets.
    static let linearLimit: UInt64 = 2 << UInt64(subBucketBits)

    private var counts: [UInt64]
    /// Values recorded.
    public private(set) var count: UInt64 = 0
    /// The smallest value recorded (0 when none).
    public private(set) var minimum: UInt64 = 0
    /// The largest value recorded (0 when none).
    public private(set) var maximum: UInt64 = 0
    /// The sum of the values recorded, for the mean.
    public private(set) var sum: Double = 0

    /// An empty histogram.
    public init() {
        self.counts = [UInt64](repeating: 0, count: Self.bucketIndex(of: .max) + 1)
    }

    /// Records one value, in nanoseconds.
    public mutating func record(nanoseconds value: UInt64) {
        self.counts[Self.bucketIndex(of: value)] += 1
        self.minimum = self.count == 0 ? value : Swift.min(self.minimum, value)
        self.maximum = Swift.max(self.maximum, value)
        self.count += 1
        self.sum += Double(value)
    }

    /// Records one duration (negative ones count as zero).
    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return self.record(nanoseconds: 0) }
        self.record(nanoseconds: UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000))
    }

    /// Adds every value of `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        for index in other.counts.indices where other.counts[index] > 0 { self.counts[index] += other.counts[index] }
        self.minimum = self.count == 0 ? other.minimum : Swift.min(self.minimum, other.minimum)
        self.maximum = Swift.max(self.maximum, other.maximum)
        self.count += other.count
        self.sum += other.sum
    }

    /// The value below or at which `fraction` (0…1) of the recorded values lie, in nanoseconds
    /// (the middle of its bucket, clamped to the recorded range; the largest value for 1); 0 when
    /// nothing was recorded.
    public func percentile(_ fraction: Double) -> UInt64 {
        guard self.count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((Swift.min(Swift.max(fraction, 0), 1) * Double(self.count)).rounded(.up)))
        if rank >= self.count { return self.maximum }
        var seen: UInt64 = 0
        for index in self.counts.indices {
            seen += self.counts[index]
            if seen >= rank {
                let (low, width) = Self.bucketRange(index)
                let middle = low &+ (width - 1) / 2
                return Swift.min(Swift.max(middle, self.minimum), self.maximum)
            }
        }
        return self.maximum
    }

    /// The mean in nanoseconds (0 when nothing was recorded).
    public var mean: Double { self.count > 0 ? self.sum / Double(self.count) : 0 }

    static func bucketIndex(of value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let magnitude = 63 - value.leadingZeroBitCount  // >= subBucketBits + 1
        let shift = magnitude - subBucketBits
        let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return Int(linearLimit) + (magnitude - subBucketBits - 1) * subBuckets + sub
    }

    /// The lowest value of bucket `index` and its width.
    static func bucketRange(_ index: Int) -> (low: UInt64, width: UInt64) {
        if index < Int(linearLimit) { return (UInt64(index), 1) }
        let offset = index - Int(linearLimit)
        let magnitude = offset / subBuckets + subBucketBits + 1
        let sub = UInt64(offset % subBuckets)
        let shift = UInt64(magnitude - subBucketBits)
        return ((UInt64(subBuckets) | sub) << shift, 1 << shift)
    }
}
