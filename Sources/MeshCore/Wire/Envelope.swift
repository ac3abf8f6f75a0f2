/// One message on the wire: a fixed header that routing and deduplication read without touching
/// the body, then the body. The layout, byte by byte, is in docs/WIRE.md.
///
/// ```swift
/// let bytes = envelope.encoded()
/// let back = try Envelope(decoding: bytes)   // throws WireError on anything malformed
/// ```
public struct Envelope: Hashable, Sendable {
    /// The only format version this build speaks.
    public static let version: UInt8 = 1
    /// The size of the fixed part of the header, before the sender id and receiver topic.
    public static let fixedHeaderSize = 52
    /// The largest encoded envelope accepted (and the ZMQ_MAXMSGSIZE of every receiving socket).
    public static let maxEncodedSize = 8 * 1024 * 1024
    /// The largest body, leaving room for the largest header.
    public static let maxBodySize = maxEncodedSize - fixedHeaderSize - AgentID.maxLength - Topic.maxLength

    /// Flag bits of the header's flags field.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// The sequence field is valid: the message is on a reliable stream.
        public static let sequenced = Flags(rawValue: 1 << 0)
        /// The ack field is valid.
        public static let acknowledges = Flags(rawValue: 1 << 1)
        /// Every flag this version defines; other bits must be zero.
        public static let known: Flags = [.sequenced, .acknowledges]
    }

    /// What the message is.
    public var kind: MessageKind
    /// Flag bits (see ``Flags``).
    public var flags: Flags
    /// Who sent it.
    public var sender: AgentID
    /// The sender's incarnation: a new number each time the sender (re)joins.
    public var senderIncarnation: UInt64
    /// Where it goes: an agent, a role or everyone.
    public var receiver: Topic
    /// The receiver's incarnation the sender believes in, or 0 for any.
    public var receiverIncarnation: UInt64
    /// The position on the sender → receiver stream, from 1 (valid when `.sequenced`).
    public var sequence: UInt64
    /// The highest contiguous sequence received on the reverse stream (valid when `.acknowledges`).
    public var ack: UInt64
    /// The simulated time the sender attaches (logical; 0 when the message carries none).
    public var simTime: SimTime
    /// The body, as defined for `kind`.
    public var body: [UInt8]

    /// Makes an envelope.
    public init(
        kind: MessageKind,
        flags: Flags = [],
        sender: AgentID,
        senderIncarnation: UInt64,
        receiver: Topic,
        receiverIncarnation: UInt64 = 0,
        sequence: UInt64 = 0,
        ack: UInt64 = 0,
        simTime: SimTime = .zero,
        body: [UInt8] = []
    ) {
        self.kind = kind
        self.flags = flags
        self.sender = sender
        self.senderIncarnation = senderIncarnation
        self.receiver = receiver
        self.receiverIncarnation = receiverIncarnation
        self.sequence = sequence
        self.ack = ack
        self.simTime = simTime
        self.body = body
    }

    /// The envelope's bytes, as docs/WIRE.md lays them out.
    public func encoded() -> [UInt8] {
        precondition(self.body.count <= Envelope.maxBodySize, "body of \(self.body.count) bytes is over the limit")
        let sender = Array(self.sender.rawValue.utf8)
        var writer = WireWriter(capacity: Envelope.fixedHeaderSize + sender.count + self.receiver.bytes.count + self.body.count)
        writer.write(Envelope.version)
        writer.write(self.kind.rawValue)
        writer.write(self.flags.rawValue)
        writer.write(UInt32(self.body.count))
        writer.write(self.senderIncarnation)
        writer.write(self.receiverIncarnation)
        writer.write(self.sequence)
        writer.write(self.ack)
        writer.write(self.simTime.microseconds)
        writer.write(UInt8(sender.count))
        writer.write(UInt8(self.receiver.bytes.count))
        writer.write(UInt16(0))
        writer.writeRaw(sender)
        writer.writeRaw(self.receiver.bytes)
        writer.writeRaw(self.body)
        return writer.bytes
    }

    /// Decodes an envelope from untrusted bytes.
    ///
    /// Throws ``WireError`` naming the reason: truncated or trailing bytes, an unknown version or
    /// kind, an oversized body, an invalid sender id or topic, or non-zero reserved bits.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Envelope.maxEncodedSize else {
            throw WireError(.oversized, "envelope of \(bytes.count) bytes, at most \(Envelope.maxEncodedSize) allowed")
        }
        var reader = WireReader(bytes)
        let version = try reader.readUInt8("version")
        guard version == Envelope.version else {
            throw WireError(.unknownVersion, "version \(version), this build speaks \(Envelope.version)")
        }
        let kindByte = try reader.readUInt8("kind")
        guard let kind = MessageKind(rawValue: kindByte) else {
            throw WireError(.unknownKind, "kind 0x\(String(kindByte, radix: 16))")
        }
        let flags = Flags(rawValue: try reader.readUInt16("flags"))
        guard Flags.known.isSuperset(of: flags) else {
            throw WireError(.invalidField, "flags 0x\(String(flags.rawValue, radix: 16)) has undefined bits")
        }
        let bodyLength = Int(try reader.readUInt32("body length"))
        guard bodyLength <= Envelope.maxBodySize else {
            throw WireError(.oversized, "body of \(bodyLength) bytes, at most \(Envelope.maxBodySize) allowed")
        }
        let senderIncarnation = try reader.readUInt64("sender incarnation")
        let receiverIncarnation = try reader.readUInt64("receiver incarnation")
        let sequence = try reader.readUInt64("sequence")
        let ack = try reader.readUInt64("ack")
        let simTime = SimTime(microseconds: try reader.readUInt64("sim time"))
        let senderLength = Int(try reader.readUInt8("sender length"))
        let receiverLength = Int(try reader.readUInt8("receiver length"))
        guard try reader.readUInt16("reserved") == 0 else {
            throw WireError(.invalidField, "reserved header bytes are not zero")
        }
        guard senderLength >= 1, senderLength <= AgentID.maxLength else {
            throw WireError(.invalidField, "sender length \(senderLength), must be 1...\(AgentID.maxLength)")
        }
        guard receiverLength >= 2, receiverLength <= Topic.maxLength else {
            throw WireError(.invalidField, "receiver length \(receiverLength), must be 2...\(Topic.maxLength)")
        }
        guard reader.remaining == senderLength + receiverLength + bodyLength else {
            let expected = senderLength + receiverLength + bodyLength
            let code: WireError.Code = reader.remaining < expected ? .truncated : .trailingBytes
            throw WireError(code, "header announces \(expected) bytes after it, \(reader.remaining) present")
        }
        let senderText = String(decoding: try reader.readRaw(senderLength, "sender"), as: UTF8.self)
        guard let sender = AgentID(senderText) else {
            throw WireError(.invalidField, "sender id is not a valid agent id")
        }
        guard let receiver = Topic(bytes: try reader.readRaw(receiverLength, "receiver")) else {
            throw WireError(.invalidField, "receiver is not a topic (must end in '/')")
        }
        self.init(
            kind: kind,
            flags: flags,
            sender: sender,
            senderIncarnation: senderIncarnation,
            receiver: receiver,
            receiverIncarnation: receiverIncarnation,
            sequence: sequence,
            ack: ack,
            simTime: simTime,
            body: try reader.readRaw(bodyLength, "body")
        )
    }
}
