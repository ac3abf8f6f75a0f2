import Foundation
import MeshCompute
import Testing

@Suite("Compute executor")
struct ExecutorTests {
    @Test func jobsRunOnTheDedicatedThreadInOrder() async throws {
        let executor = ComputeExecutor(name: "test.compute")
        defer { executor.shutdown() }
        #expect(!executor.isCurrentThread)
        #expect(await executor.run { executor.isCurrentThread })
        #expect(await executor.run { Thread.isMainThread } == false)
        #expect(BLAS.threadCount == 1)
        let results = await withTaskGroup(of: Int.self) { group in
            for index in 0..<20 { group.addTask { await executor.run { index * index } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == (0..<20).map { $0 * $0 })
    }

    @Test func typedErrorsComeBackToTheCaller() async {
        let executor = ComputeExecutor()
        defer { executor.shutdown() }
        await #expect(throws: ComputeError.self) {
            try await executor.run { () throws(ComputeError) -> Matrix in
                try Matrix(rows: 2, columns: 2).multiplied(by: Matrix(rows: 3, columns: 1))
            }
        }
        // The executor keeps serving after a failed job.
        let product = try? await executor.run { try Matrix([[1, 2]]).multiplied(by: Matrix([[3], [4]])) }
        #expect(product?.values == [11])
    }

    @Test func shutdownFinishesQueuedWorkAndIsIdempotent() async {
        let executor = ComputeExecutor()
        let value = await executor.run { 42 }
        executor.shutdown()
        executor.shutdown()
        #expect(value == 42)
    }
}
