/// A transport could not do what it was asked.
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable {
        /// The transport was shut down; nothing more can be sent.
        case closed
        /// An endpoint could not be bound or connected (the reason says which and why).
        case endpoint
        /// The underlying library failed; `errno` holds its code.
        case system
        /// A message is larger than the transport accepts.
        case messageTooLarge
        /// A `tcp://` endpoint without CURVE keys and a roster, or a malformed key (fail closed).
        case security
    }

    /// What went wrong.
    public var code: Code
    /// The native error code (errno / zmq_errno), when there is one.
    public var errno: Int32?
    /// Which endpoint, socket or call, and why.
    public var reason: String

    /// Makes an error.
    public init(_ code: Code, errno: Int32? = nil, _ reason: String) {
        self.code = code
        self.errno = errno
        self.reason = reason
    }

    public var description: String {
        if let errno = self.errno { return "\(self.code.rawValue) (errno \(errno)): \(self.reason)" }
        return "\(self.code.rawValue): \(self.reason)"
    }
}
