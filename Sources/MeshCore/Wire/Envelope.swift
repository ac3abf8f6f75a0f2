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
        var sender = self.sender.rawValue
        let receiver = self.receiver.bytes
        // One allocation: the header is stored in place, then the three byte strings appended.
        let senderCount = sender.utf8.count
        let size = Envelope.fixedHeaderSize + senderCount + receiver.count + self.body.count
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw[0] = Envelope.version
            raw[1] = self.kind.rawValue
            raw.storeBytes(of: self.flags.rawValue.littleEndian, toByteOffset: 2, as: UInt16.self)
            raw.storeBytes(of: UInt32(self.body.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: self.senderIncarnation.littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: self.receiverIncarnation.littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: self.sequence.littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: self.ack.littleEndian, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: self.simTime.microseconds.littleEndian, toByteOffset: 40, as: UInt64.self)
            raw[48] = UInt8(senderCount)
            raw[49] = UInt8(receiver.count)
            raw[50] = 0
            raw[51] = 0
            var offset = Envelope.fixedHeaderSize
            sender.withUTF8 { utf8 in
                UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + senderCount]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            }
            offset += senderCount
            receiver.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + $0.count]).copyMemory(from: $0) }
            offset += receiver.count
            self.body.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + $0.count]).copyMemory(from: $0) }
            initialized = size
        }
    }

    /// Decodes an envelope from untrusted bytes.
    ///
    /// Throws ``WireError`` naming the reason: truncated or trailing bytes, an unknown version or
    /// kind, an oversized body, an invalid sender id or topic, or non-zero reserved bits.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        try self.init(decoding: bytes, reusing: nil)
    }

    /// Decodes an envelope from untrusted bytes, as ``init(decoding:)`` does, taking `topic` as the
    /// receiver when the receiver bytes equal it (a receiver passes the topic the message arrived
    /// on, which saves copying and checking the receiver of every message; a different receiver is
    /// decoded as usual).
    public init(decoding bytes: [UInt8], reusing topic: Topic?) throws(WireError) {
        try self.init(decoding: bytes, reusing: topic, sender: nil)
    }

    /// Decodes an envelope from untrusted bytes, as ``init(decoding:reusing:)`` does, also taking
    /// `sender` as the sender when the sender bytes equal its id (a receiver passes the previous
    /// envelope's sender: a stream mostly comes from one peer, and an id already checked need not
    /// be checked again). A different sender is decoded and checked as usual, so the result, and
    /// every error, is what ``init(decoding:)`` gives.
    public init(decoding bytes: [UInt8], reusing topic: Topic?, sender: AgentID?) throws(WireError) {
        let result: Result<Envelope, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) {
                return .success(try Envelope.decode(raw, reusing: topic, sender: sender))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// The decoder proper: every check of docs/WIRE.md, in the order of the fields, reading in place.
    private static func decode(
        _ bytes: UnsafeRawBufferPointer, reusing topic: Topic?, sender knownSender: AgentID?
    ) throws(WireError) -> Envelope {
        guard bytes.count <= Envelope.maxEncodedSize else {
            throw WireError(.oversized, "envelope of \(bytes.count) bytes, at most \(Envelope.maxEncodedSize) allowed")
        }
        func need(_ count: Int, at offset: Int, _ field: String) throws(WireError) {
            guard bytes.count - offset >= count else {
                throw WireError(.truncated, "\(field): needs \(count) bytes at offset \(offset), \(bytes.count - offset) left")
            }
        }
        func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        try need(1, at: 0, "version")
        let version = bytes[0]
        guard version == Envelope.version else {
            throw WireError(.unknownVersion, "version \(version), this build speaks \(Envelope.version)")
        }
        try need(1, at: 1, "kind")
        let kindByte = bytes[1]
        guard let kind = MessageKind(rawValue: kindByte) else {
            throw WireError(.unknownKind, "kind 0x\(String(kindByte, radix: 16))")
        }
        try need(2, at: 2, "flags")
        let flags = Flags(rawValue: load(2, as: UInt16.self))
        guard Flags.known.isSuperset(of: flags) else {
            throw WireError(.invalidField, "flags 0x\(String(flags.rawValue, radix: 16)) has undefined bits")
        }
        try need(4, at: 4, "body length")
        let bodyLength = Int(load(4, as: UInt32.self))
        guard bodyLength <= Envelope.maxBodySize else {
            throw WireError(.oversized, "body of \(bodyLength) bytes, at most \(Envelope.maxBodySize) allowed")
        }
        try need(Envelope.fixedHeaderSize - 8, at: 8, "header")
        let senderIncarnation = load(8, as: UInt64.self)
        let receiverIncarnation = load(16, as: UInt64.self)
        let sequence = load(24, as: UInt64.self)
        let ack = load(32, as: UInt64.self)
        let simTime = SimTime(microseconds: load(40, as: UInt64.self))
        let senderLength = Int(bytes[48])
        let receiverLength = Int(bytes[49])
        guard load(50, as: UInt16.self) == 0 else {
            throw WireError(.invalidField, "reserved header bytes are not zero")
        }
        guard senderLength >= 1, senderLength <= AgentID.maxLength else {
            throw WireError(.invalidField, "sender length \(senderLength), must be 1...\(AgentID.maxLength)")
        }
        guard receiverLength >= 2, receiverLength <= Topic.maxLength else {
            throw WireError(.invalidField, "receiver length \(receiverLength), must be 2...\(Topic.maxLength)")
        }
        let remaining = bytes.count - Envelope.fixedHeaderSize
        let expected = senderLength + receiverLength + bodyLength
        guard remaining == expected else {
            let code: WireError.Code = remaining < expected ? .truncated : .trailingBytes
            throw WireError(code, "header announces \(expected) bytes after it, \(remaining) present")
        }
        var offset = Envelope.fixedHeaderSize
        let senderBytes = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + senderLength])
        let sender: AgentID
        // Compared as raw bytes (the UTF-8 view's element-wise compare cost more than the check).
        if let knownSender, knownSender.rawValue.utf8.count == senderLength,
            knownSender.rawValue.utf8.withContiguousStorageIfAvailable({ UnsafeRawBufferPointer($0).elementsEqual(senderBytes) }) == true
        {
            sender = knownSender
        } else {
            guard let decoded = AgentID(String(decoding: senderBytes, as: UTF8.self)) else {
                throw WireError(.invalidField, "sender id is not a valid agent id")
            }
            sender = decoded
        }
        offset += senderLength
        let receiverBytes = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + receiverLength])
        let receiver: Topic
        if let topic, topic.bytes.elementsEqual(receiverBytes) {
            receiver = topic
        } else {
            guard let decoded = Topic(bytes: Array(receiverBytes)) else {
                throw WireError(.invalidField, "receiver is not a topic (must end in '/')")
            }
            receiver = decoded
        }
        offset += receiverLength
        return Envelope(
            kind: kind,
            flags: flags,
            sender: sender,
            senderIncarnation: senderIncarnation,
            receiver: receiver,
            receiverIncarnation: receiverIncarnation,
            sequence: sequence,
            ack: ack,
            simTime: simTime,
            body: Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + bodyLength]))
        )
    }
}
