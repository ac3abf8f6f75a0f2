import Foundation
import MeshCore
@testable import MeshZeroMQ
import Testing

@Suite("ZeroMQ forwarder", .serialized, .timeLimit(.minutes(1)))
struct ZeroMQForwarderTests {
    @Test func tcpPortZeroBindsAPortPairAndReportsIt() async throws {
        let security = try TestSecurity().forwarder()
        let forwarder = try ZeroMQForwarder(binding: MeshEndpoint("tcp://127.0.0.1:0"), options: .init(security: security))
        let port = try #require(forwarder.endpoint.port)
        #expect(port > 0 && port < 65535)
        #expect(forwarder.endpoint.description == "tcp://127.0.0.1:\(port)")
        #expect(forwarder.endpoint.xpubEndpoint == "tcp://127.0.0.1:\(port + 1)")

        // The reported address is the real one: a second forwarder cannot have it.
        #expect {
            try ZeroMQForwarder(binding: forwarder.endpoint, options: .init(security: security))
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.code == .endpoint && error.reason.contains("tcp://127.0.0.1:\(port)") && error.errno != nil
        }
        await forwarder.stop()
    }

    @Test func bindingIntoAMissingDirectoryNamesTheEndpoint() {
        #expect {
            try ZeroMQForwarder(binding: MeshEndpoint("ipc:///nonexistent-\(UUID().uuidString.prefix(8))/mesh"))
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.code == .endpoint && error.reason.contains("/mesh.in") && error.errno != nil
        }
    }

    @Test func inprocNeedsASharedContext() throws {
        #expect(performing: { try ZeroMQForwarder(binding: MeshEndpoint("inproc://alone")) }, throws: { error in
            (error as? TransportError)?.code == .endpoint
        })
        #expect(performing: { try ZeroMQTransport(connectingTo: MeshEndpoint("inproc://alone")) }, throws: { error in
            (error as? TransportError)?.code == .endpoint
        })
        let keys = try TestSecurity(participants: 1)
        let security = try keys.participant()
        #expect(performing: { try ZeroMQTransport(connectingTo: MeshEndpoint("tcp://127.0.0.1:0"), options: .init(security: security)) }, throws: { error in
            (error as? TransportError)?.code == .endpoint
        })
    }

    /// A raw SUB (no Topic type to stop it) subscribes to a topic over Topic.maxLength and to a
    /// valid one; the forwarder applies the valid one only.
    @Test func subscriptionsLongerThanATopicAreRefused() async throws {
        let context = try ZeroMQContext()
        let forwarder = try ZeroMQForwarder(binding: MeshEndpoint("inproc://refuse-\(UUID().uuidString)"), context: context)
        let sender = try ZeroMQTransport(connectingTo: forwarder.endpoint, context: context)
        let long = Array("a/".utf8) + [UInt8](repeating: 0x78, count: Topic.maxLength) + Array("/".utf8)
        let valid = Array("a/ok/".utf8)
        let frame = Frame()
        do {
            let raw = try ZeroMQSocket(.sub, in: context, label: "raw test SUB")
            try raw.connect(forwarder.endpoint.xpubEndpoint)
            try raw.subscribe(long)
            try raw.subscribe(valid)

            func receiveTopic() async throws -> [UInt8]? {
                for _ in 0..<25 {
                    if try raw.receive(into: frame) {
                        let topic = frame.array
                        while frame.hasMore { _ = try raw.receive(into: frame) }
                        return topic
                    }
                    try await Task.sleep(for: .milliseconds(2))
                }
                return nil
            }
            // Ready once a message on the valid topic arrives (its subscription was read after the long one).
            var ready = false
            for _ in 0..<200 where !ready {
                try sender.send([WireMessage(topic: Topic(bytes: valid)!, payload: [0])])
                ready = try await receiveTopic() == valid
            }
            #expect(ready)
            #expect(forwarder.statistics.refusedSubscriptions == 1)

            // The long topic as a prefix of a message's topic: it would match if applied. (It is
            // over Topic.maxLength, so only a raw publisher could send it; test the prefix instead.)
            let matchingLong = Topic(bytes: Array(long.prefix(Topic.maxLength - 1)) + Array("/".utf8))!
            try sender.send([
                WireMessage(topic: matchingLong, payload: [1]),
                WireMessage(topic: Topic(bytes: valid)!, payload: [2]),
            ])
            var topics: [[UInt8]] = []
            while let topic = try await receiveTopic() {
                topics.append(topic)
                if topic == valid { break }
            }
            #expect(topics.allSatisfy { $0 == valid })
            raw.close()
        }
        await sender.shutdown()
        await forwarder.stop()
        await context.terminate()
    }

    /// The forwarder's XSUB refuses a frame over its limit by closing that publisher's connection;
    /// the publisher reconnects by itself and its later messages flow again.
    @Test(arguments: ["ipc", "tcp"])
    func aPublisherOverTheForwardersLimitIsCutOffAndReconnects(scheme: String) async throws {
        let address = scheme == "tcp" ? "tcp://127.0.0.1:0" : "ipc:///tmp/mw-\(UUID().uuidString.prefix(8))"
        let keys = scheme == "tcp" ? try TestSecurity(participants: 2) : nil
        let forwarder = try ZeroMQForwarder(
            binding: MeshEndpoint(address), options: .init(maximumMessageSize: 64 * 1024, security: keys?.forwarder()))
        let sender = try ZeroMQTransport(
            connectingTo: forwarder.endpoint, options: .init(name: "big-sender", security: try keys?.participant()))
        let receiver = try ZeroMQTransport(
            connectingTo: forwarder.endpoint, options: .init(name: "receiver", security: try keys?.participant()))
        try receiver.subscribe(agentTopic("receiver"))
        let inbox = Collector(receiver)
        do {
            try await awaitReady(sender, inbox, on: agentTopic("receiver"))
            try sender.send([WireMessage(topic: agentTopic("receiver"), payload: [UInt8](repeating: 0x44, count: 100 * 1024))])
            try await awaitReady(sender, inbox, on: agentTopic("receiver"))
            #expect(!inbox.contains { $0.payload.count > 64 * 1024 })
        } catch {
            Issue.record(error)
        }
        await sender.shutdown()
        await receiver.shutdown()
        await forwarder.stop()
        if scheme == "ipc" {
            // libzmq 4.3 leaves bound ipc paths behind; the forwarder removes its own.
            #expect(!FileManager.default.fileExists(atPath: String(forwarder.endpoint.xsubEndpoint.dropFirst(6))))
            #expect(!FileManager.default.fileExists(atPath: String(forwarder.endpoint.xpubEndpoint.dropFirst(6))))
        }
    }

    @Test func countsForwardedMessages() async throws {
        try await TestMesh.with(.inproc) { mesh in
            let sender = try mesh.join("sender")
            let receiver = try mesh.join("receiver")
            try receiver.subscribe(agentTopic("receiver"))
            let inbox = Collector(receiver)
            try await awaitReady(sender, inbox, on: agentTopic("receiver"))
            let before = mesh.forwarder!.statistics.forwarded
            try sendData(sender, id: 1, to: agentTopic("receiver"), count: 1_000)
            try await inbox.waitForData(1_000)
            #expect(mesh.forwarder!.statistics.forwarded - before >= 1_000)
            #expect(mesh.forwarder!.statistics.subscriptionChanges >= 1)
        }
    }
}
