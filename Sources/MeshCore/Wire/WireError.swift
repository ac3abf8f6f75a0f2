/// Why bytes from a peer were rejected; a bad message is counted and dropped, never fatal.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of rejection.
    public enum Code: String, Hashable, Sendable {
        /// The bytes end before the header or a field says they should.
        case truncated
        /// Bytes are left over after the last field.
        case trailingBytes
        /// A length field is larger than the limit for that field.
        case oversized
        /// The format version is not one this build speaks.
        case unknownVersion
        /// The message kind is not one this build knows.
        case unknownKind
        /// A field holds a value outside its domain (an invalid id, a non-zero reserved field, …).
        case invalidField
    }

    /// The kind of rejection.
    public var code: Code
    /// A human-readable reason naming the field and the offending value.
    public var reason: String

    /// Makes an error of `code` with `reason`.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(self.code.rawValue): \(self.reason)" }
}
