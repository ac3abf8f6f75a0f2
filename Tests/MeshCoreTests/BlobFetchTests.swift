import MeshCore
import Testing

/// Layer 1: the blob messages' codec and the ``BlobFetch`` machine, with a manual clock.
@Suite("Blob transfer")
struct BlobFetchTests {
    /// `count` seeded pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededRandom(seed: seed, key: "blob")
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func at(_ milliseconds: UInt64) -> MonotonicTime { MonotonicTime(nanoseconds: milliseconds * 1_000_000) }

    static let small = BlobFetch.Configuration(chunkSize: 100, window: 2, timeout: .milliseconds(500), maxAttempts: 3)

    /// The chunk a faithful peer answers `request` with.
    static func answer(_ request: BlobRequest, from blob: [UInt8]) -> BlobChunk {
        let start = Int(min(request.offset, UInt64(blob.count)))
        let end = min(start + Int(request.length), blob.count)
        return BlobChunk(hash: BlobHash(of: blob), offset: UInt64(start), totalSize: UInt64(blob.count), bytes: Array(blob[start..<end]))
    }

    static func requests(_ actions: [BlobFetch.Action]) -> [BlobRequest] {
        actions.compactMap { if case .request(let request) = $0 { request } else { nil } }
    }

    /// Runs a fetch against a faithful peer, answering every request at once, in order.
    static func fetchAll(_ blob: [UInt8], configuration: BlobFetch.Configuration) -> (written: [UInt8], last: BlobFetch.Action?) {
        var fetch = BlobFetch(hash: BlobHash(of: blob), configuration: configuration)
        var queue = Self.requests(fetch.start(at: .zero))
        var written: [UInt8] = []
        var last: BlobFetch.Action?
        var steps = 0
        while !queue.isEmpty, steps < 10_000 {
            steps += 1
            for action in fetch.chunkReceived(Self.answer(queue.removeFirst(), from: blob), at: .zero) {
                switch action {
                case .request(let request): queue.append(request)
                case .write(let offset, let bytes):
                    #expect(offset == UInt64(written.count))
                    written += bytes
                case .done, .failed: last = action
                }
            }
        }
        return (written, last)
    }

    // MARK: - Codec

    @Test func messagesRoundTripWithTheirDocumentedLayout() throws {
        let hash = BlobHash(of: Self.bytes(10))
        let request = BlobRequest(hash: hash, offset: 0x0102, length: 0x0304)
        #expect(request.encoded() == hash.bytes + [0x02, 0x01, 0, 0, 0, 0, 0, 0] + [0x04, 0x03, 0, 0])
        #expect(try BlobRequest(decoding: request.encoded()) == request)
        let chunk = BlobChunk(hash: hash, offset: 2, totalSize: 5, bytes: [7, 8, 9])
        #expect(chunk.encoded() == hash.bytes + [2, 0, 0, 0, 0, 0, 0, 0] + [5, 0, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 7, 8, 9])
        #expect(try BlobChunk(decoding: chunk.encoded()) == chunk)
        let missing = BlobMissing(hash: hash, reason: "no such blob")
        #expect(try BlobMissing(decoding: missing.encoded()) == missing)
        #expect(MessageKind.blobRequest.rawValue == 0x20 && !MessageKind.blobChunk.isReliable)
        #expect(BlobChunk.kind.isBlobTransfer && !MessageKind.result.isBlobTransfer)
    }

    @Test func truncatedBodiesAreTypedErrorsNamingTheField() {
        let hash = BlobHash(of: Self.bytes(10))
        let chunk = BlobChunk(hash: hash, offset: 0, totalSize: 3, bytes: [1, 2, 3]).encoded()
        for cut in [0, 10, 31, 32, 39, 47, 50, 54] {
            #expect(throws: WireError.self) { try BlobChunk(decoding: Array(chunk.prefix(cut))) }
        }
        do {
            _ = try BlobChunk(decoding: Array(chunk.prefix(40)))
            Issue.record("a truncated chunk decoded")
        } catch {
            #expect(error.code == .truncated)
            #expect(error.reason.contains("blobChunk.totalSize"), "\(error)")
        }
        do {
            _ = try BlobRequest(decoding: Array(BlobRequest(hash: hash, offset: 0, length: 1).encoded().prefix(20)))
            Issue.record("a truncated request decoded")
        } catch {
            #expect(error.code == .truncated && error.reason.contains("blobRequest.hash"), "\(error)")
        }
        do {
            _ = try BlobChunk(decoding: chunk + [0])
            Issue.record("trailing bytes decoded")
        } catch {
            #expect(error.code == .trailingBytes)
        }
    }

