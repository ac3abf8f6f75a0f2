public import MeshCore

/// A CURVE key pair in Z85 text (40 characters each), as `meshwork keys generate` writes it.
///
/// ```swift
/// let pair = try CurveKeyPair.generate()
/// let same = try CurveKeyPair(secretKey: pair.secretKey)   // the public key is derived
/// ```
public struct CurveKeyPair: Hashable, Sendable, CustomStringConvertible {
    /// The public key: give it to peers (the roster, an agent's `--server-key`).
    public let publicKey: String
    /// The secret key: never leaves its host (written with mode 0600).
    public let secretKey: String

    /// A fresh key pair from libzmq (libsodium's random source).
    ///
    /// Throws `.system` when libzmq has no CURVE support.
    public static func generate() throws(TransportError) -> CurveKeyPair {
        let (publicKey, secretKey) = try ZeroMQSystem.curveKeyPair()
        return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    /// The pair of a secret key, its public key derived from it.
    ///
    /// Throws `.security` when `secretKey` is not a 40-character Z85 key.
    public init(secretKey: String) throws(TransportError) {
        guard Self.isKey(secretKey), let publicKey = ZeroMQSystem.curvePublicKey(ofSecret: secretKey) else {
            throw TransportError(.security, "not a CURVE secret key (40 Z85 characters expected)")
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `text` looks like a Z85-encoded 32-byte key: 40 characters of the Z85 alphabet.
    public static func isKey(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { Self.alphabet.contains($0) }
    }

    private static let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// The public key only: a secret key never goes into a log.
    public var description: String { "CurveKeyPair(public: \(self.publicKey))" }
}
