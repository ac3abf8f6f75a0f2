/// Appends little-endian numbers to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    mutating func append(floats: [Float]) {
        self.bytes.reserveCapacity(self.bytes.count + floats.count * 4)
        for value in floats { self.append(value.bitPattern) }
    }

    mutating func append(codes: [Int8]) {
        for code in codes { self.bytes.append(UInt8(bitPattern: code)) }
    }
}
