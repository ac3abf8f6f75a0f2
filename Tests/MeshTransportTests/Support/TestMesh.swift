import Foundation
import MeshCore
import MeshTesting
import MeshZeroMQ
import Synchronization
import Testing

/// The transports the contract suite runs against.
enum TransportKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, inproc, ipc, tcp

    var testDescription: String { self.rawValue }
}

/// Limits of one test participant, mapped onto each transport's options.
struct ParticipantLimits: Sendable {
    var inboundLimit = 16_384
    var maximumMessageSize = Envelope.maxEncodedSize
}

/// A mesh of one transport kind for one test: the hub or forwarder, and every participant made,
/// torn down in order by ``teardown()``.
final class TestMesh: Sendable {
    let kind: TransportKind
    private let network: InMemoryNetwork?
    private let context: ZeroMQContext?
    let forwarder: ZeroMQForwarder?
    private let directory: URL?
    /// tcp only: the keys of the forwarder and the participants.
    private let security: TestSecurity?
    private let participants = Mutex<[any MeshTransport]>([])

    init(_ kind: TransportKind) throws {
        self.kind = kind
        self.security = kind == .tcp ? try TestSecurity() : nil
        switch kind {
        case .memory:
            self.network = InMemoryNetwork()
            self.context = nil
            self.forwarder = nil
            self.directory = nil
        case .inproc:
            // inproc:// lives in one context: the forwarder and every participant share it.
            let context = try ZeroMQContext()
            self.network = nil
            self.context = context
            self.directory = nil
            self.forwarder = try ZeroMQForwarder(
                binding: MeshEndpoint("inproc://mesh-\(UUID().uuidString)"), context: context)
        case .ipc:
            // Short, unique paths: sun_path holds 107 bytes.
            let directory = URL(fileURLWithPath: "/tmp/mw-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            self.network = nil
            self.context = nil
            self.directory = directory
            self.forwarder = try ZeroMQForwarder(binding: MeshEndpoint("ipc://\(directory.path)/mesh"))
        case .tcp:
            self.network = nil
            self.context = nil
            self.directory = nil
            self.forwarder = try ZeroMQForwarder(
                binding: MeshEndpoint("tcp://127.0.0.1:0"), options: .init(heartbeatInterval: .zero, security: self.security!.forwarder()))  // as above
        }
    }

    /// Adds a participant. Over ipc and tcp each owns its context, as separate processes would.
    func join(_ name: String, _ limits: ParticipantLimits = ParticipantLimits()) throws -> any MeshTransport {
        let transport: any MeshTransport
        if let network = self.network {
            transport = network.makeTransport(
                name: name,
                options: .init(inboundLimit: limits.inboundLimit, maximumMessageSize: limits.maximumMessageSize))
        } else {
            let options = ZeroMQTransport.Options(
                name: name, maximumMessageSize: limits.maximumMessageSize, inboundLimit: limits.inboundLimit,
                // CURVE encrypts every frame: a tcp participant moves about a third of what an ipc one
                // does (docs/BENCHMARKS.md), far less on a machine busy with other builds, so its
                // shutdown gets more time to flush a 100,000-message burst. And no ZMTP heartbeats:
                // with 500/1500 ms ones, 3 of 6 such bursts lost 12-25 % (the sender's PUB dropped the
                // connection mid-burst and discarded its queue; 0 of 3 without). The suite checks
                // the transport, which has no retransmission; in a mesh the reliable streams resend.
                linger: self.kind == .tcp ? .seconds(30) : .seconds(2),
                heartbeatInterval: self.kind == .tcp ? .zero : .milliseconds(500),
                security: try self.security?.participant())
            let endpoint = self.forwarder!.endpoint
            if let context = self.context {
                transport = try ZeroMQTransport(connectingTo: endpoint, context: context, options: options)
            } else {
                transport = try ZeroMQTransport(connectingTo: endpoint, options: options)
            }
        }
        self.participants.withLock { $0.append(transport) }
        return transport
    }

    /// Shuts every participant down, then the forwarder, then the shared context.
    func teardown() async {
        let participants = self.participants.withLock { $0 }
        for participant in participants { await participant.shutdown() }
        await self.forwarder?.stop()
        await self.context?.terminate()
        if let directory = self.directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Runs `body` with a fresh mesh and always tears it down, also when `body` throws.
    static func with<R>(_ kind: TransportKind, _ body: (TestMesh) async throws -> R) async throws -> R {
        let mesh = try TestMesh(kind)
        do {
            let result = try await body(mesh)
            await mesh.teardown()
            return result
        } catch {
            await mesh.teardown()
            throw error
        }
    }
}

/// A test's payloads: data messages carry (sender, sequence); probes carry a nonce.
enum Payload {
    static func data(sender: UInt8, sequence: Int, padding: Int = 0) -> [UInt8] {
        var bytes: [UInt8] = [0x44, sender]
        withUnsafeBytes(of: UInt32(sequence).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: repeatElement(0, count: padding))
        return bytes
    }

    static func isData(_ payload: [UInt8]) -> Bool { payload.first == 0x44 && payload.count >= 6 }

    static func sender(_ payload: [UInt8]) -> UInt8 { payload[1] }

    static func sequence(_ payload: [UInt8]) -> Int {
        Int(payload[2]) | Int(payload[3]) << 8 | Int(payload[4]) << 16 | Int(payload[5]) << 24
    }

    static func probe(_ nonce: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x50]
        withUnsafeBytes(of: nonce.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func isProbe(_ payload: [UInt8], _ nonce: UInt32) -> Bool { payload == self.probe(nonce) }

    static func isProbe(_ payload: [UInt8]) -> Bool { payload.first == 0x50 }

    static func marker(_ id: UInt8) -> [UInt8] { [0x4D, id] }
}

/// Consumes a transport's inbound queue on a task of its own and keeps what arrived.
final class Collector: Sendable {
    private struct State {
        var messages: [WireMessage] = []
        var finished = false
    }

    private let state = Mutex(State())

    init(_ transport: any MeshTransport) {
        let inbound = transport.inbound
        Task {
            while let batch = await inbound.next() {
                self.state.withLock { $0.messages.append(contentsOf: batch) }
            }
            self.state.withLock { $0.finished = true }
        }
    }

    var messages: [WireMessage] { self.state.withLock { $0.messages } }

    /// The data messages, without probes and markers.
    var data: [WireMessage] { self.messages.filter { Payload.isData($0.payload) } }

    var isFinished: Bool { self.state.withLock { $0.finished } }

    func contains(where predicate: (WireMessage) -> Bool) -> Bool {
        self.state.withLock { $0.messages.contains(where: predicate) }
    }

    /// Waits until `condition` holds, looking every 2 ms, for at most `timeout`.
    func wait(
        for what: String,
        timeout: Duration = .seconds(30),
        _ condition: ([WireMessage]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if self.state.withLock({ condition($0.messages) }) { return }
            guard ContinuousClock.now < deadline else {
                let count = self.state.withLock { $0.messages.count }
                throw TestFailure("timed out after \(timeout) waiting for \(what) (\(count) messages arrived)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until `count` data messages arrived.
    func waitForData(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        try await self.wait(for: "\(count) data messages", timeout: timeout) { messages in
            messages.lazy.filter { Payload.isData($0.payload) }.count >= count
        }
    }
}

/// A failed wait, with what was awaited.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Readiness by handshake, never by sleeping: `sender` publishes probes on `topic` until one
/// reaches `receiver` (which proves the subscription reached the forwarder and the sender's
/// PUB reached it), at most `tries` probes, waiting up to 25 ms for each.
func awaitReady(
    _ sender: any MeshTransport,
    _ receiver: Collector,
    on topic: Topic,
    tries: Int = 400
) async throws {
    let nonce = UInt32.random(in: 1...UInt32.max)
    let probe = Payload.probe(nonce)
    for _ in 0..<tries {
        try sender.send([WireMessage(topic: topic, payload: probe)])
        do {
            try await receiver.wait(for: "probe", timeout: .milliseconds(25)) { messages in
                messages.contains { $0.payload == probe }
            }
            return
        } catch is TestFailure {
            continue
        }
    }
    throw TestFailure("\(topic) never became ready after \(tries) probes")
}

/// The same handshake for a receiver nobody consumes yet: probes are looked for with `drain()`.
func awaitReady(_ sender: any MeshTransport, draining receiver: any MeshTransport, on topic: Topic) async throws {
    let nonce = UInt32.random(in: 1...UInt32.max)
    let probe = Payload.probe(nonce)
    for _ in 0..<400 {
        try sender.send([WireMessage(topic: topic, payload: probe)])
        let deadline = ContinuousClock.now + .milliseconds(25)
        while ContinuousClock.now < deadline {
            if receiver.inbound.drain().joined().contains(where: { $0.payload == probe }) { return }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
    throw TestFailure("\(topic) never became ready")
}

/// A topic for test participant `name`.
func agentTopic(_ name: String) -> Topic { .agent(AgentID(unchecked: name)) }

/// Sends `count` data messages from `sender` (id `senderID`) to `topic`, `chunk` per call.
func sendData(
    _ sender: any MeshTransport,
    id senderID: UInt8,
    to topic: Topic,
    count: Int,
    chunk: Int = 1000,
    padding: Int = 0
) throws {
    var sequence = 0
    while sequence < count {
        let end = min(count, sequence + chunk)
        try sender.send(
            (sequence..<end).map {
                WireMessage(topic: topic, payload: Payload.data(sender: senderID, sequence: $0, padding: padding))
            })
        sequence = end
    }
}

/// Whether `messages` hold, for each sender, exactly sequences 0..<count in order.
func inOrderAndComplete(_ messages: [WireMessage], senders: [UInt8], count: Int) -> Bool {
    var next = [UInt8: Int]()
    for message in messages where Payload.isData(message.payload) {
        let sender = Payload.sender(message.payload)
        guard Payload.sequence(message.payload) == next[sender, default: 0] else { return false }
        next[sender, default: 0] += 1
    }
    return senders.allSatisfy { next[$0, default: 0] == count }
}
