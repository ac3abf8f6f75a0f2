import MeshCore
import Testing

/// Two ends of a link and a network between them that a test controls message by message.
struct LinkPair {
    var a = ReliableLink(local: AgentID(unchecked: "a"), localIncarnation: 1, peer: AgentID(unchecked: "b"), peerIncarnation: 2)
    var b = ReliableLink(local: AgentID(unchecked: "b"), localIncarnation: 2, peer: AgentID(unchecked: "a"), peerIncarnation: 1)
    var now = MonotonicTime.zero
    var deliveredToB: [UInt64] = []
    var deliveredToA: [UInt64] = []
    var unreachable = false

    init(configuration: ReliableLink.Configuration = ReliableLink.Configuration()) {
        self.a = ReliableLink(
            local: AgentID(unchecked: "a"), localIncarnation: 1, peer: AgentID(unchecked: "b"), peerIncarnation: 2,
            configuration: configuration)
        self.b = ReliableLink(
            local: AgentID(unchecked: "b"), localIncarnation: 2, peer: AgentID(unchecked: "a"), peerIncarnation: 1,
            configuration: configuration)
    }

    /// Sends from a; returns what a put on the wire.
    mutating func sendFromA(_ count: Int = 1) -> [Envelope] {
        var wire: [Envelope] = []
        for index in 0..<count {
            var actions: [ReliableLink.Action] = []
            self.a.send(kind: .award, body: [UInt8(index & 0xFF)], simTime: .zero, at: self.now, into: &actions)
            wire += self.collect(actions, deliveredTo: \.deliveredToA)
        }
        return wire
    }

    mutating func sendFromB(_ count: Int = 1) -> [Envelope] {
        var wire: [Envelope] = []
        for _ in 0..<count {
            var actions: [ReliableLink.Action] = []
            self.b.send(kind: .result, body: [], simTime: .zero, at: self.now, into: &actions)
            wire += self.collect(actions, deliveredTo: \.deliveredToB)
        }
        return wire
    }

    /// Delivers envelopes from a to b; returns what b put on the wire in reply.
    mutating func toB(_ envelopes: [Envelope]) -> [Envelope] {
        var wire: [Envelope] = []
        for envelope in envelopes {
            var actions: [ReliableLink.Action] = []
            self.b.receive(envelope, at: self.now, into: &actions)
            wire += self.collect(actions, deliveredTo: \.deliveredToB)
        }
        return wire
    }

    mutating func toA(_ envelopes: [Envelope]) -> [Envelope] {
        var wire: [Envelope] = []
        for envelope in envelopes {
            var actions: [ReliableLink.Action] = []
            self.a.receive(envelope, at: self.now, into: &actions)
            wire += self.collect(actions, deliveredTo: \.deliveredToA)
        }
        return wire
    }

    mutating func tickA() -> [Envelope] {
        var actions: [ReliableLink.Action] = []
        self.a.tick(at: self.now, into: &actions)
        return self.collect(actions, deliveredTo: \.deliveredToA)
    }

    mutating func tickB() -> [Envelope] {
        var actions: [ReliableLink.Action] = []
        self.b.tick(at: self.now, into: &actions)
        return self.collect(actions, deliveredTo: \.deliveredToB)
    }

    mutating func advance(_ duration: Duration) { self.now = self.now.adding(duration) }

    private mutating func collect(_ actions: [ReliableLink.Action], deliveredTo path: WritableKeyPath<LinkPair, [UInt64]>) -> [Envelope] {
        var wire: [Envelope] = []
        for action in actions {
            switch action {
            case .transmit(let envelope): wire.append(envelope)
            case .deliver(let envelope): self[keyPath: path].append(envelope.sequence)
            case .unreachable: self.unreachable = true
            }
        }
        return wire
    }
}

