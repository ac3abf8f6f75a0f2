import MeshCore
import MeshTesting
import Synchronization
import Testing

@Suite("In-memory network faults")
struct InMemoryNetworkTests {
    private func pair(_ network: InMemoryNetwork) throws -> (sender: InMemoryTransport, receiver: InMemoryTransport) {
        let sender = network.makeTransport(name: "sender")
        let receiver = network.makeTransport(name: "receiver")
        try receiver.subscribe(agentTopic("receiver"))
        return (sender, receiver)
    }

    private func sequences(_ receiver: InMemoryTransport) -> [Int] {
        receiver.inbound.drain().joined().map { Payload.sequence($0.payload) }
    }

    @Test func deliversInOrderWithoutAHook() throws {
        let network = InMemoryNetwork()
        let (sender, receiver) = try self.pair(network)
        try sendData(sender, id: 1, to: agentTopic("receiver"), count: 5)
        #expect(self.sequences(receiver) == [0, 1, 2, 3, 4])
        #expect(network.statistics.delivered == 5)
    }

    @Test func theHookDropsDuplicatesAndHoldsBack() throws {
        let network = InMemoryNetwork()
        let (sender, receiver) = try self.pair(network)
        network.faultHook = { delivery in
            switch Payload.sequence(delivery.message.payload) {
            case 1: .drop
            case 2: .duplicate
            case 3: .holdBack
            default: .deliver
            }
        }
        try sendData(sender, id: 1, to: agentTopic("receiver"), count: 6)
        #expect(self.sequences(receiver) == [0, 2, 2, 4, 5])
        #expect(network.heldCount == 1)
        #expect(network.held.first?.receiver == "receiver")

        // Released later: reordered after what was sent in between.
        network.faultHook = nil
        try sendData(sender, id: 1, to: agentTopic("receiver"), count: 1)
        #expect(network.releaseHeld() == 1)
        #expect(self.sequences(receiver) == [0, 3])
        let statistics = network.statistics
        #expect(statistics.dropped == 1 && statistics.duplicated == 1 && statistics.heldBack == 1)
        #expect(statistics.released == 1)
    }

    @Test func releaseCanBeSelective() throws {
        let network = InMemoryNetwork()
        let (sender, receiver) = try self.pair(network)
        network.faultHook = { _ in .holdBack }
        try sendData(sender, id: 1, to: agentTopic("receiver"), count: 4)
        #expect(network.releaseHeld { Payload.sequence($0.message.payload) % 2 == 1 } == 2)
        #expect(self.sequences(receiver) == [1, 3])
        #expect(network.releaseHeld() == 2)
        #expect(self.sequences(receiver) == [0, 2])
    }

    @Test func theHookSeesEachReceiverSeparately() throws {
        let network = InMemoryNetwork()
        let sender = network.makeTransport(name: "sender")
        let cut = network.makeTransport(name: "cut-off")
        let fine = network.makeTransport(name: "fine")
        try cut.subscribe(.broadcast)
        try fine.subscribe(.broadcast)
        network.faultHook = { $0.receiver == "cut-off" ? .drop : .deliver }
        try sendData(sender, id: 1, to: .broadcast, count: 3)
        #expect(cut.inbound.depth == 0)
        #expect(fine.inbound.depth == 3)
    }

    @Test func heldMessagesForAParticipantThatLeftAreDropped() async throws {
        let network = InMemoryNetwork()
        let (sender, receiver) = try self.pair(network)
        network.faultHook = { _ in .holdBack }
        try sendData(sender, id: 1, to: agentTopic("receiver"), count: 2)
        await receiver.shutdown()
        #expect(network.releaseHeld() == 2)
        #expect(network.statistics.delivered == 0)
    }
}
