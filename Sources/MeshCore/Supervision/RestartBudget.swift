internal import DequeModule

/// The supervisor's restart intensity, as in OTP: at most `maxRestarts` restarts within `window`;
/// one more means something is deeply wrong, and the supervisor stops the mesh and says so.
public struct RestartBudget: Sendable {
    /// Restarts allowed within the window.
    public let maxRestarts: Int
    /// The sliding window.
    public let window: Duration
    private var history: Deque<MonotonicTime> = []

    /// Makes a budget of `maxRestarts` per `window`.
    public init(maxRestarts: Int, window: Duration) {
        precondition(maxRestarts >= 0, "maxRestarts must not be negative")
        self.maxRestarts = maxRestarts
        self.window = window
    }

    /// Restarts counted in the current window.
    public var recentRestarts: Int { self.history.count }

    /// Asks for one restart at `now`: `true` (and counted) when the budget allows it, `false` when
    /// it would exceed the intensity.
    public mutating func requestRestart(at now: MonotonicTime) -> Bool {
        while let oldest = self.history.first, oldest.adding(self.window) <= now { self.history.removeFirst() }
        guard self.history.count < self.maxRestarts else { return false }
        self.history.append(now)
        return true
    }
}
