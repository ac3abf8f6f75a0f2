import Foundation
import MeshCore
import Synchronization
@testable import MeshZeroMQ
import Testing

/// tcp with CURVE and the ZAP roster (docs/WIRE.md, "Security"): fail closed, nobody outside the
/// roster gets anything in or out, and an admitted peer can neither speak for another, nor send
/// another role's kinds, nor listen on another's topics.
@Suite("CURVE and ZAP on tcp", .serialized, .timeLimit(.minutes(2)))
struct CurveSecurityTests {
    /// A forwarder on 127.0.0.1 whose roster holds the coordinator and data-1, with the Meshwork gate.
    struct SecuredMesh {
        let server = try! CurveKeyPair.generate()
        let coordinatorKeys = try! CurveKeyPair.generate()
        let dataKeys = try! CurveKeyPair.generate()
        let forwarder: ZeroMQForwarder

        var forwarderRoster: [String: ForwarderSecurity.Peer] {
            [
                self.coordinatorKeys.publicKey: .init(id: .coordinator, role: .coordinator),
                self.dataKeys.publicKey: .init(id: AgentID(role: .data, instance: 1), role: .data),
            ]
        }

        init() throws {
            let roster: [String: ForwarderSecurity.Peer] = [
                self.coordinatorKeys.publicKey: .init(id: .coordinator, role: .coordinator),
                self.dataKeys.publicKey: .init(id: AgentID(role: .data, instance: 1), role: .data),
            ]
            self.forwarder = try ZeroMQForwarder(
                binding: MeshEndpoint("tcp://127.0.0.1:0"),
                options: .init(security: ForwarderSecurity(keyPair: self.server, roster: roster)))
        }

        func join(_ name: String, keys: CurveKeyPair, serverKey: String? = nil) throws -> ZeroMQTransport {
            try ZeroMQTransport(
                connectingTo: self.forwarder.endpoint,
                options: .init(name: name, security: TransportSecurity(keyPair: keys, serverKey: serverKey ?? self.server.publicKey)))
        }
    }

    static let data1 = AgentID(role: .data, instance: 1)
    static let nonces = Mutex<UInt64>(1_000_000)

    static func envelope(_ kind: MessageKind, from sender: AgentID, to receiver: Topic, nonce: UInt64 = 0) -> WireMessage {
        WireMessage(
            topic: receiver,
            payload: Envelope(kind: kind, sender: sender, senderIncarnation: 1, receiver: receiver, sequence: nonce).encoded())
    }

    /// Sends heartbeats from `sender` as `id` until one reaches `inbox`: both connections are up.
    static func awaitFlow(_ sender: ZeroMQTransport, as id: AgentID, to topic: Topic, _ inbox: Collector) async throws {
        for _ in 0..<400 {
            // Fresh on every call: a heartbeat an earlier call delivered proves nothing now.
            let nonce = Self.nonces.withLock { next in
                defer { next += 1 }
                return next
            }
            try sender.send([Self.envelope(.heartbeat, from: id, to: topic, nonce: nonce)])
            do {
                try await inbox.wait(for: "heartbeat", timeout: .milliseconds(25)) { messages in
                    messages.contains { (try? Envelope(decoding: $0.payload))?.sequence == nonce }
                }
                return
            } catch is TestFailure {
                continue
            }
        }
        throw TestFailure("no heartbeat from \(id) reached \(topic)")
    }

