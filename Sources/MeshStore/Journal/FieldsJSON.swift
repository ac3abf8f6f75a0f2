import MeshCore

/// A logical record's fields as stored in `logical_journal.fields`: a JSON array of
/// `[name, value]` pairs in the record's order (`[["role","data"],["work","relay"]]`), which
/// `sqlite3` users can query with `json_extract(fields, '$[0][1]')`.
///
/// Written and read by hand: this is the journal's hot path, and the format is this one shape.
enum FieldsJSON {
    /// The JSON text of `fields`.
    static func encode(_ fields: [LogicalRecord.Field]) -> String {
        var bytes: [UInt8] = []
        self.encode(fields, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The JSON text of `fields` as UTF-8, replacing the content of `bytes` (reused between
    /// records so the hot path does not allocate).
    static func encode(_ fields: [LogicalRecord.Field], into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(UInt8(ascii: "["))
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            self.appendString(field.name, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            self.appendString(field.value, to: &bytes)
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `value` as a JSON string: quote, backslash and control characters escaped
    /// (`\n`, `\r`, `\t`, else `\u00XX`); everything else as its UTF-8 bytes.
    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most values (ids, numbers, hex) need no escape: copy their UTF-8 in one go.
        let copied =
            value.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
                guard !buffer.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                    return false
                }
                bytes.append(contentsOf: buffer)
                return true
            } ?? false
        if !copied {
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case ..<0x20:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(self.hexDigits[Int(byte >> 4)])
                    bytes.append(self.hexDigits[Int(byte & 0x0F)])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` as a JSON string to `text`.
    static func appendString(_ value: String, to text: inout String) {
        var bytes: [UInt8] = []
        self.appendString(value, to: &bytes)
        text += String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the lowercase hex of `digest` into `bytes` (replacing its content).
    static func hex(_ digest: [UInt8], into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        for byte in digest {
            bytes.append(self.hexDigits[Int(byte >> 4)])
            bytes.append(self.hexDigits[Int(byte & 0x0F)])
        }
    }

    /// The fields of a stored text, or nil when it is not an array of string pairs.
    static func decode(_ text: String) -> [LogicalRecord.Field]? {
        var parser = Parser(bytes: Array(text.utf8))
        return parser.fields()
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func fields() -> [LogicalRecord.Field]? {
            var result: [LogicalRecord.Field] = []
            guard self.take(UInt8(ascii: "[")) else { return nil }
            if self.take(UInt8(ascii: "]")) { return self.atEnd ? result : nil }
            repeat {
                guard self.take(UInt8(ascii: "[")), let name = self.string(), self.take(UInt8(ascii: ",")),
                    let value = self.string(), self.take(UInt8(ascii: "]"))
                else { return nil }
                result.append(LogicalRecord.Field(name, value))
            } while self.take(UInt8(ascii: ","))
            guard self.take(UInt8(ascii: "]")), self.atEnd else { return nil }
            return result
        }

        var atEnd: Bool {
            mutating get {
                self.skipSpaces()
                return self.at == self.bytes.count
            }
        }

        mutating func skipSpaces() {
            while self.at < self.bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(self.bytes[self.at]) { self.at += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            self.skipSpaces()
            guard self.at < self.bytes.count, self.bytes[self.at] == byte else { return false }
            self.at += 1
            return true
        }

        mutating func string() -> String? {
            guard self.take(UInt8(ascii: "\"")) else { return nil }
            var utf8: [UInt8] = []
            while self.at < self.bytes.count {
                let byte = self.bytes[self.at]
                self.at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.at < self.bytes.count else { return nil }
                    let escape = self.bytes[self.at]
                    self.at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var code = self.hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(code) {
                            guard self.take(UInt8(ascii: "\\")), self.bytes.count > self.at, self.bytes[self.at] == UInt8(ascii: "u")
                            else { return nil }
                            self.at += 1
                            guard let low = self.hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { return nil }
                        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        return nil
                    }
                default:
                    utf8.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard self.at + 4 <= self.bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in self.bytes[self.at..<self.at + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            self.at += 4
            return value
        }
    }
}
