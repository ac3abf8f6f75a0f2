/// A message body with a fixed kind and a documented binary layout (docs/WIRE.md).
public protocol WireBody: Sendable, Equatable {
    /// The envelope kind that carries this body.
    static var kind: MessageKind { get }
    /// Appends the body's fields.
    func encode(into writer: inout WireWriter)
    /// Reads the body's fields; throws ``WireError`` on anything malformed.
    init(from reader: inout WireReader) throws(WireError)
}

extension WireBody {
    /// The body's bytes.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        self.encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a whole body, rejecting trailing bytes.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = WireReader(bytes)
        try self.init(from: &reader)
        try reader.expectEnd("\(Self.kind) body")
    }
}
