/// Reads little-endian numbers, throwing a truncation error that names the field and byte.
struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    let subject: String
    var offset = 0

    init(bytes: [UInt8], end: Int, subject: String) {
        self.bytes = bytes
        self.end = end
        self.subject = subject
    }

    private mutating func take(_ count: Int, _ what: String) throws(ComputeError) -> Int {
        guard count >= 0, self.end - self.offset >= count else {
            throw ComputeError(
                .truncatedFile,
                self.subject,
                at: "byte \(self.offset)",
                "the file ends before \(what) (\(count) bytes needed, \(max(self.end - self.offset, 0)) left)"
            )
        }
        defer { self.offset += count }
        return self.offset
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type, _ what: String) throws(ComputeError) -> T {
        let start = try self.take(MemoryLayout<T>.size, what)
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(self.bytes[start + index]) }
        return value
    }

    mutating func uint8(_ what: String) throws(ComputeError) -> UInt8 { try self.integer(UInt8.self, what) }
    mutating func uint16(_ what: String) throws(ComputeError) -> UInt16 { try self.integer(UInt16.self, what) }
    mutating func uint32(_ what: String) throws(ComputeError) -> UInt32 { try self.integer(UInt32.self, what) }
    mutating func int32(_ what: String) throws(ComputeError) -> Int32 {
        Int32(bitPattern: try self.integer(UInt32.self, what))
    }

    mutating func floats(_ count: Int, _ what: String) throws(ComputeError) -> [Float] {
        let start = try self.take(count * 4, what)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count {
            let base = start + index * 4
            let bits =
                UInt32(self.bytes[base]) | UInt32(self.bytes[base + 1]) << 8
                | UInt32(self.bytes[base + 2]) << 16 | UInt32(self.bytes[base + 3]) << 24
            values[index] = Float(bitPattern: bits)
        }
        return values
    }

    mutating func codes(_ count: Int, _ what: String) throws(ComputeError) -> [Int8] {
        let start = try self.take(count, what)
        return self.bytes[start..<(start + count)].map { Int8(bitPattern: $0) }
    }
}
