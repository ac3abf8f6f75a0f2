/// Reads little-endian fields from untrusted bytes, checking every length before it is used.
///
/// Every method throws ``WireError`` (`.truncated`, `.oversized`, `.invalidField`) naming the field;
/// nothing here can trap on malformed input.
public struct WireReader {
    private let bytes: [UInt8]
    /// The offset of the next unread byte.
    public private(set) var offset: Int

    /// Makes a reader over `bytes`, starting at `offset`.
    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// How many bytes are left.
    public var remaining: Int { self.bytes.count - self.offset }

    /// Reads one byte.
    public mutating func readUInt8(_ field: String) throws(WireError) -> UInt8 {
        try self.need(1, field)
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    /// Reads a little-endian u16.
    public mutating func readUInt16(_ field: String) throws(WireError) -> UInt16 {
        try self.readInteger(field)
    }

    /// Reads a little-endian u32.
    public mutating func readUInt32(_ field: String) throws(WireError) -> UInt32 {
        try self.readInteger(field)
    }

    /// Reads a little-endian u64.
    public mutating func readUInt64(_ field: String) throws(WireError) -> UInt64 {
        try self.readInteger(field)
    }

    /// Reads an f64.
    public mutating func readDouble(_ field: String) throws(WireError) -> Double {
        Double(bitPattern: try self.readInteger(field))
    }

    /// Reads a bool written as one byte, 0 or 1.
    public mutating func readBool(_ field: String) throws(WireError) -> Bool {
        switch try self.readUInt8(field) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.invalidField, "\(field): \(other) is not a bool (0 or 1)")
        }
    }

    /// Reads a u16-length-prefixed UTF-8 string of at most `maxLength` bytes.
    public mutating func readString(_ field: String, maxLength: Int = 4096) throws(WireError) -> String {
        let length = Int(try self.readUInt16(field + ".length"))
        guard length <= maxLength else {
            throw WireError(.oversized, "\(field): \(length) bytes, at most \(maxLength) allowed")
        }
        try self.need(length, field)
        defer { self.offset += length }
        guard let text = String(validating: self.bytes[self.offset..<(self.offset + length)], as: UTF8.self) else {
            throw WireError(.invalidField, "\(field): not valid UTF-8")
        }
        return text
    }

    /// Reads a u32-length-prefixed byte string of at most `maxLength` bytes.
    public mutating func readBlob(_ field: String, maxLength: Int) throws(WireError) -> [UInt8] {
        let length = Int(try self.readUInt32(field + ".length"))
        guard length <= maxLength else {
            throw WireError(.oversized, "\(field): \(length) bytes, at most \(maxLength) allowed")
        }
        return try self.readRaw(length, field)
    }

    /// Reads exactly `count` bytes with no length prefix.
    public mutating func readRaw(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        try self.need(count, field)
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<(self.offset + count)])
    }

    /// Throws `.trailingBytes` unless every byte was read.
    public func expectEnd(_ what: @autoclosure () -> String) throws(WireError) {
        // `what` is built only for the error: the decoders call this once per message.
        guard self.remaining == 0 else {
            throw WireError(.trailingBytes, "\(what()): \(self.remaining) unexpected bytes after the last field")
        }
    }

    private func need(_ count: Int, _ field: String) throws(WireError) {
        guard count >= 0, self.remaining >= count else {
            throw WireError(.truncated, "\(field): needs \(count) bytes at offset \(self.offset), \(self.remaining) left")
        }
    }

    private mutating func readInteger<T: FixedWidthInteger>(_ field: String) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try self.need(size, field)
        var value: T = 0
        for index in stride(from: size - 1, through: 0, by: -1) {
            value = value << 8 | T(self.bytes[self.offset + index])
        }
        self.offset += size
        return value
    }
}
