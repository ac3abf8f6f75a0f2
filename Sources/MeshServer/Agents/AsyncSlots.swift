/// At most a fixed number of holders at once; the others wait, first come first served. For work
/// whose memory, not its speed, grows with how many run together (the pipeline's serving tests).
///
/// ```swift
/// let slots = AsyncSlots(2)
/// let report = try await slots.withSlot { try await test(request) }
/// ```
actor AsyncSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Slots for `count` holders (at least one).
    init(_ count: Int) {
        self.free = max(1, count)
    }

    /// Runs `body` holding a slot, waiting for one first.
    nonisolated func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await self.acquire()
        do {
            let value = try await body()
            await self.release()
            return value
        } catch {
            await self.release()
            throw error
        }
    }

    private func acquire() async {
        if self.free > 0 {
            self.free -= 1
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    private func release() {
        if !self.waiters.isEmpty {
            self.waiters.removeFirst().resume()
        } else {
            self.free += 1
        }
    }
}
