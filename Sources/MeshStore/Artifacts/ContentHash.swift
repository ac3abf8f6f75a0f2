import Crypto

/// The name of an artifact: the SHA-256 of its bytes, as 64 lowercase hex digits.
public struct ContentHash: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The 64 lowercase hex digits.
    public let hex: String

    /// The hash of `bytes`.
    public init(of bytes: some Collection<UInt8>) {
        var hasher = SHA256()
        if let done = bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) {
            _ = done
        } else {
            hasher.update(data: Array(bytes))
        }
        self.hex = Self.hex(hasher.finalize())
    }

    /// A hash from its text, `sha256:<hex>` or bare hex; nil unless 64 hex digits.
    public init?(_ text: String) {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        let lowered = hex.lowercased()
        guard lowered.utf8.count == 64, lowered.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.hex = lowered
    }

    init(digest: SHA256.Digest) {
        self.hex = Self.hex(digest)
    }

    /// `sha256:` + hex.
    public var description: String { "sha256:" + self.hex }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var utf8: [UInt8] = []
        utf8.reserveCapacity(64)
        for byte in digest {
            utf8.append(digits[Int(byte >> 4)])
            utf8.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
