import Foundation
import Logging
import MeshAgents
import MeshCore
import MeshZeroMQ
import Subprocess
import SystemPackage

/// Meshwork's own relay for `meshwork bench`: the raw relay's shape (source → 4 hops → sink, 6
/// processes, 64-byte payloads) with everything a mesh message carries — each payload in an
/// ``Envelope`` on a ``ReliableLink`` stream (sequence numbers, cumulative acks, retransmission,
/// dedup), sent through ``ZeroMQTransport`` and the mesh's ``ZeroMQForwarder`` as agents' messages
/// are. The forwarder runs in the `meshwork bench` process, as it runs in the coordinator's in a
/// mesh, so each hop is two ZeroMQ transfers (stage → forwarder → stage).
public enum MeshRelayBenchmark {
    /// What one stage measured, printed by `meshwork bench-stage --mesh` as a JSON line.
    public struct StageResult: Sendable, Codable {
        /// The stage's index, 0 (source) … hops (sink).
        public var index: Int
        /// Messages delivered to (or, for the source, acknowledged by) this stage.
        public var messages: Int
        /// Sink: seconds from its first delivered message to its last; source: from its first send
        /// to the last acknowledgement; hop: from its first delivery to its last forward acknowledged.
        public var seconds: Double
        /// Retransmissions this stage made.
        public var retransmitted: Int
        /// Duplicates this stage received and dropped.
        public var duplicates: Int
    }

    /// The relay's figure: the sink's rate, and the retransmissions of every stage.
    public struct Result: Sendable {
        /// Messages that reached the sink.
        public var messages: Int
        /// The sink's messages per second.
        public var messagesPerSecond: Double
        /// Retransmissions over all stages.
        public var retransmitted: Int
        /// Messages the forwarder passed (data and acks, all hops).
        public var forwarded: Int
        /// ZeroMQ messages the forwarder passed that were batches (``forwarded`` counts their envelopes).
        public var forwardedBatches: Int
    }

    /// Runs the relay: binds a forwarder here, starts `hops + 1` stage processes of this binary,
    /// and returns the sink's figure once every stage has exited.
    ///
    /// `batching: false` makes every stage send one envelope per ZeroMQ message
    /// (``ZeroMQTransport/Options/batching``), to measure what batches buy.
    public static func run(messages: Int, size: Int, hops: Int = 5, batching: Bool = true) async throws -> Result {
        precondition(messages > 0 && size > 0 && hops >= 1, "a relay needs messages, bytes and hops")
        let directory = "/tmp/meshwork-mrelay-\(ProcessEnvironment.pid)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let forwarder = try ZeroMQForwarder(binding: try MeshEndpoint("ipc://\(directory)/mesh"))
        let endpoint = forwarder.endpoint.description
        let executable = ProcessEnvironment.executablePath
        let outputs: [Int: String]
        do {
            // Every stage is waited for (each ends by itself, done or stalled), so a stall's error
            // shows every stuck stage's links, not only the first's.
            outputs = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                for index in 0...hops {
                    let arguments = [
                        "bench-stage", "--mesh", "--index", String(index), "--hops", String(hops), "--connect", endpoint,
                        "--count", String(messages), "--size", String(size),
                    ] + (batching ? [] : ["--unbatched"])
                    group.addTask {
                        let result = try await Subprocess.run(
                            .path(FilePath(executable)), arguments: Arguments(arguments),
                            output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
                        guard result.terminationStatus.isSuccess else {
                            return (index, nil, "stage \(index) failed (\(result.terminationStatus)): \(result.standardError)")
                        }
                        return (index, result.standardOutput, nil)
                    }
                }
                var outputs: [Int: String] = [:]
                var failures: [(Int, String)] = []
                for try await (index, output, failure) in group {
                    if let output { outputs[index] = output }
                    if let failure { failures.append((index, failure)) }
                }
                guard failures.isEmpty else {
                    let text = failures.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n")
                    throw RuntimeError(.process, "mesh relay failed:\n\(text)")
                }
                return outputs
            }
        } catch {
            await forwarder.stop()
            throw error
        }
        let forwarded = forwarder.statistics
        await forwarder.stop()
        var results: [StageResult] = []
        for index in 0...hops {
            guard let line = outputs[index]?.split(separator: "\n").last else {
                throw RuntimeError(.process, "mesh relay stage \(index) printed nothing")
            }
            results.append(try JSONDecoder().decode(StageResult.self, from: Data(line.utf8)))
        }
        let sink = results[hops]
        return Result(
            messages: sink.messages, messagesPerSecond: sink.seconds > 0 ? Double(sink.messages) / sink.seconds : 0,
            retransmitted: results.reduce(0) { $0 + $1.retransmitted }, forwarded: forwarded.forwarded,
            forwardedBatches: forwarded.forwardedBatches)
    }

