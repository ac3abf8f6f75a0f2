internal import DequeModule
import Synchronization

/// A single-consumer queue of message batches between a transport's producer (an I/O thread or
/// the in-memory hub) and the actor that consumes them.
///
/// The producer checks ``depth`` and stops reading from the network while the consumer is behind,
/// so memory stays bounded; ``push(_:)`` itself never blocks.
public final class InboundQueue: Sendable {
    private struct State: ~Copyable {
        var batches: Deque<[WireMessage]> = []
        var messages = 0
        var waiter: CheckedContinuation<[WireMessage]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Makes an empty queue.
    public init() {}

    /// How many messages wait to be consumed.
    public var depth: Int { self.state.withLock { $0.messages } }

    /// Adds a batch (ignored once finished or when empty).
    public func push(_ batch: [WireMessage]) {
        guard !batch.isEmpty else { return }
        let waiter: CheckedContinuation<[WireMessage]?, Never>? = self.state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.batches.append(batch)
            state.messages += batch.count
            return nil
        }
        waiter?.resume(returning: batch)
    }

    /// Ends the queue: the consumer gets what is queued, then `nil`.
    public func finish() {
        let waiter = self.state.withLock { state -> CheckedContinuation<[WireMessage]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.batches.isEmpty ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// The next batch, waiting for one; `nil` once the queue is finished and empty.
    ///
    /// Only one task may wait at a time (a second concurrent waiter is a programming error).
    public func next() async -> [WireMessage]? {
        if let ready = self.takeReady() { return ready }
        return await withCheckedContinuation { continuation in
            let immediate: [WireMessage]?? = self.state.withLock { state in
                if let batch = state.batches.popFirst() {
                    state.messages -= batch.count
                    return .some(batch)
                }
                if state.finished { return .some(nil) }
                precondition(state.waiter == nil, "InboundQueue has a single consumer")
                state.waiter = continuation
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Every batch that is ready now, without waiting (empty when none).
    public func drain() -> [[WireMessage]] {
        self.state.withLock { state in
            let all = Array(state.batches)
            state.batches.removeAll()
            state.messages = 0
            return all
        }
    }

    private func takeReady() -> [WireMessage]? {
        self.state.withLock { state in
            guard let batch = state.batches.popFirst() else { return nil }
            state.messages -= batch.count
            return batch
        }
    }
}
