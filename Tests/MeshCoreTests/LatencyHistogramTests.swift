@testable import MeshCore
import Testing

@Suite("LatencyHistogram")
struct LatencyHistogramTests {
    @Test func percentilesAreWithinTheStatedPrecision() {
        var histogram = LatencyHistogram()
        for value in 1...100_000 { histogram.record(nanoseconds: UInt64(value) * 1_000) }
        #expect(histogram.count == 100_000)
        #expect(histogram.minimum == 1_000 && histogram.maximum == 100_000_000)
        for (fraction, exact) in [(0.5, 50_000_000.0), (0.9, 90_000_000.0), (0.99, 99_000_000.0), (0.999, 99_900_000.0)] {
            let measured = Double(histogram.percentile(fraction))
            #expect(abs(measured - exact) / exact <= 1.0 / 64, "p\(fraction): \(measured) vs \(exact)")
        }
        #expect(histogram.percentile(1) == 100_000_000)
        #expect(abs(histogram.mean - 50_000_500) < 1)
    }

    @Test func smallValuesAreExactAndEmptyIsZero() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == 0)
        for value in [3, 3, 7, 60] { histogram.record(nanoseconds: UInt64(value)) }
        #expect(histogram.percentile(0.5) == 3)
        #expect(histogram.percentile(0.75) == 7)
        #expect(histogram.percentile(1.0) == 60)
    }

    @Test func mergingAddsEveryValueAndDurationsCount() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        a.record(.milliseconds(1))
        b.record(.milliseconds(3))
        b.record(.seconds(-1))
        a.merge(b)
        #expect(a.count == 3 && a.minimum == 0 && a.maximum == 3_000_000)
        let median = Double(a.percentile(0.5))
        #expect(abs(median - 1_000_000) / 1_000_000 <= 1.0 / 64)
    }

    @Test func everyBucketMapsBackOntoItsRange() {
        for value: UInt64 in [0, 1, 63, 64, 65, 127, 128, 1_000, 123_456_789, UInt64.max / 3, UInt64.max] {
            let index = LatencyHistogram.bucketIndex(of: value)
            let (low, width) = LatencyHistogram.bucketRange(index)
            #expect(value >= low && value - low < width, "\(value) → bucket \(index) [\(low), +\(width))")
        }
    }
}