    @Test func tcpWithoutKeysRefusesToStart() throws {
        #expect {
            try ZeroMQForwarder(binding: MeshEndpoint("tcp://127.0.0.1:0"))
        } throws: { error in
            (error as? TransportError)?.code == .security && "\(error)".contains("fail closed")
        }
        #expect {
            try ZeroMQTransport(connectingTo: MeshEndpoint("tcp://127.0.0.1:5555"))
        } throws: { error in
            (error as? TransportError)?.code == .security && "\(error)".contains("fail closed")
        }
        let keys = try CurveKeyPair.generate()
        #expect {
            try ZeroMQForwarder(
                binding: MeshEndpoint("tcp://127.0.0.1:0"), options: .init(security: ForwarderSecurity(keyPair: keys, roster: [:])))
        } throws: { error in
            (error as? TransportError)?.code == .security && "\(error)".contains("empty roster")
        }
    }

    @Test func keysAreZ85AndTheSecretGivesThePublic() throws {
        let pair = try CurveKeyPair.generate()
        #expect(CurveKeyPair.isKey(pair.publicKey) && CurveKeyPair.isKey(pair.secretKey))
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        #expect(!"\(pair)".contains(pair.secretKey))
        #expect(throws: TransportError.self) { try CurveKeyPair(secretKey: "short") }
        #expect(throws: TransportError.self) { try TransportSecurity(keyPair: pair, serverKey: String(repeating: "\"", count: 40)) }
    }

    /// An agent whose key is not in the roster (with the right server key) and one with a roster
    /// key but the wrong server key: neither delivers a message nor receives one, while the
    /// admitted peers talk both ways.
    @Test func keysOutsideTheRosterGetNothingInAndNothingOut() async throws {
        let mesh = try SecuredMesh()
        let coordinator = try mesh.join("coordinator", keys: mesh.coordinatorKeys)
        let data = try mesh.join("data-1", keys: mesh.dataKeys)
        let stranger = try mesh.join("stranger", keys: try CurveKeyPair.generate())
        let impostor = try mesh.join("impostor", keys: mesh.dataKeys, serverKey: try CurveKeyPair.generate().publicKey)
        try coordinator.subscribe(.agent(.coordinator))
        for transport in [data, stranger, impostor] {
            try transport.subscribe(.agent(Self.data1))
            try transport.subscribe(.broadcast)
        }
        let toCoordinator = Collector(coordinator)
        let toData = Collector(data)
        let toStranger = Collector(stranger)
        let toImpostor = Collector(impostor)
        // The outsiders try first, as the agent they claim to be and as themselves.
        for transport in [stranger, impostor] {
            try transport.send((0..<50).map { Self.envelope(.hello, from: Self.data1, to: .agent(.coordinator), nonce: UInt64($0)) })
        }
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .agent(Self.data1), toData)
        try coordinator.send((0..<20).map { Self.envelope(.heartbeat, from: .coordinator, to: .broadcast, nonce: UInt64(7_000 + $0)) })
        try await toData.wait(for: "20 broadcasts") { $0.filter { (try? Envelope(decoding: $0.payload))?.receiver == .broadcast }.count >= 20 }
        // ZAP refused the stranger (libzmq 4.3.4 does not retry after a ZAP 400); the impostor fails the handshake.
        let deadline = ContinuousClock.now + .seconds(10)
        while mesh.forwarder.statistics.deniedConnections == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(mesh.forwarder.statistics.deniedConnections >= 1)
        #expect(!toCoordinator.contains { (try? Envelope(decoding: $0.payload))?.kind == .hello }, "an outsider's hello got in")
        #expect(toStranger.messages.isEmpty && toImpostor.messages.isEmpty, "an outsider received messages")
        #expect(stranger.statistics.received == 0 && impostor.statistics.received == 0)
        for transport in [coordinator, data, stranger, impostor] { await transport.shutdown() }
        await mesh.forwarder.stop()
    }

    /// A plaintext ZMTP peer (no CURVE at all) on both of the forwarder's ports: its messages are
    /// never forwarded and it never receives one.
    @Test func aPlaintextPeerGetsNothingInAndNothingOut() async throws {
        let mesh = try SecuredMesh()
        let coordinator = try mesh.join("coordinator", keys: mesh.coordinatorKeys)
        let data = try mesh.join("data-1", keys: mesh.dataKeys)
        try coordinator.subscribe(.agent(.coordinator))
        try data.subscribe(.broadcast)
        let toCoordinator = Collector(coordinator)
        let toData = Collector(data)

        let context = try ZeroMQContext()
        let publisher = try ZeroMQSocket(.pub, in: context, label: "plaintext")
        let subscriber = try ZeroMQSocket(.sub, in: context, label: "plaintext")
        try publisher.set(.linger, Int32(0))
        try subscriber.set(.linger, Int32(0))
        try publisher.connect(mesh.forwarder.endpoint.xsubEndpoint)
        try subscriber.connect(mesh.forwarder.endpoint.xpubEndpoint)
        try subscriber.subscribe([])
        let hello = Self.envelope(.hello, from: Self.data1, to: .agent(.coordinator), nonce: 99)
        for _ in 0..<50 {
            _ = try publisher.send(hello.topic.bytes, more: true)
            _ = try publisher.send(hello.payload, more: false)
        }
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .broadcast, toData)
        for _ in 0..<50 {
            _ = try publisher.send(hello.topic.bytes, more: true)
            _ = try publisher.send(hello.payload, more: false)
        }
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        let frame = Frame()
        #expect(try !subscriber.receive(into: frame), "the plaintext subscriber received a frame")
        #expect(!toCoordinator.contains { (try? Envelope(decoding: $0.payload))?.kind == .hello }, "the plaintext hello got in")
        publisher.close()
        subscriber.close()
        await context.terminate()
        for transport in [coordinator, data] { await transport.shutdown() }
        await mesh.forwarder.stop()
    }

    /// An admitted agent that speaks for the coordinator, sends the coordinator's kinds, sends
    /// bytes that are no envelope, or subscribes to another agent's topic: every such message and
    /// subscription is refused and counted by reason, and its own honest messages still flow.
    @Test func anAdmittedAgentCannotSpoofSendForbiddenKindsOrEavesdrop() async throws {
        let mesh = try SecuredMesh()
        let coordinator = try mesh.join("coordinator", keys: mesh.coordinatorKeys)
        let data = try mesh.join("data-1", keys: mesh.dataKeys)
        try coordinator.subscribe(.agent(.coordinator))
        try data.subscribe(.agent(Self.data1))
        try data.subscribe(.agent(AgentID(role: .model, instance: 1)))  // not its own: refused
        let toCoordinator = Collector(coordinator)
        let toData = Collector(data)
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .agent(Self.data1), toData)

        let model1 = Topic.agent(AgentID(role: .model, instance: 1))
        try data.send(
            [
                Self.envelope(.award, from: .coordinator, to: .agent(.coordinator), nonce: 1),  // spoofed sender
                Self.envelope(.award, from: Self.data1, to: .agent(.coordinator), nonce: 2),  // a coordinator's kind
                WireMessage(topic: .agent(.coordinator), payload: [1, 0x77, 0, 0]),  // unknown kind, truncated
                WireMessage(topic: .agent(.coordinator), payload: [9] + [UInt8](repeating: 0, count: 60)),  // version 9
            ])
        try coordinator.send([Self.envelope(.award, from: .coordinator, to: model1, nonce: 3)])
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .agent(Self.data1), toData)

        let refused = mesh.forwarder.statistics.refusedMessages
        #expect(refused[.spoofedSender] == 1 && refused[.forbiddenKind] == 1 && refused[.malformed] == 2, "\(refused)")
        #expect(mesh.forwarder.statistics.refusedSubscriptions >= 1)
        #expect(!toCoordinator.contains { (try? Envelope(decoding: $0.payload))?.kind != .heartbeat }, "a refused message got in")
        #expect(!toData.contains { $0.topic == model1 }, "data-1 heard model-1's award")
        for transport in [coordinator, data] { await transport.shutdown() }
        await mesh.forwarder.stop()
    }

    /// Key rotation (docs/MULTI-HOST.md): a second key for data-1 is admitted by an update
    /// (nothing dropped), data-1's transport re-keys to it, and removing the first key drops every
    /// connection: the peer still on the removed key gets nothing in and nothing out afterwards,
    /// while the coordinator and data-1 (on its new key) talk again after reconnecting.
    @Test func aRevokedKeyIsDroppedAndGetsNothingInOrOut() async throws {
        let mesh = try SecuredMesh()
        let newKeys = try CurveKeyPair.generate()
        let coordinator = try mesh.join("coordinator", keys: mesh.coordinatorKeys)
        let data = try mesh.join("data-1", keys: mesh.dataKeys)
        try coordinator.subscribe(.agent(.coordinator))
        try data.subscribe(.agent(Self.data1))
        try data.subscribe(.broadcast)
        let toCoordinator = Collector(coordinator)
        let toData = Collector(data)
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)

        // Overlap: both keys of data-1 are admitted; adding a key drops nothing.
        let security = ForwarderSecurity(keyPair: mesh.server, roster: [
            mesh.coordinatorKeys.publicKey: .init(id: .coordinator, role: .coordinator),
            mesh.dataKeys.publicKey: .init(id: Self.data1, role: .data),
            newKeys.publicKey: .init(id: Self.data1, role: .data),
        ])
        try await mesh.forwarder.update(security: security)
        #expect(mesh.forwarder.statistics.securityUpdates == 1 && mesh.forwarder.statistics.connectionResets == 0)
        try data.rekey(TransportSecurity(keyPair: newKeys, serverKey: mesh.server.publicKey))
        // A peer that stays on the old key, admitted while the overlap lasts.
        let old = try mesh.join("old", keys: mesh.dataKeys)
        try old.subscribe(.agent(Self.data1))
        try old.subscribe(.broadcast)
        let toOld = Collector(old)
        try await Self.awaitFlow(old, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .broadcast, toOld)

        // Retire the old key: every connection is dropped and authenticated again.
        var retired = security
        retired.roster[mesh.dataKeys.publicKey] = nil
        try await mesh.forwarder.update(security: retired)
        #expect(mesh.forwarder.statistics.connectionResets == 1)
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        try await Self.awaitFlow(coordinator, as: .coordinator, to: .broadcast, toData)
        let heardBefore = toOld.messages.count
        try old.send((0..<50).map { Self.envelope(.hello, from: Self.data1, to: .agent(.coordinator), nonce: UInt64(50_000 + $0)) })
        try coordinator.send((0..<20).map { Self.envelope(.heartbeat, from: .coordinator, to: .broadcast, nonce: UInt64(60_000 + $0)) })
        try await toData.wait(for: "20 broadcasts after the reset") { messages in
            messages.filter { (60_000..<60_020).contains((try? Envelope(decoding: $0.payload))?.sequence ?? 0) }.count >= 20
        }
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        #expect(
            !toCoordinator.contains { (try? Envelope(decoding: $0.payload)).map { $0.kind == .hello && (50_000..<50_050).contains($0.sequence) } ?? false },
            "the revoked key's hello got in")
        #expect(toOld.messages.count == heardBefore, "the revoked key still received messages")
        let deadline = ContinuousClock.now + .seconds(10)
        while mesh.forwarder.statistics.deniedConnections == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(mesh.forwarder.statistics.deniedConnections >= 1, "the revoked key's reconnection was not refused")
        for transport in [coordinator, data, old] { await transport.shutdown() }
        await mesh.forwarder.stop()
    }

    /// Bad input: updating a forwarder bound without keys, or with an empty roster, is refused.
    @Test func anUpdateNeedsASecuredForwarderAndARoster() async throws {
        let mesh = try SecuredMesh()
        await #expect(throws: TransportError.self) {
            try await mesh.forwarder.update(security: ForwarderSecurity(keyPair: mesh.server, roster: [:]))
        }
        await mesh.forwarder.stop()
        let directory = NSTemporaryDirectory() + "meshwork-rotation-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = try ZeroMQForwarder(binding: MeshEndpoint("ipc://\(directory)/m"))
        await #expect {
            try await plain.update(security: ForwarderSecurity(keyPair: mesh.server, roster: mesh.forwarderRoster))
        } throws: { error in
            (error as? TransportError)?.code == .security && "\(error)".contains("without CURVE keys")
        }
        await plain.stop()
    }

    /// One `send` of honest heartbeats around a spoofed award goes as one batch: the forwarder
    /// judges each envelope as if it came alone, so the honest ones arrive and the spoofed one is
    /// refused and counted (docs/WIRE.md, "Security").
    @Test func aBatchIsCheckedEnvelopeByEnvelope() async throws {
        let mesh = try SecuredMesh()
        let coordinator = try mesh.join("coordinator", keys: mesh.coordinatorKeys)
        let data = try mesh.join("data-1", keys: mesh.dataKeys)
        try coordinator.subscribe(.agent(.coordinator))
        let toCoordinator = Collector(coordinator)
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        let before = mesh.forwarder.statistics

        let topic = Topic.agent(.coordinator)
        try data.send([
            Self.envelope(.heartbeat, from: Self.data1, to: topic, nonce: 11),
            Self.envelope(.award, from: .coordinator, to: topic, nonce: 12),  // spoofed sender
            Self.envelope(.heartbeat, from: Self.data1, to: topic, nonce: 13),
        ])
        try await toCoordinator.wait(for: "both honest heartbeats") { messages in
            let sequences = Set(messages.compactMap { (try? Envelope(decoding: $0.payload))?.sequence })
            return sequences.contains(11) && sequences.contains(13)
        }
        try await Self.awaitFlow(data, as: Self.data1, to: .agent(.coordinator), toCoordinator)
        let after = mesh.forwarder.statistics
        #expect(after.refusedMessages[.spoofedSender, default: 0] - before.refusedMessages[.spoofedSender, default: 0] == 1)
        #expect(after.forwardedBatches > before.forwardedBatches)
        #expect(!toCoordinator.contains { (try? Envelope(decoding: $0.payload))?.sequence == 12 }, "the spoofed award got in")
        for transport in [coordinator, data] { await transport.shutdown() }
        await mesh.forwarder.stop()
    }
}
