internal import DequeModule
public import MeshCore
import Synchronization

/// A mesh in memory: a hub that routes every message, by topic prefix, to the inbound queue of
/// each participant subscribed to it, in order, and never drops one unless a test says so.
///
/// It stands in for the ZeroMQ mesh in tests of the layers above (agents, reliability,
/// simulation) and passes the same transport contract suite. A fault hook decides, for each
/// (message, receiver) pair, whether to deliver, drop, duplicate or hold the message back;
/// held messages are delivered later by ``releaseHeld(where:)``, after whatever was sent in
/// between, which is how a test injects loss, duplication and reordering.
///
/// Back-pressure: a participant's ``MeshTransport/inbound`` never holds more than its inbound
/// limit; the rest waits, in order, in the hub (which has no high-water mark: nothing is lost)
/// and moves in as the consumer catches up.
///
/// ```swift
/// let network = InMemoryNetwork()
/// let a = network.makeTransport(name: "data-1")
/// let b = network.makeTransport(name: "model-1")
/// try b.subscribe(.agent(AgentID(unchecked: "model-1")))
/// network.faultHook = { delivery in delivery.message.payload.first == 0 ? .drop : .deliver }
/// try a.send([message])
/// ```
public final class InMemoryNetwork: Sendable {
    /// One message on its way to one receiver, as the fault hook sees it.
    public struct Delivery: Hashable, Sendable {
        /// The message.
        public var message: WireMessage
        /// The sending transport's name.
        public var sender: String
        /// The receiving transport's name.
        public var receiver: String
    }

    /// What the fault hook does with one delivery.
    public enum Fault: Hashable, Sendable {
        /// Deliver it now (what happens without a hook).
        case deliver
        /// Lose it.
        case drop
        /// Deliver it twice, one right after the other.
        case duplicate
        /// Keep it in the hub until ``InMemoryNetwork/releaseHeld(where:)``.
        case holdBack
    }

    /// Decides the fate of each delivery.
    ///
    /// It runs under the network's lock, in the sender's call to `send`, once per receiver in
    /// the order participants were made: it must be a quick decision that never calls back into
    /// the network (take randomness from a seeded generator behind a `Mutex` of the test's own).
    public typealias FaultHook = @Sendable (Delivery) -> Fault

    /// Counters since the network was made.
    public struct Statistics: Hashable, Sendable {
        /// Messages put in an inbound queue (each copy of a duplicate counts).
        public var delivered = 0
        /// Deliveries the fault hook dropped.
        public var dropped = 0
        /// Deliveries the fault hook duplicated.
        public var duplicated = 0
        /// Deliveries the fault hook held back (released or not).
        public var heldBack = 0
        /// Held deliveries released.
        public var released = 0
        /// Messages a receiver refused as larger than its maximum message size.
        public var refused = 0
    }

    struct Participant {
        let name: String
        let inbound: InboundQueue
        let options: InMemoryTransport.Options
        var subscriptions: [Topic: Int] = [:]
        /// Messages past the inbound limit, in order.
        var backlog = Deque<WireMessage>()
        var pumping = false

        func wants(_ topic: Topic) -> Bool {
            self.subscriptions.keys.contains { $0.matches(topic) }
        }
    }

    struct State {
        /// Indexed by participant id; `nil` once shut down.
        var participants: [Participant?] = []
        var hook: FaultHook?
        var held: [(receiver: Int, delivery: Delivery)] = []
        var statistics = Statistics()
    }

    private let state = Mutex(State())

    /// How often a backlog is looked at while its consumer is behind.
    static let backlogRecheck = Duration.milliseconds(1)

    /// Makes an empty network with no fault hook.
    public init() {}

    /// The fault hook; `nil` delivers everything.
    public var faultHook: FaultHook? {
        get { self.state.withLock { $0.hook } }
        set { self.state.withLock { $0.hook = newValue } }
    }

