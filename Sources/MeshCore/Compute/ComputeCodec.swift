/// The field encodings the compute protocol adds to docs/WIRE.md's body fields: f32 and i32
/// values and arrays, counted arrays, and operands (inline or by blob hash).
///
/// Every reader checks a count against its limit and against the bytes left before it allocates,
/// so no length from a peer can make a decoder allocate more than the message it was given.
enum ComputeCodec {
    // MARK: Scalars

    static func write(_ value: Float, into writer: inout WireWriter) {
        writer.write(value.bitPattern)
    }

    static func readFloat(_ field: String, from reader: inout WireReader) throws(WireError) -> Float {
        Float(bitPattern: try reader.readUInt32(field))
    }

    static func write(_ value: Int, into writer: inout WireWriter) {
        writer.write(UInt32(bitPattern: Int32(truncatingIfNeeded: value)))
    }

    static func readInt32(_ field: String, from reader: inout WireReader) throws(WireError) -> Int {
        Int(Int32(bitPattern: try reader.readUInt32(field)))
    }

    static func readFlag(_ field: String, from reader: inout WireReader) throws(WireError) -> Bool {
        try reader.readBool(field)
    }

    /// Reads a u8 tag and checks it is one of `allowed`.
    static func readTag(_ field: String, allowed: ClosedRange<UInt8>, from reader: inout WireReader) throws(WireError)
        -> UInt8
    {
        let at = reader.offset
        let tag = try reader.readUInt8(field)
        guard allowed.contains(tag) else {
            throw WireError(.invalidField, "\(field): \(tag) at offset \(at) is not one of \(allowed)")
        }
        return tag
    }

    // MARK: Counts and arrays

    /// Reads a u32 count, checks it against `maximum` and that `count * elementSize` bytes remain.
    static func readCount(
        _ field: String,
        maximum: Int,
        elementSize: Int,
        from reader: inout WireReader
    ) throws(WireError) -> Int {
        let count = Int(try reader.readUInt32(field + ".count"))
        guard count <= maximum else {
            throw WireError(.oversized, "\(field): \(count) elements, at most \(maximum) allowed")
        }
        guard count * elementSize <= reader.remaining else {
            throw WireError(
                .truncated,
                "\(field): \(count) elements need \(count * elementSize) bytes at offset \(reader.offset), \(reader.remaining) left"
            )
        }
        return count
    }

    /// Appends `values` as raw little-endian f32, no count.
    static func writeFloats(_ values: [Float], into writer: inout WireWriter) {
        #if _endian(little)
        values.withUnsafeBytes { writer.writeRaw($0) }
        #else
        for value in values { writer.write(value.bitPattern) }
        #endif
    }

    /// Reads `count` raw little-endian f32 values (the caller has bounded `count`).
    static func readFloats(_ count: Int, _ field: String, from reader: inout WireReader) throws(WireError) -> [Float] {
        let raw = try reader.readRaw(count * 4, field)
        #if _endian(little)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            raw.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            initialized = count
        }
        #else
        return (0..<count).map { index in
            var bits: UInt32 = 0
            for byte in 0..<4 { bits |= UInt32(raw[index * 4 + byte]) << (8 * byte) }
            return Float(bitPattern: bits)
        }
        #endif
    }

    /// Appends a label list: u32 count, then i32 each.
    static func writeLabels(_ labels: [Int], into writer: inout WireWriter) {
        writer.write(UInt32(labels.count))
        for label in labels { Self.write(label, into: &writer) }
    }

    /// Reads a label list of at most `maximum` labels.
    static func readLabels(_ field: String, maximum: Int, from reader: inout WireReader) throws(WireError) -> [Int] {
        let count = try Self.readCount(field, maximum: maximum, elementSize: 4, from: &reader)
        var labels: [Int] = []
        labels.reserveCapacity(count)
        for index in 0..<count { labels.append(try Self.readInt32("\(field)[\(index)]", from: &reader)) }
        return labels
    }

    // MARK: Operands

    /// The tag of an inline operand.
    static let inlineTag: UInt8 = 1
    /// The tag of an operand given by its blob's SHA-256.
    static let blobTag: UInt8 = 2

    static func write<Value>(
        _ operand: ComputeOperand<Value>,
        into writer: inout WireWriter,
        inline: (Value, inout WireWriter) -> Void
    ) {
        switch operand {
        case .inline(let value):
            writer.write(Self.inlineTag)
            inline(value, &writer)
        case .blob(let hash):
            writer.write(Self.blobTag)
            writer.writeRaw(hash.bytes)
        }
    }

    static func readOperand<Value>(
        _ field: String,
        from reader: inout WireReader,
        inline: (inout WireReader) throws(WireError) -> Value
    ) throws(WireError) -> ComputeOperand<Value> {
        switch try Self.readTag(field + ".source", allowed: Self.inlineTag...Self.blobTag, from: &reader) {
        case Self.inlineTag: return .inline(try inline(&reader))
        default: return .blob(try BlobHash(reading: &reader, field: field + ".sha256"))
        }
    }

    // MARK: Headers

    /// Writes a 4-byte magic, the u16 version, the operation and a zero reserved byte.
    static func writeHeader(magic: [UInt8], operation: ComputeOperation, into writer: inout WireWriter) {
        writer.writeRaw(magic)
        writer.write(ComputeProtocol.version)
        writer.write(operation.rawValue)
        writer.write(UInt8(0))
    }

    /// Reads and checks the 8-byte header of a request or response; returns its operation.
    static func readHeader(magic: [UInt8], what: String, from reader: inout WireReader) throws(WireError)
        -> ComputeOperation
    {
        let found = try reader.readRaw(4, "\(what).magic")
        guard found == magic else {
            throw WireError(
                .invalidField,
                "\(what).magic: \(Hex.encode(found)) is not \(String(decoding: magic, as: UTF8.self))"
            )
        }
        let version = try reader.readUInt16("\(what).version")
        guard version == ComputeProtocol.version else {
            throw WireError(.unknownVersion, "\(what).version: \(version); this build speaks \(ComputeProtocol.version)")
        }
        let code = try reader.readUInt8("\(what).operation")
        guard let operation = ComputeOperation(rawValue: code) else {
            throw WireError(.unknownKind, "\(what).operation: \(code) is not a compute operation")
        }
        let reserved = try reader.readUInt8("\(what).reserved")
        guard reserved == 0 else { throw WireError(.invalidField, "\(what).reserved: \(reserved), must be 0") }
        return operation
    }
}