@Suite("Reliable delivery")
struct ReliableLinkTests {
    @Test func deliversInOrderAndPiggybacksTheAck() {
        var pair = LinkPair()
        let sent = pair.sendFromA(3)
        #expect(sent.map(\.sequence) == [1, 2, 3])
        #expect(sent.allSatisfy { $0.receiver == .agent(AgentID(unchecked: "b")) && $0.receiverIncarnation == 2 })
        #expect(pair.toB(sent).isEmpty)
        #expect(pair.deliveredToB == [1, 2, 3])
        let reply = pair.sendFromB()
        #expect(reply.count == 1 && reply[0].flags.contains(.acknowledges) && reply[0].ack == 3)
        _ = pair.toA(reply)
        #expect(pair.a.outstanding == 0)
        #expect(pair.a.nextDeadline == nil || pair.a.nextDeadline! > pair.now)
    }

    @Test func retransmitsALostMessageAndDeliversEachOnce() {
        var pair = LinkPair()
        let sent = pair.sendFromA(2)
        _ = pair.toB([sent[1]])  // the first is lost
        #expect(pair.deliveredToB == [2])
        pair.advance(.milliseconds(199))
        #expect(pair.tickA().isEmpty)
        pair.advance(.milliseconds(1))
        let retransmitted = pair.tickA()
        #expect(retransmitted.map(\.sequence) == [1, 2])
        _ = pair.toB(retransmitted)
        #expect(pair.deliveredToB == [2, 1])
        #expect(pair.b.statistics.duplicates == 1)
        #expect(pair.b.cumulativeAck == 2)
    }

    @Test func dropsDuplicatesAndAcksThemAtOnce() {
        var pair = LinkPair()
        let sent = pair.sendFromA()
        _ = pair.toB(sent + sent + sent)
        #expect(pair.deliveredToB == [1])
        #expect(pair.b.statistics.duplicates == 2)
        let ack = pair.tickB()
        #expect(ack.count == 1 && ack[0].kind == .ack && ack[0].ack == 1 && ack[0].sequence == 0)
        _ = pair.toA(ack)
        #expect(pair.a.outstanding == 0)
    }

    @Test func reorderedMessagesAreEachDeliveredOnce() {
        var pair = LinkPair()
        let sent = pair.sendFromA(4)
        _ = pair.toB([sent[3], sent[0], sent[2], sent[1], sent[3]])
        #expect(pair.deliveredToB == [4, 1, 3, 2])
        #expect(pair.b.cumulativeAck == 4)
    }

    @Test func delaysAStandaloneAckThenSendsIt() {
        var pair = LinkPair()
        #expect(!pair.b.owesAck)
        _ = pair.toB(pair.sendFromA())
        pair.advance(.milliseconds(4))
        #expect(pair.tickB().isEmpty)
        // A side that left now would leave a unacknowledged peer behind (the relay's stall).
        #expect(pair.b.owesAck)
        pair.advance(.milliseconds(1))
        let ack = pair.tickB()
        #expect(ack.map(\.kind) == [.ack])
        #expect(!pair.b.owesAck)
        #expect(pair.b.statistics.acksSent == 1)
        pair.advance(.milliseconds(10))
        #expect(pair.tickB().isEmpty)
    }

    @Test func acksAtOnceAfterManyMessages() {
        var configuration = ReliableLink.Configuration()
        configuration.ackEvery = 4
        var pair = LinkPair(configuration: configuration)
        _ = pair.toB(pair.sendFromA(4))
        #expect(pair.tickB().map(\.kind) == [.ack])
    }

