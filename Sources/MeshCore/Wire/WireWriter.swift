/// Appends little-endian fields to a byte buffer; the encoding side of docs/WIRE.md.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Makes an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 64) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    public mutating func write(_ value: UInt8) { self.bytes.append(value) }

    /// Appends a little-endian u16.
    public mutating func write(_ value: UInt16) { self.appendLittleEndian(value) }

    /// Appends a little-endian u32.
    public mutating func write(_ value: UInt32) { self.appendLittleEndian(value) }

    /// Appends a little-endian u64.
    public mutating func write(_ value: UInt64) { self.appendLittleEndian(value) }

    /// Appends an IEEE-754 f64, little-endian.
    public mutating func write(_ value: Double) { self.appendLittleEndian(value.bitPattern) }

    /// Appends a bool as one byte, 0 or 1.
    public mutating func write(_ value: Bool) { self.bytes.append(value ? 1 : 0) }

    /// Appends a string as a u16 byte length then its UTF-8 bytes.
    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        precondition(utf8.count <= Int(UInt16.max), "string field longer than 65535 bytes")
        self.write(UInt16(utf8.count))
        self.bytes.append(contentsOf: utf8)
    }

    /// Appends a byte string as a u32 length then the bytes.
    public mutating func writeBlob(_ value: some Collection<UInt8>) {
        precondition(value.count <= Int(UInt32.max), "blob field longer than 4 GiB")
        self.write(UInt32(value.count))
        self.bytes.append(contentsOf: value)
    }

    /// Appends bytes as they are, with no length.
    public mutating func writeRaw(_ value: some Sequence<UInt8>) { self.bytes.append(contentsOf: value) }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }
}
