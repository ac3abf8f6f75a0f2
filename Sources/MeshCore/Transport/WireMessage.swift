/// A message as a transport carries it: the routing topic (frame 1) and the encoded envelope (frame 2).
public struct WireMessage: Hashable, Sendable {
    /// The topic subscribers match by prefix.
    public var topic: Topic
    /// The encoded ``Envelope``; a transport never looks inside.
    public var payload: [UInt8]

    /// Makes a message.
    public init(topic: Topic, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
    }

    /// Makes the message that carries `envelope` to its receiver.
    public init(_ envelope: Envelope) {
        self.init(topic: envelope.receiver, payload: envelope.encoded())
    }
}
