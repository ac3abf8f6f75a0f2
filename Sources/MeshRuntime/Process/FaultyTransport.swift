import Foundation
public import MeshCore
import MeshAgents
import Synchronization

/// The coordinator's transport with a scenario's network faults in the path: every message it
/// sends or receives passes ``NetworkFaults``, which loses, duplicates or holds it back.
///
/// It wraps the real transport, so the faults happen where a bad network would put them —
/// between the coordinator's reliable streams and the agents' — and the reliable streams,
/// negotiation fencing and deduplication must make up for them (docs/ARCHITECTURE.md, "Faults").
final class FaultyTransport: MeshTransport {
    let inbound = InboundQueue()
    private let inner: any MeshTransport
    private let faults: Mutex<NetworkFaults>
    private let clock = SystemClock()
    private let pump = Mutex<Task<Void, Never>?>(nil)

    init(wrapping inner: any MeshTransport, faults: NetworkFaults) {
        self.inner = inner
        self.faults = Mutex(faults)
        let task = Task { [inbound, inner] in
            while let batch = await inner.inbound.next() {
                let (now, later) = self.apply(to: batch, inbound: true)
                for (delay, copies) in later {
                    Task {
                        try? await Task.sleep(for: delay)
                        inbound.push(copies)
                    }
                }
                inbound.push(now)
            }
            inbound.finish()
        }
        self.pump.withLock { $0 = task }
    }

    /// What the faults have done, one line per fault.
    var summary: [String] {
        self.faults.withLock { faults in
            faults.counts.map { entry in
                "\(entry.fault.action.rawValue) \(entry.fault.target): dropped=\(entry.counts.dropped) "
                    + "duplicated=\(entry.counts.duplicated) delayed=\(entry.counts.delayed)"
            }
        }
    }

    /// Journals what each fault did, as physical `network-fault` events (a lost line is only a figure).
    func record(in journal: any JournalSink) {
        let now = self.clock.now()
        try? journal.appendPhysical(self.summary.map { PhysicalEvent(kind: "network-fault", agent: "coordinator", detail: $0, at: now) })
    }

    func subscribe(_ topic: Topic) throws(TransportError) { try self.inner.subscribe(topic) }

    func unsubscribe(_ topic: Topic) throws(TransportError) { try self.inner.unsubscribe(topic) }

    func send(_ messages: [WireMessage]) throws(TransportError) {
        let (now, later) = self.apply(to: messages, inbound: false)
        for (delay, copies) in later {
            Task { [inner] in
                try? await Task.sleep(for: delay)
                try? inner.send(copies)
            }
        }
        guard !now.isEmpty else { return }
        try self.inner.send(now)
    }

    /// The messages that go now (lost ones left out, duplicated ones twice) and those held back.
    private func apply(to messages: [WireMessage], inbound: Bool) -> (now: [WireMessage], later: [(Duration, [WireMessage])]) {
        var now: [WireMessage] = []
        var later: [(Duration, [WireMessage])] = []
        for message in messages {
            let verdict = self.verdict(on: message, inbound: inbound)
            guard verdict.copies > 0 else { continue }
            let copies = Array(repeating: message, count: verdict.copies)
            if verdict.delay > .zero {
                later.append((verdict.delay, copies))
            } else {
                now += copies
            }
        }
        return (now, later)
    }

    func shutdown() async {
        await self.inner.shutdown()
        await self.pump.withLock { $0 }?.value
    }

    private func verdict(on message: WireMessage, inbound: Bool) -> NetworkFaults.Verdict {
        guard let envelope = try? Envelope(decoding: message.payload) else { return .deliver }
        let peer: NetworkFaults.Peer
        if inbound {
            peer = .agent(envelope.sender)
        } else {
            peer = Self.peer(of: envelope.receiver)
        }
        let now = self.clock.now()
        return self.faults.withLock { $0.decide(envelope.kind, peer: peer, simTime: envelope.simTime, at: now) }
    }

    /// The peer a topic names: `a/<id>/`, `r/<role>/`, or everyone.
    static func peer(of topic: Topic) -> NetworkFaults.Peer {
        let text = String(decoding: topic.bytes, as: UTF8.self)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .everyone }
        switch parts[0] {
        case "a": return AgentID(String(parts[1])).map { .agent($0) } ?? .everyone
        case "r": return Role(rawValue: String(parts[1])).map { .role($0) } ?? .everyone
        default: return .everyone
        }
    }
}
