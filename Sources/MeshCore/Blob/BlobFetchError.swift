/// Why fetching a blob from a peer failed.
public struct BlobFetchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The peer said it does not have the blob (or cannot serve a range of it).
        case missing
        /// A request went unanswered after every attempt.
        case unanswered
        /// The peer's chunks contradict each other or the requests (another total size, a
        /// short chunk before the end, a range not asked for).
        case sizeMismatch
        /// The blob is larger than this fetcher accepts.
        case tooLarge
        /// The bytes received do not hash to the blob's name.
        case hashMismatch
        /// The local store could not keep the blob.
        case store
    }

    /// The kind of failure.
    public var code: Code
    /// The blob.
    public var hash: BlobHash
    /// A human-readable reason naming the peer or the offset.
    public var reason: String

    /// Makes an error of `code` about `hash`.
    public init(_ code: Code, hash: BlobHash, _ reason: String) {
        self.code = code
        self.hash = hash
        self.reason = reason
    }

    public var description: String { "\(self.code.rawValue): \(self.hash): \(self.reason)" }
}
