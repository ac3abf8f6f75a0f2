public import MeshCore

/// The raw libzmq baseline of the relay benchmark: messages pass from stage to stage over
/// PUSH/PULL with no envelope, no forwarder and no reliability, so that Meshwork's own relay can
/// be compared with what libzmq alone does on the same machine.
///
/// Each function runs one stage in the calling thread and **blocks** until its part is done, so
/// call it from a process's main thread or a dedicated thread, never from Swift's cooperative
/// pool. The 5-hop, 6-process relay of docs/BENCHMARKS.md is six processes, each running one stage:
///
/// ```
/// process 1: RawRelay.source(to: l1, count: n, size: 64)
/// process 2: RawRelay.hop(from: l1, to: l2)
/// process 3: RawRelay.hop(from: l2, to: l3)
/// process 4: RawRelay.hop(from: l3, to: l4)
/// process 5: RawRelay.hop(from: l4, to: l5)
/// process 6: RawRelay.sink(from: l5)
/// ```
///
/// where `l1 … l5` are ``Link``s such as `ipc:///tmp/relay/1` … `ipc:///tmp/relay/5` (or
/// `tcp://127.0.0.1:7000`, `:7002`, … — a tcp link takes two ports). The downstream stage of a
/// link binds it and the upstream one connects, so the processes may start in any order.
///
/// Nothing is lost at the end: the source sends an end-of-stream frame (empty) after its `count`
/// messages; every stage forwards it, acknowledges it upstream, and exits only once its own
/// downstream has acknowledged it (PITFALLS: a stage that closed under back-pressure lost its tail).
public enum RawRelay {
    /// One link of the relay: data frames on one endpoint, the end-of-stream acknowledgement on the other.
    ///
    /// `ipc:///path` → `ipc:///path.data` and `ipc:///path.ack`; `inproc://name` likewise;
    /// `tcp://HOST:PORT` → PORT for data and PORT+1 for the acknowledgement.
    public struct Link: Hashable, Sendable, CustomStringConvertible {
        private let address: EndpointAddress

        /// Parses a link address; throws `.endpoint` naming it and the reason.
        public init(_ address: String) throws(TransportError) {
            self.address = try EndpointAddress(address, suffixes: (".data", ".ack"))
            try self.address.checkConnectable()
        }

        /// The address as given.
        public var description: String { self.address.description }
        /// Where the downstream stage's PULL binds and the upstream stage's PUSH connects.
        public var dataEndpoint: String { self.address.derived(suffix: ".data", portOffset: 0) }
        /// Where the downstream stage acknowledges the end of the stream.
        public var ackEndpoint: String { self.address.derived(suffix: ".ack", portOffset: 1) }
    }

    /// What one stage saw.
    public struct Report: Hashable, Sendable, CustomStringConvertible {
        /// Data messages that passed through the stage (the end-of-stream frame not counted).
        public var messages: Int
        /// Their total size in bytes.
        public var bytes: Int
        /// Source: from its first send to the sink's acknowledgement reaching it through every
        /// hop; hop: from its first message to its downstream's acknowledgement; sink: from its
        /// first message to the end of the stream.
        public var elapsed: Duration

        /// Messages per second over ``elapsed``.
        public var messagesPerSecond: Double {
            let seconds = Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) * 1e-18
            return seconds > 0 ? Double(self.messages) / seconds : 0
        }