    /// Runs stage `index` of a relay of `hops` hops in this process (`meshwork bench-stage --mesh`)
    /// and returns its JSON line. Throws when the mesh cannot be joined or nothing moves for `timeout`.
    public static func runStage(
        index: Int, hops: Int, connect: String, count: Int, size: Int, batching: Bool = true,
        timeout: Duration = .seconds(60)
    ) async throws -> String {
        ProcessEnvironment.prepareChildProcess()
        let transport = try ZeroMQTransport(
            connectingTo: try MeshEndpoint(connect), options: ZeroMQTransport.Options(name: "relay-\(index)", batching: batching))
        let stage = Stage(index: index, hops: hops, count: count, size: size, transport: transport)
        try transport.subscribe(.agent(stage.me))
        // Every stage's subscription must reach the forwarder before the source's first send,
        // or the first window is lost and waits for a retransmit.
        if index == 0 { try await Task.sleep(for: .milliseconds(300)) }
        let clock = SystemClock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Every batch that is ready goes to the stage in one call: one actor hop per
                // wake-up, not per batch.
                while let batch = await transport.inbound.next() {
                    await stage.handle(batch, then: transport.inbound.drain(), at: clock.now())
                }
            }
            group.addTask {
                await stage.start(at: clock.now())
                var lastProgress = (clock.now(), 0)
                while true {
                    try await Task.sleep(for: .milliseconds(2))
                    let now = clock.now()
                    let (done, progress) = await stage.tick(at: now)
                    if done { break }
                    if let unreachable = await stage.unreachable {
                        let diagnosis = await stage.diagnosis
                        await transport.shutdown()
                        throw RuntimeError(.timeout, "mesh relay stage \(index): \(unreachable); \(diagnosis)")
                    }
                    if progress != lastProgress.1 {
                        lastProgress = (now, progress)
                    } else if now.duration(since: lastProgress.0) > timeout {
                        let diagnosis = await stage.diagnosis
                        await transport.shutdown()
                        throw RuntimeError(
                            .timeout,
                            "mesh relay stage \(index): nothing moved for \(timeout); \(diagnosis); transport \(transport.statistics)")
                    }
                }
                await transport.shutdown()
            }
            try await group.waitForAll()
        }
        return String(decoding: try JSONEncoder().encode(await stage.result), as: UTF8.self)
    }

    /// One stage: its links up and down the chain, and its counters.
    actor Stage {
        static let incarnation: UInt64 = 1
        let index: Int
        let hops: Int
        let count: Int
        let payload: [UInt8]
        let transport: ZeroMQTransport
        let me: AgentID
        let upstream: AgentID?
        let downstream: AgentID?
        var up: ReliableLink?
        var down: ReliableLink?
        var actions: [ReliableLink.Action] = []
        var outbox: [WireMessage] = []
        /// The sender of the last envelope decoded, to skip checking it again (see ``receive(_:at:)``).
        var lastSender: AgentID?
        var sent = 0
        var delivered = 0
        var first: MonotonicTime?
        var last: MonotonicTime?
        var doneAt: MonotonicTime?
        /// Set when the down link gave up on its peer (``ReliableLink/Action/unreachable(unacknowledged:)``).
        var unreachable: String?

        init(index: Int, hops: Int, count: Int, size: Int, transport: ZeroMQTransport) {
            self.index = index
            self.hops = hops
            self.count = count
            self.payload = [UInt8](repeating: 0x6D, count: size)
            self.transport = transport
            self.me = Self.id(index)
            self.upstream = index > 0 ? Self.id(index - 1) : nil
            self.downstream = index < hops ? Self.id(index + 1) : nil
            if let upstream {
                self.up = ReliableLink(local: self.me, localIncarnation: Self.incarnation, peer: upstream, peerIncarnation: Self.incarnation)
            }
            if let downstream {
                self.down = ReliableLink(
                    local: self.me, localIncarnation: Self.incarnation, peer: downstream, peerIncarnation: Self.incarnation)
            }
        }

        static func id(_ index: Int) -> AgentID { AgentID(unchecked: "relay-\(index)") }

        var result: StageResult {
            let span = (self.last ?? .zero).duration(since: self.first ?? .zero)
            let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) * 1e-18
            let statistics = [self.up?.statistics, self.down?.statistics].compactMap { $0 }
            return StageResult(
                index: self.index, messages: self.index == 0 ? self.sent : self.delivered, seconds: seconds,
                retransmitted: statistics.reduce(0) { $0 + $1.retransmitted },
                duplicates: statistics.reduce(0) { $0 + $1.duplicates })
        }

        /// Both links' state and the stage's counters, for a stall's error.
        var diagnosis: String {
            let links = [self.up.map { "up link \($0.diagnosis)" }, self.down.map { "down link \($0.diagnosis)" }]
            return "sent \(self.sent), delivered \(self.delivered); " + links.compactMap { $0 }.joined(separator: "; ")
        }

        func start(at now: MonotonicTime) {
            self.pump(at: now)
            self.flush()
        }

        /// The source keeps its window full.
        private func pump(at now: MonotonicTime) {
            guard self.index == 0, self.down != nil else { return }
            if self.first == nil { self.first = now }
            while self.sent < self.count, self.down!.outstanding < 8192 {
                self.down!.send(kind: .result, body: self.payload, simTime: .zero, at: now, into: &self.actions)
                self.sent += 1
            }
            self.perform(at: now)
        }

        /// Takes `batch` and then the batches in `more`, each as its own: what one batch caused
        /// (forwards, a due ack) goes to the transport before the next is read, so a long drain
        /// delays no ack and the I/O thread sends while this one decodes.
        func handle(_ batch: [WireMessage], then more: [[WireMessage]] = [], at now: MonotonicTime) {
            self.take(batch, at: now)
            for batch in more { self.take(batch, at: now) }
        }

        private func take(_ batch: [WireMessage], at now: MonotonicTime) {
            self.receive(batch, at: now)
            // An ack owed after `ackEvery` messages goes with this batch's output, not at the next
            // tick (tick only does what is due).
            if self.up?.nextDeadline.map({ $0 <= now }) == true { self.up!.tick(at: now, into: &self.actions) }
            if self.down?.nextDeadline.map({ $0 <= now }) == true { self.down!.tick(at: now, into: &self.actions) }
            self.perform(at: now)
            self.pump(at: now)
            self.flush()
        }

        private func receive(_ batch: [WireMessage], at now: MonotonicTime) {
            for message in batch {
                // The previous envelope's sender stands in for this one's when the bytes match:
                // a stream mostly comes from one peer.
                guard let envelope = try? Envelope(decoding: message.payload, reusing: message.topic, sender: self.lastSender)
                else { continue }
                self.lastSender = envelope.sender
                if envelope.sender == self.upstream {
                    self.up!.receive(envelope, at: now, into: &self.actions)
                } else if envelope.sender == self.downstream {
                    self.down!.receive(envelope, at: now, into: &self.actions)
                }
                self.perform(at: now)
            }
        }

        /// Ticks both links; returns whether the stage is done, and a progress count.
        func tick(at now: MonotonicTime) -> (Bool, Int) {
            self.up?.tick(at: now, into: &self.actions)
            self.down?.tick(at: now, into: &self.actions)
            self.perform(at: now)
            self.pump(at: now)
            self.flush()
            let finished: Bool
            // A stage that received is done only once its last ack went out: its upstream waits
            // for it, and would retransmit into the void after this process left.
            let acked = self.up?.owesAck != true
            if self.index == 0 {
                finished = self.sent == self.count && self.down!.outstanding == 0
            } else if self.index < self.hops {
                finished = self.delivered == self.count && self.down!.outstanding == 0 && acked
            } else {
                finished = self.delivered == self.count && acked
            }
            if finished, self.doneAt == nil {
                self.doneAt = now
                if self.index < self.hops { self.last = now }
            }
            // Every stage with an upstream stays a while after its last ack, to answer
            // retransmits if that ack was lost; the source has seen its downstream's final ack.
            let linger: Duration = self.index > 0 ? .milliseconds(300) : .zero
            let progress = self.delivered + self.sent + (self.down?.outstanding ?? 0)
            return (self.doneAt.map { now.duration(since: $0) >= linger } ?? false, progress)
        }

        private func perform(at now: MonotonicTime) {
            var index = 0
            while index < self.actions.count {
                switch self.actions[index] {
                case .transmit(let envelope):
                    self.outbox.append(WireMessage(envelope))
                case .deliver(let envelope):
                    if self.first == nil { self.first = now }
                    self.delivered += 1
                    if self.down != nil {
                        self.down!.send(kind: .result, body: envelope.body, simTime: .zero, at: now, into: &self.actions)
                    } else {
                        self.last = now
                    }
                case .unreachable(let count):
                    self.unreachable = "relay-\(self.index + 1) stopped acknowledging (\(count) messages unacknowledged after every retransmission)"
                }
                index += 1
            }
            self.actions.removeAll(keepingCapacity: true)
        }

        private func flush() {
            guard !self.outbox.isEmpty else { return }
            try? self.transport.send(self.outbox)
            self.outbox.removeAll(keepingCapacity: true)
        }
    }
}
