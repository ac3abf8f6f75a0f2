internal import Crypto

/// The content address of a blob (a dataset or a weights file): the SHA-256 of its bytes,
/// written `sha256:` + 64 lowercase hex digits.
///
/// A compute request may name an operand by its hash instead of carrying it; the node resolves
/// it through its runtime (the artifact store) and checks the bytes it gets against the hash.
public struct BlobHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 bytes of the SHA-256.
    public let bytes: [UInt8]

    /// The hash of `contents`.
    public init(of contents: some Collection<UInt8>) {
        self.bytes = Array(SHA256.hash(data: Array(contents)))
    }

    /// A hash from its 32 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses `sha256:` followed by 64 hex digits (either case); nil for anything else.
    public init?(_ text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let digits = Array(text.utf8.dropFirst(7))
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[pair]), let low = Self.nibble(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    init(reading reader: inout WireReader, field: String) throws(WireError) {
        self.bytes = try reader.readRaw(32, field)
    }

    /// `sha256:` + lowercase hex.
    public var description: String { "sha256:" + Hex.encode(self.bytes) }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
