internal import Crypto

/// The running SHA-256 digest of a logical journal: `d(i) = SHA-256(d(i-1) ‖ canonical(record i))`.
///
/// The same scenario and seed give the same digest whatever the placement, the number of
/// instances and the faults injected; `meshwork replay` compares runs record by record with it.
public struct JournalDigest: Sendable, Equatable {
    /// The digest before any record: SHA-256 of the text `meshwork.journal.v1`.
    public static let initial: [UInt8] = Array(SHA256.hash(data: Array("meshwork.journal.v1".utf8)))

    /// The current digest bytes.
    public private(set) var bytes: [UInt8] = JournalDigest.initial
    /// How many records it covers.
    public private(set) var count: UInt64 = 0

    public init() {}

    /// Folds the next record in and returns the new digest.
    @discardableResult
    public mutating func append(_ record: LogicalRecord) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: self.bytes)
        hasher.update(data: record.canonicalBytes(index: self.count))
        self.bytes = Array(hasher.finalize())
        self.count += 1
        return self.bytes
    }

    /// The digest as `sha256:` and lowercase hex, as summaries print it.
    public var text: String { "sha256:" + Hex.encode(self.bytes) }
}

/// Lowercase hexadecimal text of bytes.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The bytes as lowercase hex.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            utf8.append(digits[Int(byte >> 4)])
            utf8.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The bytes of lowercase or uppercase hex text; nil when it is not hex.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// The SHA-256 of `bytes`, as lowercase hex.
    public static func sha256(_ bytes: some Collection<UInt8>) -> String {
        encode(SHA256.hash(data: Array(bytes)))
    }
}
