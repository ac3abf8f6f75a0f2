import Logging
import MeshAgents
import MeshCore
import MeshTesting
import Testing

/// The real `Agent` against a scripted coordinator over the in-memory network: how it treats
/// other coordinator incarnations. Regression tests for what the deterministic simulation found
/// (seed 128 of `DeterministicSimulationTests`, among others): an agent that rejoined
/// as the same incarnation met a coordinator whose link still counted the old stream, which took
/// the new messages for duplicates, acknowledged them and dropped them.
@Suite("Agent rejoining")
struct AgentRejoinTests {
    let coordinatorTopic = Topic.agent(.coordinator)
    let agentID = AgentID(unchecked: "data-1")

    /// The next envelope of `kind` the scripted coordinator receives, within 10 s (a bounded poll:
    /// the inbound queue's `next()` cannot be given a timeout).
    func next(_ kind: MessageKind, on transport: any MeshTransport) async throws -> Envelope {
        for _ in 0..<2_000 {
            for batch in transport.inbound.drain() {
                for message in batch {
                    if let envelope = try? Envelope(decoding: message.payload), envelope.kind == kind { return envelope }
                }
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("no \(kind) within 10 s")
        throw CancellationError()
    }

    func send(_ envelope: Envelope, on transport: any MeshTransport) throws {
        try transport.send([WireMessage(envelope)])
    }

    @Test func aLateMessageOfAnEarlierCoordinatorIsIgnoredAndANewCoordinatorIsJoinedAsANewIncarnation() async throws {
        let network = InMemoryNetwork()
        let coordinator = network.makeTransport(name: "coordinator")
        try coordinator.subscribe(self.coordinatorTopic)
        let logger = Logger(label: "rejoin-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let agent = Agent(
            configuration: AgentConfiguration(id: self.agentID, role: .data, capacity: 1, incarnation: 1),
            transport: network.makeTransport(name: "data-1"), worker: RelayWorker(), clock: SystemClock(), logger: logger)
        let run = Task { try await agent.run() }
        defer { run.cancel() }

        // Joined to coordinator incarnation 5 (a long deadline: nothing here may depend on timing).
        let hello = try await self.next(.hello, on: coordinator)
        #expect(hello.senderIncarnation == 1)
        let welcome = Welcome(runID: "rejoin", heartbeatMilliseconds: 100, deadlineMilliseconds: 600_000)
        try self.send(
            Envelope(
                kind: .welcome, sender: .coordinator, senderIncarnation: 5, receiver: .agent(self.agentID),
                receiverIncarnation: 1, body: welcome.encoded()), on: coordinator)
        _ = try await self.next(.heartbeat, on: coordinator)
        #expect(await agent.isJoined)

        // A heartbeat of incarnation 4, late: ignored. The blob request after it is answered, so
        // the heartbeat was handled before the answer came.
        try self.send(Envelope(kind: .heartbeat, sender: .coordinator, senderIncarnation: 4, receiver: .broadcast), on: coordinator)
        let probe = BlobRequest(hash: BlobHash(of: [1, 2, 3]), offset: 0, length: 1)
        try self.send(
            Envelope(kind: .blobRequest, sender: .coordinator, senderIncarnation: 5, receiver: .agent(self.agentID), body: probe.encoded()),
            on: coordinator)
        _ = try await self.next(.blobMissing, on: coordinator)
        #expect(await agent.isJoined)
        #expect(await agent.currentIncarnation == 1)

        // A heartbeat of incarnation 6: the coordinator restarted. The agent joins it as a new incarnation.
        try self.send(Envelope(kind: .heartbeat, sender: .coordinator, senderIncarnation: 6, receiver: .broadcast), on: coordinator)
        let again = try await self.next(.hello, on: coordinator)
        #expect(again.senderIncarnation > 1)
        #expect(await agent.currentIncarnation == again.senderIncarnation)
        await agent.stop()
        _ = try? await run.value
    }
}

@Suite("Simulated time in logs")
struct SimulatedTimeMetadataTests {
    @Test func theLoggedSimulatedTimeOnlyMovesForward() {
        let later = SimTime(microseconds: SimulatedTimeMetadata.current.microseconds + 7_200_000_000)
        SimulatedTimeMetadata.observe(later)
        #expect(SimulatedTimeMetadata.current >= later)
        SimulatedTimeMetadata.observe(SimTime(microseconds: 1))
        #expect(SimulatedTimeMetadata.current >= later, "never back")
        #expect(SimulatedTimeMetadata.provider.get()["mesh.sim"] == .string(SimClock.iso8601(SimulatedTimeMetadata.current)))
    }
}
