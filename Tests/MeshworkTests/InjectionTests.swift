import Foundation
import MeshProcessTesting
import MeshCore
import MeshRuntime
import MeshStore
@testable import MeshZeroMQ
import Synchronization
import Testing

/// Hostile input into a live mesh over tcp (docs/MULTI-HOST.md, "What is refused"): while a
/// scenario runs as processes, 10,000 messages come in from a plaintext peer, a key outside the
/// roster, and an admitted agent's stolen key (spoofed senders, the coordinator's kinds, bytes
/// that are no envelope, unknown kinds and versions, replays of an old incarnation, oversized
/// frames). No process crashes, nothing is accepted, and the digest is the fault-free one.
@Suite("Hostile input into a live mesh", .serialized)
struct InjectionTests {
    static let tokens = 1_500

    @Test func tenThousandHostileMessagesChangeNothing() async throws {
        let directory = try MeshworkBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = try MeshworkBinary.writeScenario(
            ProcessMeshTests.relayScenario(name: "hostile", tokens: Self.tokens), named: "s.yaml", in: directory)
        let hosts = try MeshworkBinary.writeScenario(
            "hosts: [{ name: here, address: 127.0.0.1 }]\ncoordinator: here\n", named: "h.yaml", in: directory)
        let runs = directory + "/runs"
        let injected = Mutex((count: 0, stillRunning: false))
        let result = try await MeshworkBinary.run(
            ["up", scenario, "--hosts", hosts, "--json", "--quiet", "--runs", runs], in: directory, timeout: .seconds(600)
        ) { pid in
            do {
                let (run, endpoint) = try await Self.waitForTheMesh(runs: runs)
                let count = try await Self.inject(into: endpoint, run: run)
                injected.withLock { $0 = (count, MeshworkBinary.isAlive(pid)) }
            } catch {
                Issue.record("injection failed: \(error)")
            }
        }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(result.json, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(injected.withLock { $0.count } == 10_000)
        #expect(injected.withLock { $0.stillRunning }, "the run was over before the injection ended; it proved nothing")
        #expect(json["digest"] as? String == ProcessMeshTests.referenceDigest(tokens: Self.tokens))
        #expect(json["restarts"] as? Int == 0, "a process crashed")
        #expect(json["lost"] as? Int == 0 && json["applied_twice"] as? Int == 0)
        #expect(json["handoffs"] as? Int == Self.tokens * 6)
        // The forwarder logged the refusals with the peer and the reason.
        let run = runs + "/" + (try FileManager.default.contentsOfDirectory(atPath: runs).first ?? "")
        let log = try String(contentsOfFile: run + "/logs/coordinator.log", encoding: .utf8)
        for reason in ["spoofedSender", "forbiddenKind", "malformed"] {
            #expect(log.contains("mesh.reason=\(reason)") && log.contains("mesh.peer=monitoring-1"), "no \(reason) refusal logged")
        }
        #expect(log.contains("refused a connection"), "the stranger's key was not refused by ZAP")
        #expect(log.contains("refused a subscription"), "the stolen key's eavesdropping was not refused")
    }

    /// The run directory and the endpoint the coordinator bound (from its physical journal), once
    /// hand-offs are being journaled.
    static func waitForTheMesh(runs: String) async throws -> (run: String, endpoint: MeshEndpoint) {
        let deadline = ContinuousClock.now + .seconds(400)
        while ContinuousClock.now < deadline {
            if let name = (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first {
                let run = runs + "/" + name
                if MeshworkBinary.journaledRecords(runDirectory: run) >= 20, let store = try? RunStore.openReadOnly(at: run) {
                    let detail = (try? store.physicalEvents(kind: "coordinator-started"))?.last?.detail ?? ""
                    try? store.close()
                    if let range = detail.range(of: "endpoint=") {
                        return (run, try MeshEndpoint(String(detail[range.upperBound...].prefix { $0 != " " })))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw InjectionFailure(description: "the mesh never started journaling")
    }

    /// Sends 10,000 hostile messages; returns how many were handed to the sockets.
    static func inject(into endpoint: MeshEndpoint, run: String) async throws -> Int {
        let monitoring = AgentID(role: .monitoring, instance: 1)
        let stolen = try MeshKeys.readSecret(path: run + "/keys/monitoring-1.key")
        let serverKey = try MeshKeys.readPublicKey(run + "/keys/coordinator.pub")
        var count = 0
        func envelope(_ kind: MessageKind, from sender: AgentID, incarnation: UInt64 = 1, to topic: Topic, _ i: Int) -> WireMessage {
            WireMessage(
                topic: topic,
                payload: Envelope(
                    kind: kind, flags: [.sequenced], sender: sender, senderIncarnation: incarnation, receiver: topic,
                    sequence: UInt64(i + 1), body: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: i % 64)
                ).encoded())
        }

        // 1. A plaintext peer: 1,000 hellos and shutdowns that never pass the CURVE handshake.
        let context = try ZeroMQContext()
        let plaintext = try ZeroMQSocket(.pub, in: context, label: "plaintext injector")
        try plaintext.set(.linger, Int32(0))
        try plaintext.connect(endpoint.xsubEndpoint)
        for i in 0..<1_000 {
            let message = envelope(i % 2 == 0 ? .hello : .shutdown, from: i % 2 == 0 ? monitoring : .coordinator, to: .broadcast, i)
            _ = try plaintext.send(message.topic.bytes, more: true)
            _ = try plaintext.send(message.payload, more: false)
            count += 1
        }

        // 2. A key outside the roster: 1,000 messages the ZAP handler never lets in.
        let stranger = try ZeroMQTransport(
            connectingTo: endpoint,
            options: .init(name: "stranger", security: TransportSecurity(keyPair: CurveKeyPair.generate(), serverKey: serverKey)))
        try stranger.subscribe(.broadcast)
        try stranger.send((0..<1_000).map { envelope(.result, from: monitoring, to: .agent(.coordinator), $0) })
        count += 1_000

        // 3. monitoring-1's stolen key: admitted, so every check past the handshake is exercised.
        let thief = try ZeroMQTransport(
            connectingTo: endpoint,
            options: .init(
                name: "thief", maximumMessageSize: 16 * 1024 * 1024,
                security: TransportSecurity(keyPair: stolen.keyPair, serverKey: serverKey)))
        try thief.subscribe(.agent(.coordinator))  // eavesdropping: refused
        var batch: [WireMessage] = []
        for i in 0..<2_000 {  // speaking for others
            let victim = i % 2 == 0 ? AgentID.coordinator : AgentID(role: .data, instance: 1)
            batch.append(envelope(i % 2 == 0 ? .award : .result, from: victim, to: .role(.data), i))
        }
        for i in 0..<2_000 {  // the coordinator's kinds, as itself
            let kinds: [MessageKind] = [.shutdown, .award, .welcome, .callForProposals, .evicted, .resultAck]
            batch.append(envelope(kinds[i % kinds.count], from: monitoring, to: .broadcast, i))
        }
        var random = SeededRandom(seed: 99, key: "garbage")
        for i in 0..<1_997 {  // not envelopes: garbage, truncated, unknown kinds and versions
            var bytes = Envelope(kind: .bid, sender: monitoring, senderIncarnation: 1, receiver: .agent(.coordinator)).encoded()
            switch i % 4 {
            case 0: bytes = (0..<Int(random.next(below: 200))).map { _ in UInt8(random.next(below: 256)) }
            case 1: bytes = Array(bytes.prefix(Int(random.next(below: UInt64(bytes.count)))))
            case 2: bytes[1] = 0xEE
            default: bytes[0] = UInt8(2 + random.next(below: 250))
            }
            batch.append(WireMessage(topic: .agent(.coordinator), payload: bytes))
        }
        for i in 0..<2_000 {  // replays of an old incarnation of monitoring-1: they reach the coordinator
            let kinds: [MessageKind] = [.hello, .heartbeat, .bid, .accept, .result, .ack, .goodbye]
            batch.append(envelope(kinds[i % kinds.count], from: monitoring, incarnation: UInt64(1 + i % 3), to: .agent(.coordinator), i))
        }
        try thief.send(batch)
        count += batch.count
        // Three frames over the mesh's 8 MiB limit: the forwarder cuts the connection; it reconnects.
        for _ in 0..<3 {
            try thief.send([WireMessage(topic: .agent(.coordinator), payload: [UInt8](repeating: 1, count: 9 * 1024 * 1024))])
            count += 1
        }
        // Give libzmq time to hand everything over before the sockets close.
        try await Task.sleep(for: .seconds(2))
        #expect(stranger.statistics.received == 0, "the stranger received messages")
        #expect(!thief.inbound.drain().joined().contains { $0.topic == .agent(.coordinator) }, "the thief heard the coordinator's mail")
        await stranger.shutdown()
        await thief.shutdown()
        plaintext.close()
        await context.terminate()
        return count
    }
}

/// A wait for the mesh that ran out.
struct InjectionFailure: Error, CustomStringConvertible {
    var description: String
}
