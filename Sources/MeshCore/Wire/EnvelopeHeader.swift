/// The first fields of an envelope that a forwarder checks before it passes a message on: its
/// version, kind and sender, read in place from untrusted bytes without decoding (or copying) the body.
///
/// ```swift
/// let header = try EnvelopeHeader(peeking: payload)   // throws WireError
/// if header.sender != connectionUserID { drop }
/// ```
public struct EnvelopeHeader: Hashable, Sendable {
    /// What the message is.
    public var kind: MessageKind
    /// Who the envelope says sent it.
    public var sender: AgentID

    /// Reads the header of `bytes`.
    ///
    /// Throws ``WireError`` for bytes shorter than the header, an unknown version or kind, an
    /// invalid sender length or id, or a total size over ``Envelope/maxEncodedSize``. The body is
    /// not checked here: the receiver's full decode does that.
    public init(peeking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count <= Envelope.maxEncodedSize else {
            throw WireError(.oversized, "envelope of \(bytes.count) bytes, at most \(Envelope.maxEncodedSize) allowed")
        }
        guard bytes.count >= Envelope.fixedHeaderSize else {
            throw WireError(.truncated, "\(bytes.count) bytes, shorter than the \(Envelope.fixedHeaderSize)-byte header")
        }
        guard bytes[0] == Envelope.version else {
            throw WireError(.unknownVersion, "version \(bytes[0]), this build speaks \(Envelope.version)")
        }
        guard let kind = MessageKind(rawValue: bytes[1]) else {
            throw WireError(.unknownKind, "kind 0x\(String(bytes[1], radix: 16))")
        }
        // Offset 48 is the sender's length (docs/WIRE.md); the id follows the fixed header.
        let senderLength = Int(bytes[48])
        guard senderLength >= 1, senderLength <= AgentID.maxLength,
            bytes.count >= Envelope.fixedHeaderSize + senderLength
        else {
            throw WireError(.invalidField, "sender length \(senderLength) in \(bytes.count) bytes")
        }
        let start = Envelope.fixedHeaderSize
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<start + senderLength]), as: UTF8.self)
        guard let sender = AgentID(text) else { throw WireError(.invalidField, "sender id is not a valid agent id") }
        self.kind = kind
        self.sender = sender
    }

    /// Reads the header of `bytes` (see ``init(peeking:)-(UnsafeRawBufferPointer)``).
    public init(peeking bytes: [UInt8]) throws(WireError) {
        let result: Result<EnvelopeHeader, WireError> = bytes.withUnsafeBytes { buffer in
            do throws(WireError) {
                return .success(try EnvelopeHeader(peeking: buffer))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}
