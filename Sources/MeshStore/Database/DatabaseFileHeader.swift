/// A cheap look at an SQLite file's 100-byte header before SQLite opens it, so that a file that is
/// not SQLite, or one cut short, gets a clear one-line error instead of a later, vaguer one.
enum DatabaseFileHeader {
    /// Throws ``StoreError/Code/notADatabase`` or ``StoreError/Code/corrupt`` naming `path`.
    static func check(_ path: String) throws(StoreError) {
        guard let size = FileIO.fileSize(path) else { return }
        if size == 0 {
            throw StoreError(.corrupt, path: path, "the database file is empty (truncated)")
        }
        let fd = try FileIO.open(path, 0, doing: "cannot read the database header")  // O_RDONLY
        defer { FileIO.close(fd) }
        let header = try FileIO.read(fd, count: 100, at: 0, path: path)
        let magic = Array("SQLite format 3\u{0}".utf8)
        guard header.count >= magic.count, Array(header.prefix(magic.count)) == magic else {
            throw StoreError(.notADatabase, path: path, "not an SQLite database (no SQLite header)")
        }
        guard header.count == 100 else {
            throw StoreError(.corrupt, path: path, "the database file is truncated (\(size) bytes)")
        }
        func u32(_ at: Int) -> UInt32 { header[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        let rawPageSize = Int64(header[16]) << 8 | Int64(header[17])
        let pageSize = rawPageSize == 1 ? 65_536 : rawPageSize
        let pages = Int64(u32(28))
        // The in-header page count is valid when the change counter matches version-valid-for.
        // While a WAL holds frames, pages may live only there, so compare only a quiescent file.
        let walSize = FileIO.fileSize(path + "-wal") ?? 0
        guard walSize == 0, pages > 0, u32(24) == u32(92), pageSize >= 512 else { return }
        if size < pages * pageSize {
            throw StoreError(
                .corrupt, path: path,
                "the database file is truncated: \(size) bytes, its header says \(pages) pages of \(pageSize) bytes")
        }
    }
}