    /// Adds a participant.
    public func makeTransport(name: String, options: InMemoryTransport.Options = .init()) -> InMemoryTransport {
        let inbound = InboundQueue()
        let id = self.state.withLock { state -> Int in
            state.participants.append(Participant(name: name, inbound: inbound, options: options))
            return state.participants.count - 1
        }
        return InMemoryTransport(network: self, id: id, name: name, inbound: inbound, options: options)
    }

    /// How many deliveries are held back.
    public var heldCount: Int { self.state.withLock { $0.held.count } }

    /// The deliveries held back, oldest first.
    public var held: [Delivery] { self.state.withLock { $0.held.map(\.delivery) } }

    /// Delivers the held-back deliveries that `predicate` selects, oldest first (to receivers
    /// still running), and returns how many were released. Others stay held.
    @discardableResult
    public func releaseHeld(where predicate: (Delivery) -> Bool = { _ in true }) -> Int {
        self.state.withLock { state in
            var keep: [(receiver: Int, delivery: Delivery)] = []
            var released: [Int: [WireMessage]] = [:]
            var order: [Int] = []
            for entry in state.held {
                guard predicate(entry.delivery) else {
                    keep.append(entry)
                    continue
                }
                if released[entry.receiver] == nil { order.append(entry.receiver) }
                released[entry.receiver, default: []].append(entry.delivery.message)
            }
            state.held = keep
            var count = 0
            for receiver in order {
                let messages = released[receiver]!
                count += messages.count
                self.enqueue(messages, to: receiver, in: &state)
            }
            state.statistics.released += count
            return count
        }
    }

    /// Counters since the network was made.
    public var statistics: Statistics { self.state.withLock { $0.statistics } }

    // MARK: - Called by transports

    func subscribe(_ id: Int, _ topic: Topic) throws(TransportError) {
        try self.withParticipant(id) { participant in participant.subscriptions[topic, default: 0] += 1 }
    }

    func unsubscribe(_ id: Int, _ topic: Topic) throws(TransportError) {
        try self.withParticipant(id) { participant in
            guard let count = participant.subscriptions[topic] else { return }
            participant.subscriptions[topic] = count > 1 ? count - 1 : nil
        }
    }

    func send(from id: Int, _ messages: [WireMessage]) throws(TransportError) {
        let closed = self.state.withLock { state -> Bool in
            guard let sender = state.participants[id] else { return true }
            var routed: [Int: [WireMessage]] = [:]
            var order: [Int] = []
            for message in messages {
                for receiver in state.participants.indices {
                    guard let participant = state.participants[receiver], participant.wants(message.topic) else { continue }
                    let delivery = Delivery(message: message, sender: sender.name, receiver: participant.name)
                    let fault = state.hook?(delivery) ?? .deliver
                    switch fault {
                    case .deliver:
                        if routed[receiver] == nil { order.append(receiver) }
                        routed[receiver, default: []].append(message)
                    case .duplicate:
                        if routed[receiver] == nil { order.append(receiver) }
                        routed[receiver, default: []].append(contentsOf: [message, message])
                        state.statistics.duplicated += 1
                    case .drop:
                        state.statistics.dropped += 1
                    case .holdBack:
                        state.held.append((receiver, delivery))
                        state.statistics.heldBack += 1
                    }
                }
            }
            for receiver in order { self.enqueue(routed[receiver]!, to: receiver, in: &state) }
            return false
        }
        if closed { throw TransportError(.closed, "the transport is shut down") }
    }

    func shutdown(_ id: Int) {
        let inbound = self.state.withLock { state -> InboundQueue? in
            defer { state.participants[id] = nil }
            return state.participants[id]?.inbound
        }
        inbound?.finish()
    }

    // MARK: - Delivery

    private func withParticipant(_ id: Int, _ body: (inout Participant) -> Void) throws(TransportError) {
        let found = self.state.withLock { state -> Bool in
            guard state.participants[id] != nil else { return false }
            body(&state.participants[id]!)
            return true
        }
        if !found { throw TransportError(.closed, "the transport is shut down") }
    }

