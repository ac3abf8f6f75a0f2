internal import Crypto

/// Fetching one blob from one peer, as a sans-I/O state machine (docs/WIRE.md, "Blobs").
///
/// It asks for offset 0 first, which tells the blob's total size, then keeps up to `window`
/// chunk requests in flight. Chunks may arrive in any order, twice, or not at all: they are
/// reported as `.write` actions strictly in order, a request unanswered for `timeout` is sent
/// again, and after `maxAttempts` sends of one request the fetch fails. When every byte has
/// arrived the whole is checked against the hash: `.done` or `.failed(.hashMismatch)`.
///
/// The owner (an agent) sends each `.request`, writes each `.write`, calls ``tick(at:)`` at
/// ``nextDeadline`` or later, and feeds what the peer answers; the machine never sends, sleeps
/// or writes.
///
/// ```swift
/// var fetch = BlobFetch(hash: hash)
/// send(fetch.start(at: clock.now()))
/// // on a blobChunk from the peer:   perform(fetch.chunkReceived(chunk, at: clock.now()))
/// // on a blobMissing from the peer: perform(fetch.missingReceived(missing))
/// // every tick:                      perform(fetch.tick(at: clock.now()))
/// ```
public struct BlobFetch: Sendable {
    /// The fetch's settings.
    public struct Configuration: Sendable, Equatable {
        /// Bytes asked per request, 1…``BlobLimits/maxChunkBytes``.
        public var chunkSize: Int
        /// Requests in flight at once (≥ 1).
        public var window: Int
        /// How long a request waits for its chunk before it is sent again.
        public var timeout: Duration
        /// How many times one request is sent before the fetch fails as `.unanswered`.
        public var maxAttempts: Int
        /// The largest blob accepted; a larger total size fails the fetch as `.tooLarge`.
        public var maxSize: UInt64

        /// The defaults: 1 MiB chunks, 4 in flight, 500 ms timeout, 8 attempts, blobs up to 4 GiB.
        public init(
            chunkSize: Int = BlobLimits.maxChunkBytes,
            window: Int = 4,
            timeout: Duration = .milliseconds(500),
            maxAttempts: Int = 8,
            maxSize: UInt64 = 1 << 32
        ) {
            precondition((1...BlobLimits.maxChunkBytes).contains(chunkSize), "chunk size \(chunkSize) out of range")
            precondition(window >= 1 && maxAttempts >= 1, "a blob fetch needs a window and attempts")
            self.chunkSize = chunkSize
            self.window = window
            self.timeout = timeout
            self.maxAttempts = maxAttempts
            self.maxSize = maxSize
        }
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Send this request to the peer.
        case request(BlobRequest)
        /// Append these bytes, which start at `offset` (always the end of what was written before).
        case write(offset: UInt64, bytes: [UInt8])
        /// Every byte arrived and the whole hashes to the blob's name; `size` bytes were written.
        case done(size: UInt64)
        /// The fetch ended without the blob; discard what was written.
        case failed(BlobFetchError)
    }