    @Test func garbageLengthsAreBoundedBeforeAnythingIsAllocated() {
        let hash = BlobHash(of: Self.bytes(10))
        var writer = WireWriter()
        writer.writeRaw(hash.bytes)
        writer.write(UInt64(0))
        writer.write(UInt32(BlobLimits.maxChunkBytes + 1))
        #expect(throws: WireError(.oversized, "blobRequest.length: \(BlobLimits.maxChunkBytes + 1) bytes, at most \(BlobLimits.maxChunkBytes) allowed")) {
            try BlobRequest(decoding: writer.bytes)
        }
        var zero = WireWriter()
        zero.writeRaw(hash.bytes)
        zero.write(UInt64(0))
        zero.write(UInt32(0))
        #expect(throws: WireError.self) { try BlobRequest(decoding: zero.bytes) }
        // A chunk claiming 4 GiB of bytes, and one whose bytes run past its total size.
        var huge = WireWriter()
        huge.writeRaw(hash.bytes)
        huge.write(UInt64(0))
        huge.write(UInt64(10))
        huge.write(UInt32.max)
        do {
            _ = try BlobChunk(decoding: huge.bytes)
            Issue.record("an oversized chunk decoded")
        } catch {
            #expect(error.code == .oversized && error.reason.contains("blobChunk.bytes"), "\(error)")
        }
        var past = WireWriter()
        past.writeRaw(hash.bytes)
        past.write(UInt64(8))
        past.write(UInt64(10))
        past.writeBlob([1, 2, 3])
        do {
            _ = try BlobChunk(decoding: past.bytes)
            Issue.record("a chunk past the end decoded")
        } catch {
            #expect(error.code == .invalidField && error.reason.contains("blobChunk.bytes"), "\(error)")
        }
        var longReason = WireWriter()
        longReason.writeRaw(hash.bytes)
        longReason.write(String(repeating: "x", count: BlobLimits.maxReasonBytes + 1))
        #expect(throws: WireError.self) { try BlobMissing(decoding: longReason.bytes) }
    }

    // MARK: - The machine

    @Test(arguments: [0, 1, 99, 100, 101, 350, 1_000])
    func aFaithfulPeerGivesEveryByteInOrder(size: Int) {
        let blob = Self.bytes(size, seed: UInt64(size))
        let (written, last) = Self.fetchAll(blob, configuration: Self.small)
        #expect(written == blob)
        #expect(last == .done(size: UInt64(size)))
    }

    @Test func theFirstRequestAsksOffsetZeroThenAWindowFollows() {
        let blob = Self.bytes(350)
        var fetch = BlobFetch(hash: BlobHash(of: blob), configuration: Self.small)
        let first = Self.requests(fetch.start(at: .zero))
        #expect(first.map(\.offset) == [0] && first.map(\.length) == [100])
        #expect(fetch.totalSize == nil)
        let after = fetch.chunkReceived(Self.answer(first[0], from: blob), at: .zero)
        #expect(fetch.totalSize == 350)
        #expect(Self.requests(after).map(\.offset) == [100, 200])
        #expect(after.first == .write(offset: 0, bytes: Array(blob[0..<100])))
    }

    @Test func aLostChunkIsRequestedAgainAfterTheTimeoutAndOutOfOrderChunksWait() {
        let blob = Self.bytes(350)
        var fetch = BlobFetch(hash: BlobHash(of: blob), configuration: Self.small)
        let first = Self.requests(fetch.start(at: .zero))
        let window = Self.requests(fetch.chunkReceived(Self.answer(first[0], from: blob), at: Self.at(1)))
        #expect(window.map(\.offset) == [100, 200])
        // The chunk at 100 is lost; the one at 200 arrives and is held back.
        let held = fetch.chunkReceived(Self.answer(window[1], from: blob), at: Self.at(2))
        #expect(!held.contains { if case .write = $0 { true } else { false } })
        #expect(Self.requests(held).map(\.offset) == [300])
        #expect(fetch.tick(at: Self.at(400)).isEmpty)
        #expect(fetch.nextDeadline == Self.at(501))
        let again = Self.requests(fetch.tick(at: Self.at(501)))
        #expect(again.map(\.offset) == [100])
        // A duplicate of a satisfied request changes nothing.
        #expect(fetch.chunkReceived(Self.answer(window[1], from: blob), at: Self.at(502)).isEmpty)
        let flushed = fetch.chunkReceived(Self.answer(again[0], from: blob), at: Self.at(503))
        #expect(flushed == [.write(offset: 100, bytes: Array(blob[100..<200])), .write(offset: 200, bytes: Array(blob[200..<300]))])
        let done = fetch.chunkReceived(Self.answer(BlobRequest(hash: fetch.hash, offset: 300, length: 50), from: blob), at: Self.at(504))
        #expect(done == [.write(offset: 300, bytes: Array(blob[300..<350])), .done(size: 350)])
        #expect(fetch.isFinished && fetch.tick(at: Self.at(10_000)).isEmpty)
    }

    @Test func aSilentPeerFailsTheFetchAfterTheLastAttempt() {
        var fetch = BlobFetch(hash: BlobHash(of: Self.bytes(10)), configuration: Self.small)
        #expect(Self.requests(fetch.start(at: .zero)).count == 1)
        #expect(Self.requests(fetch.tick(at: Self.at(500))).count == 1)
        #expect(Self.requests(fetch.tick(at: Self.at(1_000))).count == 1)
        let last = fetch.tick(at: Self.at(1_500))
        guard case .failed(let error) = last.first, last.count == 1 else {
            Issue.record("expected a failure, got \(last)")
            return
        }
        #expect(error.code == .unanswered)
        #expect(error.reason.contains("offset 0") && error.reason.contains("3 attempts"), "\(error)")
    }

    @Test func aMissingBlobFailsWithThePeersReason() {
        let hash = BlobHash(of: Self.bytes(10))
        var fetch = BlobFetch(hash: hash, configuration: Self.small)
        _ = fetch.start(at: .zero)
        #expect(fetch.missingReceived(BlobMissing(hash: BlobHash(of: [1]), reason: "another blob")).isEmpty)
        #expect(fetch.missingReceived(BlobMissing(hash: hash, reason: "no such blob")) == [.failed(BlobFetchError(.missing, hash: hash, "no such blob"))])
    }

    @Test func aChangedTotalOrAShortChunkIsASizeMismatch() {
        let blob = Self.bytes(350)
        let hash = BlobHash(of: blob)
        var fetch = BlobFetch(hash: hash, configuration: Self.small)
        _ = fetch.start(at: .zero)
        _ = fetch.chunkReceived(BlobChunk(hash: hash, offset: 0, totalSize: 350, bytes: Array(blob[0..<100])), at: .zero)
        let changed = fetch.chunkReceived(BlobChunk(hash: hash, offset: 100, totalSize: 400, bytes: Array(blob[100..<200])), at: .zero)
        guard case .failed(let error) = changed.last else {
            Issue.record("expected a failure, got \(changed)")
            return
        }
        #expect(error.code == .sizeMismatch && error.reason.contains("400"), "\(error)")

        var short = BlobFetch(hash: hash, configuration: Self.small)
        _ = short.start(at: .zero)
        let cut = short.chunkReceived(BlobChunk(hash: hash, offset: 0, totalSize: 350, bytes: Array(blob[0..<60])), at: .zero)
        guard case .failed(let shortError) = cut.last else {
            Issue.record("expected a failure, got \(cut)")
            return
        }
        #expect(shortError.code == .sizeMismatch && shortError.reason.contains("60 bytes, 100 expected"), "\(shortError)")
    }

    @Test func bytesThatHashElsewhereAreAHashMismatch() {
        let blob = Self.bytes(250)
        var forged = blob
        forged[123] ^= 0xFF
        var fetch = BlobFetch(hash: BlobHash(of: blob), configuration: Self.small)
        var queue = Self.requests(fetch.start(at: .zero))
        var last: BlobFetch.Action?
        for _ in 0..<10 where !queue.isEmpty {
            var chunk = Self.answer(queue.removeFirst(), from: forged)
            chunk.hash = fetch.hash
            let actions = fetch.chunkReceived(chunk, at: .zero)
            queue += Self.requests(actions)
            last = actions.last
        }
        guard case .failed(let error) = last else {
            Issue.record("expected a failure, got \(String(describing: last))")
            return
        }
        #expect(error.code == .hashMismatch)
    }

    @Test func aBlobOverTheLimitIsRefusedAtTheFirstChunk() {
        let blob = Self.bytes(100)
        var fetch = BlobFetch(
            hash: BlobHash(of: blob), configuration: BlobFetch.Configuration(chunkSize: 100, maxSize: 99))
        let first = Self.requests(fetch.start(at: .zero))
        let actions = fetch.chunkReceived(Self.answer(first[0], from: blob), at: .zero)
        guard case .failed(let error) = actions.last, actions.count == 1 else {
            Issue.record("\(actions)")
            return
        }
        #expect(error.code == .tooLarge)
    }
}
