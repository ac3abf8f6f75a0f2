/// The port every message of a process goes through; MeshCore declares it, others implement it.
///
/// Implementations: the ZeroMQ one in MeshZeroMQ (inproc, ipc, tcp through the coordinator's
/// forwarder) and the in-memory one in MeshTesting. Both pass the same contract suite.
///
/// Contract:
/// - ``send(_:)`` never blocks and never drops silently: it queues, and the transport delivers in
///   order per sender as far as its peers are reachable; it throws `.closed` after ``shutdown()``.
/// - ``inbound`` yields batches of messages whose topic matches a subscription, in arrival order,
///   to one consumer. When the consumer falls behind, the transport stops reading (back-pressure)
///   rather than buffering without bound.
/// - Delivery is best effort (pub/sub): a message may be lost to a peer that is not yet
///   subscribed, has restarted, or is too slow. Reliability is built above, in ``ReliableLink``.
/// - ``shutdown()`` sends what was queued before it (bounded by a linger time) and then finishes
///   ``inbound``.
///
/// ```swift
/// try transport.subscribe(.agent(id))
/// try transport.send([WireMessage(hello)])
/// while let batch = await transport.inbound.next() { for message in batch { … } }
/// await transport.shutdown()
/// ```
public protocol MeshTransport: AnyObject, Sendable {
    /// Inbound messages, in batches; single consumer.
    var inbound: InboundQueue { get }

    /// Starts receiving messages whose topic starts with `topic`.
    func subscribe(_ topic: Topic) throws(TransportError)

    /// Stops receiving messages of `topic` (as subscribed before).
    func unsubscribe(_ topic: Topic) throws(TransportError)

    /// Queues messages for sending, in order.
    func send(_ messages: [WireMessage]) throws(TransportError)

    /// Sends what is queued (within the linger time), closes, and finishes ``inbound``.
    func shutdown() async
}