    /// Puts messages in a receiver's inbound queue up to its limit, the rest in its backlog.
    private func enqueue(_ messages: [WireMessage], to id: Int, in state: inout State) {
        guard var participant = state.participants[id] else { return }
        let limit = participant.options.maximumMessageSize
        let accepted = messages.filter { $0.payload.count <= limit }
        state.statistics.refused += messages.count - accepted.count
        participant.backlog.append(contentsOf: accepted)
        state.statistics.delivered += self.moveBacklog(of: &participant)
        let startPump = !participant.backlog.isEmpty && !participant.pumping
        if startPump { participant.pumping = true }
        state.participants[id] = participant
        if startPump {
            Task { await self.pump(id) }
        }
    }

    /// Moves as much of the backlog as the inbound limit allows; returns how many moved.
    private func moveBacklog(of participant: inout Participant) -> Int {
        var moved = 0
        while !participant.backlog.isEmpty {
            let room = participant.options.inboundLimit - participant.inbound.depth
            guard room > 0 else { break }
            let count = min(room, participant.options.batchSize, participant.backlog.count)
            participant.inbound.push(Array(participant.backlog.prefix(count)))
            participant.backlog.removeFirst(count)
            moved += count
        }
        return moved
    }

    /// Feeds a backlog to its consumer as it catches up (the queue has no "consumed" signal, so
    /// this looks again every ``backlogRecheck``).
    private func pump(_ id: Int) async {
        while true {
            try? await Task.sleep(for: Self.backlogRecheck)
            let done = self.state.withLock { state -> Bool in
                guard var participant = state.participants[id] else { return true }
                state.statistics.delivered += self.moveBacklog(of: &participant)
                let done = participant.backlog.isEmpty
                if done { participant.pumping = false }
                state.participants[id] = participant
                return done
            }
            if done { return }
        }
    }
}

/// One participant of an ``InMemoryNetwork``.
public final class InMemoryTransport: MeshTransport {
    /// Limits of one participant, as ZeroMQ's transport has them.
    public struct Options: Sendable {
        /// The inbound queue never holds more than this many messages; the rest waits in the hub.
        public var inboundLimit: Int
        /// The most messages pushed to the inbound queue at once.
        public var batchSize: Int
        /// The largest payload sent (larger throws `.messageTooLarge`) or accepted (larger is refused).
        public var maximumMessageSize: Int

        /// Makes options.
        public init(inboundLimit: Int = 16_384, batchSize: Int = 512, maximumMessageSize: Int = Envelope.maxEncodedSize) {
            precondition(inboundLimit > 0 && batchSize > 0, "limits must be positive")
            self.inboundLimit = inboundLimit
            self.batchSize = batchSize
            self.maximumMessageSize = maximumMessageSize
        }
    }

    /// Inbound messages, in batches; single consumer.
    public let inbound: InboundQueue
    /// The name the fault hook sees for this participant.
    public let name: String
    /// The limits in force.
    public let options: Options

    private let network: InMemoryNetwork
    private let id: Int

    init(network: InMemoryNetwork, id: Int, name: String, inbound: InboundQueue, options: Options) {
        self.network = network
        self.id = id
        self.name = name
        self.inbound = inbound
        self.options = options
    }

    /// Starts receiving messages whose topic starts with `topic` (counted, as ZeroMQ's are).
    public func subscribe(_ topic: Topic) throws(TransportError) {
        try self.network.subscribe(self.id, topic)
    }

    /// Stops receiving messages of `topic`; a topic not subscribed is ignored.
    public func unsubscribe(_ topic: Topic) throws(TransportError) {
        try self.network.unsubscribe(self.id, topic)
    }

    /// Routes the messages at once, in order; throws `.messageTooLarge` (sending none) or `.closed`.
    public func send(_ messages: [WireMessage]) throws(TransportError) {
        let limit = self.options.maximumMessageSize
        for message in messages where message.payload.count > limit {
            throw TransportError(
                .messageTooLarge, "message to \(message.topic) of \(message.payload.count) bytes, at most \(limit) allowed")
        }
        try self.network.send(from: self.id, messages)
    }

    /// Leaves the network (what was sent is delivered already) and finishes ``inbound``.
    public func shutdown() async {
        self.network.shutdown(self.id)
    }
}
