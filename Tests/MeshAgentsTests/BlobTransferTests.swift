import Logging
import MeshAgents
import MeshCore
import MeshTesting
import Synchronization
import Testing

/// Layer 2: a coordinator and an agent over the in-memory network, each with a store of its own,
/// moving blobs in chunks.
@Suite("Blob transfer in process")
struct BlobTransferTests {
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed, key: "blob")
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// A coordinator serving `served` (with a workflow that waits for an agent that never comes)
    /// and one agent `fetcher` caching into `cache`; `body` runs once the agent has joined.
    static func withMesh(
        served: MemoryBlobStore?,
        cache: MemoryBlobStore,
        fetch: BlobFetch.Configuration = BlobFetch.Configuration(chunkSize: 4_096, window: 3, timeout: .milliseconds(100), maxAttempts: 5),
        faults: InMemoryNetwork.FaultHook? = nil,
        _ body: (Agent) async throws -> Void
    ) async throws {
        let network = InMemoryNetwork()
        network.faultHook = faults
        let logger = Logger(label: "blob-test", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = CoordinatorConfiguration(runID: "blob", incarnation: 1, pid: 1, host: "memory")
        configuration.expectedAgents = [AgentID(unchecked: "never-1")]
        let coordinator = Coordinator(
            configuration: configuration, workflow: RelayWorkflow(tokens: 1, seed: 1, interarrival: 100),
            transport: network.makeTransport(name: "coordinator"), journal: MemoryJournal(), clock: SystemClock(),
            logger: logger, blobStore: served)
        var agentConfiguration = AgentConfiguration(
            id: AgentID(unchecked: "compute-1"), role: .compute, capacity: 1, incarnation: 1, pid: 1, host: "memory")
        agentConfiguration.blobFetch = fetch
        let agent = Agent(
            configuration: agentConfiguration, transport: network.makeTransport(name: "compute-1"), worker: RelayWorker(),
            clock: SystemClock(), logger: logger, blobStore: cache)
        let coordinatorRun = Task { try await coordinator.run() }
        let agentRun = Task { try await agent.run() }
        defer {
            coordinatorRun.cancel()
            agentRun.cancel()
        }
        for _ in 0..<400 where !(await agent.isJoined) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await agent.isJoined)
        try await body(agent)
        await agent.stop()
        await coordinator.stop()
        _ = try? await agentRun.value
        _ = try? await coordinatorRun.value
    }

    @Test func anAgentFetchesAMultiChunkBlobFromTheCoordinatorAndCachesIt() async throws {
        let served = MemoryBlobStore()
        let cache = MemoryBlobStore()
        let blob = Self.bytes(4_096 * 7 / 2, seed: 3)
        let hash = try served.put(blob)
        try await Self.withMesh(served: served, cache: cache) { agent in
            let fetched = try await agent.fetchBlob(hash)
            #expect(fetched == blob)
            #expect(cache.hashes == [hash])
            // A second fetch is served from the cache.
            let again = try await agent.fetchBlob(hash)
            #expect(again == blob)
            #expect(await agent.statistics.blobsFetched == 1)
        }
    }

    @Test func lostChunksAreRequestedAgain() async throws {
        let served = MemoryBlobStore()
        let cache = MemoryBlobStore()
        let blob = Self.bytes(4_096 * 6 + 5, seed: 4)
        let hash = try served.put(blob)
        let seen = Mutex(0)
        let dropped = Mutex(0)
        // Lose every third chunk the coordinator sends.
        let faults: InMemoryNetwork.FaultHook = { delivery in
            guard delivery.message.payload.count > 1, delivery.message.payload[1] == MessageKind.blobChunk.rawValue else {
                return .deliver
            }
            let drop = seen.withLock { count in
                count += 1
                return count % 3 == 0
            }
            if drop { dropped.withLock { $0 += 1 } }
            return drop ? .drop : .deliver
        }
        try await Self.withMesh(served: served, cache: cache, faults: faults) { agent in
            let fetched = try await agent.fetchBlob(hash)
            #expect(fetched == blob)
        }
        #expect(dropped.withLock { $0 } >= 2)
        #expect(cache.contains(hash))
    }

    @Test func aMissingBlobFailsAtOnceWithTheCoordinatorsReason() async throws {
        let cache = MemoryBlobStore()
        let hash = BlobHash(of: [1, 2, 3])
        for served in [MemoryBlobStore(), nil] {
            try await Self.withMesh(served: served, cache: cache) { agent in
                do {
                    _ = try await agent.fetchBlob(hash)
                    Issue.record("a missing blob was fetched")
                } catch let error as BlobFetchError {
                    #expect(error.code == .missing)
                    #expect(error.reason == (served == nil ? "this participant serves no blobs" : "no such blob"))
                }
            }
        }
        #expect(cache.hashes.isEmpty)
    }

    @Test func anAgentFetchesFromAnotherAgentThatHoldsTheBlob() async throws {
        let network = InMemoryNetwork()
        let logger = Logger(label: "blob-test", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = CoordinatorConfiguration(runID: "blob", incarnation: 1, pid: 1, host: "memory")
        configuration.expectedAgents = [AgentID(unchecked: "never-1")]
        let coordinator = Coordinator(
            configuration: configuration, workflow: RelayWorkflow(tokens: 1, seed: 1, interarrival: 100),
            transport: network.makeTransport(name: "coordinator"), journal: MemoryJournal(), clock: SystemClock(),
            logger: logger)
        let holderStore = MemoryBlobStore()
        let blob = Self.bytes(10_000, seed: 9)
        let hash = try holderStore.put(blob)
        let fetcherStore = MemoryBlobStore()
        func makeAgent(_ name: String, _ store: MemoryBlobStore) -> Agent {
            var agentConfiguration = AgentConfiguration(
                id: AgentID(unchecked: name), role: .compute, capacity: 1, incarnation: 1, pid: 1, host: "memory")
            agentConfiguration.blobFetch = BlobFetch.Configuration(chunkSize: 1_000, window: 4, timeout: .milliseconds(100))
            return Agent(
                configuration: agentConfiguration, transport: network.makeTransport(name: name), worker: RelayWorker(),
                clock: SystemClock(), logger: logger, blobStore: store)
        }
        let holder = makeAgent("compute-1", holderStore)
        let fetcher = makeAgent("compute-2", fetcherStore)
        let runs = [Task { try await coordinator.run() }, Task { try await holder.run() }, Task { try await fetcher.run() }]
        for _ in 0..<400 {
            let holderJoined = await holder.isJoined
            let fetcherJoined = await fetcher.isJoined
            if holderJoined && fetcherJoined { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let fetched = try await fetcher.fetchBlob(hash, from: AgentID(unchecked: "compute-1"))
        #expect(fetched == blob)
        #expect(fetcherStore.contains(hash))
        // At least the 10 chunks; a loaded machine may time out and ask for one again.
        #expect(await holder.statistics.blobChunksServed >= 10)
        // The coordinator has no store: asking it fails at once.
        await #expect(throws: BlobFetchError.self) { try await fetcher.fetchBlob(BlobHash(of: [7])) }
        await fetcher.stop()
        await holder.stop()
        await coordinator.stop()
        for run in runs { _ = try? await run.value }
    }
}
