import Crypto
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Artifacts (datasets, weights, reports) as files named by the SHA-256 of their bytes, beside
/// the run database: `runs/<id>/artifacts/sha256/ab/abcdef…`.
///
/// Writes are atomic (a temporary file in `artifacts/tmp/`, fsync, rename, fsync of the
/// directory): an artifact is either whole under its name or absent, whatever crashes. Reads
/// verify the hash. For transfer over the mesh, blobs are read in chunks of at most
/// ``chunkSize`` (under the mesh's 8 MiB message limit) and reassembled with ``Incoming``, which
/// checks the hash before the artifact appears.
///
/// ```swift
/// let artifacts = try ArtifactStore(runDirectory: run.path)
/// let hash = try artifacts.put(weights)          // ContentHash
/// let back = try artifacts.get(hash)             // verified bytes
/// ```
public struct ArtifactStore: Sendable {
    /// The chunk size for transfers: 1 MiB, well under `ZMQ_MAXMSGSIZE` (8 MiB) with its envelope.
    public static let chunkSize = 1 << 20

    /// The artifacts directory (`<run>/artifacts`).
    public let root: String

    /// The artifact store of a run directory; creates `artifacts/sha256` and `artifacts/tmp`.
    public init(runDirectory: String) throws(StoreError) {
        guard FileIO.isDirectory(runDirectory) else {
            throw StoreError(.notARun, path: runDirectory, "not a run directory (no such directory)")
        }
        try self.init(root: runDirectory + "/artifacts")
    }

    /// An artifact store rooted at `root` (a cache of blobs fetched from other hosts, say).
    public init(root: String) throws(StoreError) {
        self.root = root
        try FileIO.makeDirectories(root + "/sha256")
        try FileIO.makeDirectories(root + "/tmp")
    }

    /// Where the artifact named `hash` lives.
    public func path(of hash: ContentHash) -> String {
        "\(self.root)/sha256/\(hash.hex.prefix(2))/\(hash.hex)"
    }

    /// Whether the artifact is stored (its bytes are not re-verified).
    public func contains(_ hash: ContentHash) -> Bool {
        FileIO.fileSize(self.path(of: hash)) != nil
    }

    /// Its size in bytes.
    public func size(of hash: ContentHash) throws(StoreError) -> Int64 {
        guard let size = FileIO.fileSize(self.path(of: hash)) else {
            throw StoreError(.missingArtifact, path: self.path(of: hash), "no such artifact")
        }
        return size
    }

