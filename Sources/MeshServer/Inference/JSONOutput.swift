import NIOCore

/// Writing JSON straight into a `ByteBuffer`: the inference responses and the small metadata
/// documents. Numbers use Swift's shortest round-trip formatting, which is valid JSON for every
/// finite value.
extension ByteBuffer {
    /// Writes `text` as a JSON string with quotes and escapes.
    mutating func writeJSONString(_ text: String) {
        self.writeInteger(UInt8(ascii: "\""))
        var runStart = text.utf8.startIndex
        var index = runStart
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                self.writeBytes(utf8[runStart..<index])
                switch byte {
                case UInt8(ascii: "\""): self.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): self.writeStaticString("\\\\")
                case 0x0A: self.writeStaticString("\\n")
                case 0x0D: self.writeStaticString("\\r")
                case 0x09: self.writeStaticString("\\t")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    self.writeStaticString("\\u00")
                    self.writeInteger(hex[Int(byte >> 4)])
                    self.writeInteger(hex[Int(byte & 0xF)])
                }
                runStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        self.writeBytes(utf8[runStart..<index])
        self.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes a finite float in its shortest round-trip form.
    mutating func writeJSONNumber(_ value: Float) {
        precondition(value.isFinite, "only finite numbers are written as JSON")
        self.writeString(value.description)
    }

    /// Writes a double in its shortest round-trip form (`null` if it is not finite).
    mutating func writeJSONNumber(_ value: Double) {
        if value.isFinite { self.writeString(value.description) } else { self.writeStaticString("null") }
    }

    /// Writes an integer.
    mutating func writeJSONNumber(_ value: Int) {
        self.writeString(String(value))
    }

    /// Writes `[a,b,…]` of integers.
    mutating func writeJSONArray(_ values: [Int]) {
        self.writeInteger(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { self.writeInteger(UInt8(ascii: ",")) }
            self.writeJSONNumber(value)
        }
        self.writeInteger(UInt8(ascii: "]"))
    }
}
