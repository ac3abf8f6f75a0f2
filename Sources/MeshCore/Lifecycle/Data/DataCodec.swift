/// The field encodings the data agent's messages add to the compute protocol's
/// (docs/DATA.md, "Bytes"): counted string lists and length-prefixed sections.
enum DataCodec {
    /// Appends a string list: u32 count, then each string (u16 length, UTF-8).
    static func writeStrings(_ strings: [String], into writer: inout WireWriter) {
        writer.write(UInt32(strings.count))
        for string in strings { writer.write(string) }
    }

    /// Reads a string list of at most `maximum` strings of at most `maxLength` bytes each.
    static func readStrings(
        _ field: String,
        maximum: Int,
        maxLength: Int = 256,
        from reader: inout WireReader
    ) throws(WireError) -> [String] {
        let count = try ComputeCodec.readCount(field, maximum: maximum, elementSize: 2, from: &reader)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for index in 0..<count { strings.append(try reader.readString("\(field)[\(index)]", maxLength: maxLength)) }
        return strings
    }

    /// Appends a u32 count, checking it fits.
    static func writeCount(_ value: Int, into writer: inout WireWriter) {
        precondition(value >= 0 && value <= Int(UInt32.max), "a count outside u32: \(value)")
        writer.write(UInt32(value))
    }

    /// Appends a section: u32 byte length, then what `body` writes.
    static func writeSection(into writer: inout WireWriter, _ body: (inout WireWriter) -> Void) {
        var section = WireWriter()
        body(&section)
        writer.write(UInt32(section.bytes.count))
        writer.writeRaw(section.bytes)
    }

    /// Reads a section's length and bytes and hands a reader over exactly them to `body`, which
    /// must read all of them.
    static func readSection<Value>(
        _ field: String,
        from reader: inout WireReader,
        _ body: (inout WireReader) throws(WireError) -> Value
    ) throws(WireError) -> Value {
        let length = Int(try reader.readUInt32(field + ".length"))
        let bytes = try reader.readRaw(length, field)
        var inner = WireReader(bytes)
        let value = try body(&inner)
        try inner.expectEnd(field)
        return value
    }

    /// `text` cut to at most `maximumBytes` of UTF-8 at a character boundary, ending in `...`
    /// when it was cut.
    static func clipped(_ text: String, maximumBytes: Int) -> String {
        guard text.utf8.count > maximumBytes else { return text }
        var cut = ""
        for character in text {
            guard cut.utf8.count + character.utf8.count <= maximumBytes - 3 else { break }
            cut.append(character)
        }
        return cut + "..."
    }
}