    private enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// The first request is out; the total size is unknown.
        case sizing
        /// The total size is known; chunks are coming.
        case receiving(totalSize: UInt64)
        /// Done or failed; every later event is ignored.
        case finished
    }

    private struct Outstanding: Sendable {
        var length: UInt32
        var deadline: MonotonicTime
        var attempts: Int
    }

    /// The blob fetched.
    public let hash: BlobHash
    /// The settings.
    public let configuration: Configuration

    private var state = State.idle
    private var written: UInt64 = 0
    private var nextOffset: UInt64 = 0
    private var outstanding: [UInt64: Outstanding] = [:]
    private var buffered: [UInt64: [UInt8]] = [:]
    private var hasher = SHA256()

    /// A fetch of `hash`; nothing happens before ``start(at:)``.
    public init(hash: BlobHash, configuration: Configuration = Configuration()) {
        self.hash = hash
        self.configuration = configuration
    }

    /// Whether the fetch has ended (done or failed).
    public var isFinished: Bool { self.state == .finished }

    /// The blob's total size, once the first chunk told it.
    public var totalSize: UInt64? {
        if case .receiving(let total) = self.state { return total }
        return nil
    }

    /// Bytes reported by `.write` so far.
    public var bytesWritten: UInt64 { self.written }

    /// The earliest time a request times out; nil when none is in flight.
    public var nextDeadline: MonotonicTime? { self.outstanding.values.map(\.deadline).min() }

    /// Starts the fetch: asks for the first chunk, which also tells the total size.
    public mutating func start(at now: MonotonicTime) -> [Action] {
        guard self.state == .idle else { return [] }
        self.state = .sizing
        let first = self.request(offset: 0, length: UInt32(self.configuration.chunkSize), attempts: 1, at: now)
        self.nextOffset = UInt64(self.configuration.chunkSize)
        return [first]
    }

    /// The peer sent a chunk. Chunks of another blob, of a range not in flight (a duplicate or
    /// a late answer to a request already satisfied) are ignored.
    public mutating func chunkReceived(_ chunk: BlobChunk, at now: MonotonicTime) -> [Action] {
        guard chunk.hash == self.hash, let pending = self.outstanding[chunk.offset] else { return [] }
        let total: UInt64
        switch self.state {
        case .idle, .finished:
            return []
        case .sizing:
            guard chunk.totalSize <= self.configuration.maxSize else {
                return self.fail(.tooLarge, "the peer's blob is \(chunk.totalSize) bytes, at most \(self.configuration.maxSize) accepted")
            }
            total = chunk.totalSize
            self.state = .receiving(totalSize: total)
        case .receiving(let known):
            guard chunk.totalSize == known else {
                return self.fail(
                    .sizeMismatch, "the chunk at offset \(chunk.offset) gives a total of \(chunk.totalSize) bytes, earlier ones \(known)")
            }
            total = known
        }
        let expected = min(UInt64(pending.length), total - min(chunk.offset, total))
        guard UInt64(chunk.bytes.count) == expected else {
            return self.fail(
                .sizeMismatch,
                "the chunk at offset \(chunk.offset) has \(chunk.bytes.count) bytes, \(expected) expected (total \(total))")
        }
        self.outstanding[chunk.offset] = nil
        self.buffered[chunk.offset] = chunk.bytes
        var actions: [Action] = []
        while let bytes = self.buffered.removeValue(forKey: self.written) {
            guard !bytes.isEmpty else { break }
            self.hasher.update(data: bytes)
            actions.append(.write(offset: self.written, bytes: bytes))
            self.written += UInt64(bytes.count)
        }
        if self.written == total {
            let actual = BlobHash(bytes: Array(self.hasher.finalize()))!
            guard actual == self.hash else {
                return actions + self.fail(.hashMismatch, "the \(total) bytes received hash to \(actual)")
            }
            self.finish()
            return actions + [.done(size: total)]
        }
        // Requests the first chunk made for ranges past the end are moot.
        for offset in self.outstanding.keys where offset >= total { self.outstanding[offset] = nil }
        while self.outstanding.count < self.configuration.window, self.nextOffset < total {
            let length = min(UInt64(self.configuration.chunkSize), total - self.nextOffset)
            actions.append(self.request(offset: self.nextOffset, length: UInt32(length), attempts: 1, at: now))
            self.nextOffset += length
        }
        return actions
    }

    /// The peer said it does not have the blob: the fetch fails as `.missing`.
    public mutating func missingReceived(_ missing: BlobMissing) -> [Action] {
        guard missing.hash == self.hash, self.state != .idle, self.state != .finished else { return [] }
        return self.fail(.missing, missing.reason)
    }

    /// Time passed: sends again every request whose timeout expired, or fails the fetch as
    /// `.unanswered` when one has been sent `maxAttempts` times.
    public mutating func tick(at now: MonotonicTime) -> [Action] {
        guard self.state != .idle, self.state != .finished else { return [] }
        var actions: [Action] = []
        for offset in self.outstanding.keys.sorted() {
            guard let pending = self.outstanding[offset], pending.deadline <= now else { continue }
            guard pending.attempts < self.configuration.maxAttempts else {
                return self.fail(
                    .unanswered,
                    "no answer to the request at offset \(offset) after \(pending.attempts) attempts \(self.configuration.timeout) apart")
            }
            actions.append(self.request(offset: offset, length: pending.length, attempts: pending.attempts + 1, at: now))
        }
        return actions
    }

    /// Ends the fetch from outside (the owner gave up); later events are ignored.
    public mutating func cancel() {
        self.finish()
    }

    private mutating func request(offset: UInt64, length: UInt32, attempts: Int, at now: MonotonicTime) -> Action {
        self.outstanding[offset] = Outstanding(length: length, deadline: now.adding(self.configuration.timeout), attempts: attempts)
        return .request(BlobRequest(hash: self.hash, offset: offset, length: length))
    }

    private mutating func fail(_ code: BlobFetchError.Code, _ reason: String) -> [Action] {
        self.finish()
        return [.failed(BlobFetchError(code, hash: self.hash, reason))]
    }

    private mutating func finish() {
        self.state = .finished
        self.outstanding.removeAll()
        self.buffered.removeAll()
    }
}