        /// One line: messages, bytes, time and rate.
        public var description: String {
            "\(self.messages) messages, \(self.bytes) bytes in \(self.elapsed) (\(Int(self.messagesPerSecond)) msg/s)"
        }
    }

    /// Sends `count` messages of `size` bytes (at least 1) as fast as the next stage takes them,
    /// then the end of the stream, and returns once the next stage has acknowledged it.
    ///
    /// `context`: a shared one (required for `inproc://` links), or `nil` for one of its own,
    /// terminated before returning. Throws when an endpoint is invalid, or when nothing moves for
    /// `timeout` (a stage that is missing or stuck).
    public static func source(
        to link: Link,
        count: Int,
        size: Int,
        context: ZeroMQContext? = nil,
        timeout: Duration = .seconds(60)
    ) throws(TransportError) -> Report {
        precondition(count >= 0 && size >= 1, "a relay sends count >= 0 messages of at least 1 byte")
        return try self.withStage(context) { context throws(TransportError) in
            let data = try self.socket(.push, context, "relay source", timeout)
            let ack = try self.socket(.pull, context, "relay source ack", timeout)
            try data.connect(link.dataEndpoint)
            try ack.connect(link.ackEndpoint)
            let payload = [UInt8](repeating: 0x6D, count: size)
            let start = ContinuousClock.now
            for _ in 0..<count {
                guard try data.send(payload, more: false, wait: true) else { throw self.stalled("sending to", link, timeout) }
            }
            guard try data.send([], more: false, wait: true) else { throw self.stalled("sending to", link, timeout) }
            try self.awaitAck(ack, link, timeout)
            return Report(messages: count, bytes: count * size, elapsed: ContinuousClock.now - start)
        }
    }

    /// Forwards every message from `input` to `output` without copying it, then the end of the
    /// stream; acknowledges it upstream and returns once `output`'s stage has acknowledged it.
    public static func hop(
        from input: Link,
        to output: Link,
        context: ZeroMQContext? = nil,
        timeout: Duration = .seconds(60)
    ) throws(TransportError) -> Report {
        try self.withStage(context) { context throws(TransportError) in
            let pull = try self.socket(.pull, context, "relay hop input", timeout)
            let ackUp = try self.socket(.push, context, "relay hop ack", timeout)
            let push = try self.socket(.push, context, "relay hop output", timeout)
            let ackDown = try self.socket(.pull, context, "relay hop output ack", timeout)
            try pull.bind(input.dataEndpoint)
            try ackUp.bind(input.ackEndpoint)
            try push.connect(output.dataEndpoint)
            try ackDown.connect(output.ackEndpoint)
            let frame = Frame()
            var messages = 0
            var bytes = 0
            var start: ContinuousClock.Instant?
            while true {
                guard try pull.receive(into: frame, wait: true) else { throw self.stalled("receiving from", input, timeout) }
                if start == nil { start = ContinuousClock.now }
                let size = frame.count
                guard try push.send(frame, more: false, wait: true) else { throw self.stalled("sending to", output, timeout) }
                if size == 0 { break }
                messages += 1
                bytes += size
            }
            guard try ackUp.send([], more: false, wait: true) else { throw self.stalled("acknowledging", input, timeout) }
            try self.awaitAck(ackDown, output, timeout)
            return Report(messages: messages, bytes: bytes, elapsed: ContinuousClock.now - (start ?? ContinuousClock.now))
        }
    }

    /// Counts messages until the end of the stream, acknowledges it, and reports.
    public static func sink(
        from input: Link,
        context: ZeroMQContext? = nil,
        timeout: Duration = .seconds(60)
    ) throws(TransportError) -> Report {
        try self.withStage(context) { context throws(TransportError) in
            let pull = try self.socket(.pull, context, "relay sink", timeout)
            let ackUp = try self.socket(.push, context, "relay sink ack", timeout)
            try pull.bind(input.dataEndpoint)
            try ackUp.bind(input.ackEndpoint)
            let frame = Frame()
            var messages = 0
            var bytes = 0
            var start: ContinuousClock.Instant?
            while true {
                guard try pull.receive(into: frame, wait: true) else { throw self.stalled("receiving from", input, timeout) }
                if start == nil { start = ContinuousClock.now }
                let size = frame.count
                if size == 0 { break }
                messages += 1
                bytes += size
            }
            let elapsed = ContinuousClock.now - (start ?? ContinuousClock.now)
            guard try ackUp.send([], more: false, wait: true) else { throw self.stalled("acknowledging", input, timeout) }
            return Report(messages: messages, bytes: bytes, elapsed: elapsed)
        }
    }

    // MARK: - Plumbing

    /// Runs a stage with the given context or one of its own, closing every socket it made
    /// (they linger until sent) and terminating an own context before returning.
    private static func withStage(
        _ shared: ZeroMQContext?,
        _ body: (ZeroMQContext) throws(TransportError) -> Report
    ) throws(TransportError) -> Report {
        let context: ZeroMQContext
        if let shared { context = shared } else { context = try ZeroMQContext() }
        defer { if shared == nil { context.terminateBlocking() } }
        return try body(context)
    }

    private static func socket(
        _ type: ZeroMQSystem.SocketType,
        _ context: ZeroMQContext,
        _ label: String,
        _ timeout: Duration
    ) throws(TransportError) -> ZeroMQSocket {
        let socket = try ZeroMQSocket(type, in: context, label: label)
        try socket.set(.receiveTimeout, timeout)
        try socket.set(.sendTimeout, timeout)
        try socket.set(.linger, timeout)
        return socket
    }

    private static func awaitAck(_ ack: ZeroMQSocket, _ link: Link, _ timeout: Duration) throws(TransportError) {
        let frame = Frame()
        guard try ack.receive(into: frame, wait: true) else {
            throw self.stalled("waiting for the end-of-stream acknowledgement on", link, timeout)
        }
    }

    private static func stalled(_ what: String, _ link: Link, _ timeout: Duration) -> TransportError {
        TransportError(.system, "relay stalled \(what) \(link): nothing moved for \(timeout)")
    }
}
