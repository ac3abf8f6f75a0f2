public import MeshCompute
public import MeshCore
import Synchronization

/// A bounded cache of decoded weights, least recently used first out, keyed by the hash of the
/// weights file they were decoded from.
///
/// A pipeline agent keeps every version it deployed as weights files in its content-addressed
/// blob store and decodes one only when a request needs it (``ModelVersion``'s stored form); this
/// cache holds the last few decoded, at most ``maximumCount`` of them and at most
/// ``maximumBytes`` together (the weights files' sizes, a proxy for the decoded models', which
/// take about as much, twice for an int8 model with its packed copy). Being keyed by content,
/// two versions with the same weights share an entry.
///
/// Callable from any thread: lookups and insertions take a short lock; decoding runs outside it,
/// so two threads that miss the same entry at once may both decode it (the result is the same).
///
/// ```swift
/// let cache = DecodedWeightsCache(maximumCount: 8, maximumBytes: 4 << 20)
/// let model = try cache.weights(for: hash, bytes: fileBytes.count) { try WeightsFile.decode(fileBytes, source: "v3") }
/// ```
public final class DecodedWeightsCache: Sendable {
    /// The most entries kept.
    public let maximumCount: Int
    /// The most weights-file bytes kept decoded together; one entry larger than this is still
    /// kept alone (it is being used).
    public let maximumBytes: Int

    private struct State {
        var entries: [BlobHash: (weights: WeightsFile.StoredModel, bytes: Int, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var decodes = 0
        var evictions = 0
    }

    private let state = Mutex(State())

    /// A cache of at most `maximumCount` entries (at least 1) and `maximumBytes` bytes.
    public init(maximumCount: Int = 8, maximumBytes: Int = 4 << 20) {
        self.maximumCount = max(1, maximumCount)
        self.maximumBytes = max(0, maximumBytes)
    }

    /// What the cache holds and has done.
    public struct Statistics: Sendable, Equatable {
        /// Entries held now.
        public var count: Int
        /// Their weights files' bytes together.
        public var bytes: Int
        /// Lookups answered from the cache.
        public var hits: Int
        /// Lookups that decoded.
        public var decodes: Int
        /// Entries dropped to stay within the bounds.
        public var evictions: Int
    }

    /// What the cache holds and has done so far.
    public var statistics: Statistics {
        self.state.withLock { Statistics(count: $0.entries.count, bytes: $0.bytes, hits: $0.hits, decodes: $0.decodes, evictions: $0.evictions) }
    }

    /// Whether the weights decoded from the file `hash` are held now.
    public func contains(_ hash: BlobHash) -> Bool {
        self.state.withLock { $0.entries[hash] != nil }
    }

    /// The weights decoded from the file `hash`: from the cache, or `decode()`d (on the calling
    /// thread, outside the lock) and kept, evicting the least recently used entries beyond the
    /// bounds. `bytes` is the file's size.
    ///
    /// - Throws: what `decode` throws; nothing is kept then.
    public func weights(for hash: BlobHash, bytes: Int, decode: () throws -> WeightsFile.StoredModel) rethrows -> WeightsFile.StoredModel {
        if let hit = self.state.withLock({ state -> WeightsFile.StoredModel? in
            guard let entry = state.entries[hash] else { return nil }
            state.clock += 1
            state.hits += 1
            state.entries[hash]!.used = state.clock
            return entry.weights
        }) {
            return hit
        }
        let weights = try decode()
        self.insert(weights, for: hash, bytes: bytes, counting: true)
        return weights
    }

    /// Keeps weights already decoded (a deploy decodes them to check them) as the most recently
    /// used entry.
    public func insert(_ weights: WeightsFile.StoredModel, for hash: BlobHash, bytes: Int) {
        self.insert(weights, for: hash, bytes: bytes, counting: false)
    }

    private func insert(_ weights: WeightsFile.StoredModel, for hash: BlobHash, bytes: Int, counting: Bool) {
        self.state.withLock { state in
            state.clock += 1
            if counting { state.decodes += 1 }
            if let old = state.entries[hash] { state.bytes -= old.bytes }
            state.entries[hash] = (weights, bytes, state.clock)
            state.bytes += bytes
            while state.entries.count > self.maximumCount || state.bytes > self.maximumBytes && state.entries.count > 1 {
                // A linear scan: the cache holds a handful of entries.
                guard let oldest = state.entries.filter({ $0.key != hash }).min(by: { $0.value.used < $1.value.used }) else {
                    break
                }
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.bytes
                state.evictions += 1
            }
        }
    }
}
