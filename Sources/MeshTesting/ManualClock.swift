public import MeshCore
import Synchronization

/// A physical clock that moves only when a test says so.
///
/// Sleepers wake when ``advance(by:)`` or ``advance(to:)`` passes their deadline, so timeouts,
/// retransmits and heartbeats are tested without waiting.
public final class ManualClock: PhysicalClock {
    private struct Sleeper {
        var deadline: MonotonicTime
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: MonotonicTime
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// Makes a clock that reads `start`.
    public init(start: MonotonicTime = .zero) { self.state = Mutex(State(now: start)) }

    /// The current time.
    public func now() -> MonotonicTime { self.state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

    /// Suspends until the clock is advanced to `deadline`; throws `CancellationError` on cancellation.
    public func sleep(until deadline: MonotonicTime) async throws {
        let id = self.state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = self.state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration` and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        self.advance(to: self.now().adding(duration))
    }

    /// Moves the clock to `time` (never backwards) and wakes every sleeper whose deadline has passed.
    public func advance(to time: MonotonicTime) {
        let due = self.state.withLock { state -> [Sleeper] in
            if time > state.now { state.now = time }
            let ready = state.sleepers.filter { $0.value.deadline <= state.now }
            for key in ready.keys { state.sleepers.removeValue(forKey: key) }
            return Array(ready.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
