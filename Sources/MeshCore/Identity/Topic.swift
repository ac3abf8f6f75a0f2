/// The routing prefix of a message: the first frame on the wire, matched by ZeroMQ subscriptions.
///
/// Every topic ends in `/`, so that subscribing to `a/data-1/` never matches `a/data-10/`.
/// The three shapes are documented in docs/WIRE.md:
/// - `a/<agent id>/`: one agent;
/// - `r/<role>/`: every instance of a role;
/// - `*/`: everyone.
public struct Topic: Hashable, Sendable, CustomStringConvertible {
    /// The longest topic accepted, in bytes (a subscription longer than this is refused).
    public static let maxLength = 80

    /// The topic's bytes, as they go on the wire.
    public let bytes: [UInt8]

    /// Makes a topic from wire bytes; `nil` when they are not a well-formed topic.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= 2, bytes.count <= Topic.maxLength, bytes.last == UInt8(ascii: "/") else { return nil }
        self.bytes = bytes
    }

    private init(text: String) {
        self.bytes = Array(text.utf8)
    }

    /// The topic of one agent.
    public static func agent(_ id: AgentID) -> Topic { Topic(text: "a/\(id.rawValue)/") }

    /// The topic of every instance of a role.
    public static func role(_ role: Role) -> Topic { Topic(text: "r/\(role.rawValue)/") }

    /// The topic every participant subscribes to.
    public static let broadcast = Topic(text: "*/")

    /// Whether a subscription to `self` receives a message published on `topic`.
    public func matches(_ topic: Topic) -> Bool {
        topic.bytes.starts(with: self.bytes)
    }

    public var description: String { String(decoding: self.bytes, as: UTF8.self) }
}
