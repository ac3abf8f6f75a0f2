/// A point on a process's physical, monotonic clock, in nanoseconds from an arbitrary origin.
///
/// State machines take it as an input for retransmit timers, heartbeats and deadlines; they never
/// read a clock themselves. The runtime feeds `ContinuousClock`, tests feed a manual clock.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// Makes a time from nanoseconds since the origin.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The origin.
    public static let zero = MonotonicTime(nanoseconds: 0)

    /// This time moved later by `duration` (negative durations count as zero).
    public func adding(_ duration: Duration) -> MonotonicTime {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return self }
        let span = UInt64(seconds) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
        return MonotonicTime(nanoseconds: self.nanoseconds &+ span)
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    public func duration(since earlier: MonotonicTime) -> Duration {
        guard self.nanoseconds > earlier.nanoseconds else { return .zero }
        return .nanoseconds(Int64(self.nanoseconds - earlier.nanoseconds))
    }

    public static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "\(Double(self.nanoseconds) / 1e9)s" }
}

/// What a process reads physical time from: `ContinuousClock` in the runtime, a manual clock in tests.
public protocol PhysicalClock: Sendable {
    /// The current time.
    func now() -> MonotonicTime
    /// Suspends until `deadline` (or returns at once when it has passed); throws on cancellation.
    func sleep(until deadline: MonotonicTime) async throws
}