    /// Stores `bytes` and returns their hash; durable when it returns. Storing bytes already
    /// stored is a no-op.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws(StoreError) -> ContentHash {
        let hash = ContentHash(of: bytes)
        if self.contains(hash) { return hash }
        let temporary = try self.makeTemporary()
        do {
            try FileIO.writeAll(temporary.fd, bytes, path: temporary.path)
        } catch {
            FileIO.close(temporary.fd)
            FileIO.removeQuietly(temporary.path)
            throw error
        }
        try self.commit(temporary, as: hash)
        return hash
    }

    /// The bytes of the artifact, verified against its name.
    public func get(_ hash: ContentHash) throws(StoreError) -> [UInt8] {
        let path = self.path(of: hash)
        let size = try self.size(of: hash)
        let fd = try FileIO.open(path, O_RDONLY, doing: "cannot open the artifact")
        defer { FileIO.close(fd) }
        let bytes = try FileIO.read(fd, count: Int(size), at: 0, path: path)
        let actual = ContentHash(of: bytes)
        guard actual == hash, bytes.count == size else {
            throw StoreError(.artifactMismatch, path: path, "the artifact's bytes hash to \(actual), not to its name")
        }
        return bytes
    }

    /// Re-reads the artifact in chunks and checks its hash, without holding it whole in memory.
    public func verify(_ hash: ContentHash) throws(StoreError) {
        let path = self.path(of: hash)
        let size = try self.size(of: hash)
        let fd = try FileIO.open(path, O_RDONLY, doing: "cannot open the artifact")
        defer { FileIO.close(fd) }
        var hasher = SHA256()
        var offset: Int64 = 0
        while offset < size {
            let chunk = try FileIO.read(fd, count: Self.chunkSize, at: offset, path: path)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            offset += Int64(chunk.count)
        }
        let actual = ContentHash(digest: hasher.finalize())
        guard actual == hash else {
            throw StoreError(.artifactMismatch, path: path, "the artifact's bytes hash to \(actual), not to its name")
        }
    }

    /// Up to `length` bytes (at most ``chunkSize``) of the artifact from `offset`; fewer at its end.
    /// A chunk is not verified on its own: the receiver checks the whole (``Incoming/finish()``).
    public func chunk(_ hash: ContentHash, offset: Int64, length: Int = ArtifactStore.chunkSize) throws(StoreError) -> [UInt8] {
        let path = self.path(of: hash)
        let size = try self.size(of: hash)
        guard offset >= 0, offset <= size, length > 0, length <= Self.chunkSize else {
            throw StoreError(
                .invalidArgument, path: path,
                "chunk at \(offset) of \(length) bytes is out of range (size \(size), chunks of at most \(Self.chunkSize))")
        }
        let fd = try FileIO.open(path, O_RDONLY, doing: "cannot open the artifact")
        defer { FileIO.close(fd) }
        return try FileIO.read(fd, count: Int(min(Int64(length), size - offset)), at: offset, path: path)
    }

    /// Starts receiving the artifact `hash` of `size` bytes in chunks (from another host).
    public func receive(_ hash: ContentHash, size: Int64) throws(StoreError) -> Incoming {
        Incoming(store: self, hash: hash, size: size, temporary: try self.makeTemporary())
    }

    /// An artifact being received in chunks: written to a temporary file, checked and renamed
    /// into place by ``finish()``; ``cancel()`` (or a failed finish) removes the temporary file.
    /// Used by one task at a time.
    public final class Incoming {
        /// The artifact expected.
        public let hash: ContentHash
        /// Its size in bytes.
        public let size: Int64
        private let store: ArtifactStore
        private let temporary: (fd: Int32, path: String)
        private var hasher = SHA256()
        /// Bytes received so far (chunks arrive in order).
        public private(set) var received: Int64 = 0
        private var open = true

        init(store: ArtifactStore, hash: ContentHash, size: Int64, temporary: (fd: Int32, path: String)) {
            self.store = store
            self.hash = hash
            self.size = size
            self.temporary = temporary
        }

        /// Appends the chunk that starts at `offset` (which must be ``received``).
        public func write(_ chunk: [UInt8], at offset: Int64) throws(StoreError) {
            guard self.open, offset == self.received, self.received + Int64(chunk.count) <= self.size else {
                throw StoreError(
                    .artifactMismatch, path: self.temporary.path,
                    "chunk at \(offset) (\(chunk.count) bytes) does not continue \(self.hash) at \(self.received) of \(self.size)")
            }
            try FileIO.writeAll(self.temporary.fd, chunk, path: self.temporary.path)
            self.hasher.update(data: chunk)
            self.received += Int64(chunk.count)
        }

        /// Checks size and hash, then moves the artifact into place, durably.
        public func finish() throws(StoreError) {
            guard self.open else { throw StoreError(.invalidArgument, path: self.temporary.path, "transfer already ended") }
            let actual = ContentHash(digest: self.hasher.finalize())
            guard self.received == self.size, actual == self.hash else {
                self.cancel()
                throw StoreError(
                    .artifactMismatch, path: self.store.path(of: self.hash),
                    "received \(self.received) of \(self.size) bytes hashing to \(actual): not the artifact expected")
            }
            self.open = false
            try self.store.commit(self.temporary, as: self.hash)
        }

        /// Abandons the transfer.
        public func cancel() {
            guard self.open else { return }
            self.open = false
            FileIO.close(self.temporary.fd)
            FileIO.removeQuietly(self.temporary.path)
        }

        deinit { self.cancel() }
    }

    // MARK: - Internals

    private func makeTemporary() throws(StoreError) -> (fd: Int32, path: String) {
        var template = Array("\(self.root)/tmp/incoming-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileIO.error(errno, path: self.root + "/tmp", doing: "cannot create a temporary file") }
        return (fd, String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// fsync, close, rename into `sha256/ab/`, fsync that directory. Always closes
    /// `temporary.fd`; on failure removes the temporary file too.
    fileprivate func commit(_ temporary: (fd: Int32, path: String), as hash: ContentHash) throws(StoreError) {
        var renamed = false
        defer { if !renamed { FileIO.removeQuietly(temporary.path) } }
        do {
            try FileIO.sync(temporary.fd, path: temporary.path)
        } catch {
            FileIO.close(temporary.fd)
            throw error
        }
        // mkstemp makes 0600 files; artifacts are for every local process to read.
        _ = fchmod(temporary.fd, 0o644)
        FileIO.close(temporary.fd)
        let directory = "\(self.root)/sha256/\(hash.hex.prefix(2))"
        try FileIO.makeDirectories(directory)
        try FileIO.rename(temporary.path, to: self.path(of: hash))
        renamed = true
        try FileIO.syncDirectory(directory)
    }
}