    @Test func backsOffExponentiallyThenGivesUp() {
        var configuration = ReliableLink.Configuration()
        configuration.maxAttempts = 4
        var pair = LinkPair(configuration: configuration)
        _ = pair.sendFromA()
        var gaps: [Int64] = []
        var last = pair.now
        while !pair.unreachable {
            guard let deadline = pair.a.nextDeadline else { break }
            pair.now = deadline
            let resent = pair.tickA()
            if !resent.isEmpty {
                gaps.append(Int64((pair.now.nanoseconds - last.nanoseconds) / 1_000_000))
                last = pair.now
            }
        }
        #expect(gaps == [200, 400, 800, 1600])
        #expect(pair.unreachable)
        // What a stalled sender's error shows.
        #expect(pair.a.diagnosis.contains("1 unacked from seq 1"))
        #expect(pair.a.diagnosis.contains("gave up after 5 timeouts"))
    }

    @Test func progressResetsTheBackoff() {
        var pair = LinkPair()
        let first = pair.sendFromA()
        pair.advance(.milliseconds(200))
        _ = pair.tickA()  // retransmit, timeout now 400 ms
        _ = pair.toA(pair.sendFromB().map { var e = $0; e.ack = 0; return e })
        _ = pair.toB(first)
        pair.advance(.milliseconds(5))
        _ = pair.toA(pair.tickB())  // ack 1: progress
        _ = pair.sendFromA()
        #expect(pair.a.nextDeadline == pair.now.adding(.milliseconds(200)))
    }

    @Test func queuesBeyondTheWindowAndDrainsOnAck() {
        var configuration = ReliableLink.Configuration()
        configuration.window = 2
        var pair = LinkPair(configuration: configuration)
        let sent = pair.sendFromA(5)
        #expect(sent.map(\.sequence) == [1, 2])
        #expect(pair.a.outstanding == 5)
        _ = pair.toB(sent)
        pair.advance(.milliseconds(5))
        let more = pair.toA(pair.tickB())
        #expect(more.map(\.sequence) == [3, 4])
    }

    @Test func dropsWhatIsFarBeyondTheReceiveWindow() {
        var configuration = ReliableLink.Configuration()
        configuration.receiveWindow = 2
        var pair = LinkPair(configuration: configuration)
        let sent = pair.sendFromA(3)
        _ = pair.toB([sent[2]])
        #expect(pair.deliveredToB.isEmpty)
        #expect(pair.b.statistics.outOfWindow == 1)
    }

    @Test(arguments: 0..<200)
    func lossyNetworkDeliversEverythingExactlyOnce(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed), key: "lossy-link")
        var pair = LinkPair()
        var inFlightToB: [Envelope] = []
        var inFlightToA: [Envelope] = []
        let total = 50
        var sentCount = 0
        func perturb(_ envelopes: [Envelope]) -> [Envelope] {
            var out: [Envelope] = []
            for envelope in envelopes {
                let roll = rng.next(below: 100)
                if roll < 20 { continue }  // dropped
                out.append(envelope)
                if roll < 30 { out.append(envelope) }  // duplicated
            }
            rng.shuffle(&out)  // reordered
            return out
        }
        for _ in 0..<2_000 {
            if sentCount < total, rng.next(below: 3) == 0 {
                inFlightToB += perturb(pair.sendFromA())
                sentCount += 1
            }
            if rng.next(below: 4) == 0 { inFlightToA += perturb(pair.sendFromB()) }
            let toB = inFlightToB
            inFlightToB.removeAll()
            inFlightToA += perturb(pair.toB(toB))
            let toA = inFlightToA
            inFlightToA.removeAll()
            inFlightToB += perturb(pair.toA(toA))
            pair.advance(.milliseconds(Int64(rng.next(below: 50))))
            inFlightToB += perturb(pair.tickA())
            inFlightToA += perturb(pair.tickB())
            if sentCount == total, pair.a.outstanding == 0 { break }
        }
        #expect(!pair.unreachable, "seed \(seed)")
        #expect(pair.deliveredToB.sorted() == Array(1...UInt64(total)), "seed \(seed)")
        #expect(Set(pair.deliveredToA).count == pair.deliveredToA.count, "seed \(seed)")
        #expect(pair.a.outstanding == 0, "seed \(seed)")
    }
}
