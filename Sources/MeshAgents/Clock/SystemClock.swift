public import MeshCore

/// The physical clock of a real process: `ContinuousClock`, counted from when the clock was made.
public struct SystemClock: PhysicalClock {
    private let origin: ContinuousClock.Instant

    /// Makes a clock whose origin is now.
    public init() { self.origin = ContinuousClock.now }

    /// The time since the origin.
    public func now() -> MonotonicTime {
        let elapsed = ContinuousClock.now - self.origin
        let (seconds, attoseconds) = elapsed.components
        return MonotonicTime(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000)))
    }

    /// Sleeps until `deadline` on the continuous clock.
    public func sleep(until deadline: MonotonicTime) async throws {
        let target = self.origin + .nanoseconds(Int64(deadline.nanoseconds))
        try await Task.sleep(until: target, clock: .continuous)
    }
}
