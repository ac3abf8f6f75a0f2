import Synchronization
import Testing

@testable import MeshServer

/// What keeps the pipeline agent's memory bounded: latency windows that grow with use, serving
/// tests two at a time, and the oversized edge-case body written without a million floats.
@Suite struct PipelineMemoryTests {
    @Test func aLatencyWindowGrowsWithUseAndKeepsTheLastCapacity() {
        var reservoir = LatencyReservoir(capacity: 4)
        #expect(reservoir.window.isEmpty)
        #expect(reservoir.statistics.p50Seconds == 0)
        for nanoseconds: UInt64 in [1_000, 2_000, 3_000] { reservoir.recordSuccess(rows: 1, nanoseconds: nanoseconds) }
        #expect(reservoir.window.sorted() == [1_000, 2_000, 3_000])
        for nanoseconds: UInt64 in [4_000, 5_000, 6_000] { reservoir.recordSuccess(rows: 2, nanoseconds: nanoseconds) }
        #expect(reservoir.window.sorted() == [3_000, 4_000, 5_000, 6_000])
        reservoir.recordFailure()
        let statistics = reservoir.statistics
        #expect(statistics.requests == 6 && statistics.rows == 9 && statistics.failures == 1 && statistics.window == 4)
        #expect(statistics.maxSeconds == 6e-6)
    }

    @Test func theZerosBodyIsTheBodyOfZeros() {
        for shape in [[0, 3], [1, 1], [2, 3], [4097, 64]] {
            let values = [Float](repeating: 0, count: shape.reduce(1, *))
            #expect(InferenceClient.zerosBody(shape: shape) == Array(InferenceClient.body(shape: shape, values: values).utf8))
        }
    }

    @Test func slotsLetAtMostTheirCountRunAtOnce() async throws {
        let slots = AsyncSlots(2)
        let counts = Counts()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await slots.withSlot {
                        counts.state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) }
                        try await Task.sleep(for: .milliseconds(5))
                        counts.state.withLock { $0.running -= 1 }
                        return index
                    }
                }
            }
            var seen: [Int] = []
            for try await index in group { seen.append(index) }
            #expect(seen.sorted() == Array(0..<8))
        }
        #expect(counts.state.withLock { $0.most } <= 2)
        #expect(counts.state.withLock { $0.running } == 0)
        // A body that throws gives its slot back.
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await slots.withSlot { () async throws -> Int in throw Failure() } }
        #expect(try await slots.withSlot { 1 } == 1)
    }
}

/// How many holders run now, and the most at once.
private final class Counts: Sendable {
    let state = Mutex((running: 0, most: 0))
}
