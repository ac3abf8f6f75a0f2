import GRDB

extension StoreError {
    /// Maps a GRDB/SQLite error met while `doing` something with `path` to a one-line store error,
    /// keeping SQLite's extended result code.
    init(_ error: any Error, path: String, doing: String) {
        if let error = error as? StoreError {
            self = error
            return
        }
        guard let error = error as? DatabaseError else {
            self.init(.io, path: path, "\(doing): \(error)")
            return
        }
        let native = error.extendedResultCode.rawValue
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_CORRUPT:
            self.init(.corrupt, path: path, "\(doing): the database is corrupt or truncated (\(detail))", nativeCode: native)
        case .SQLITE_NOTADB:
            self.init(.notADatabase, path: path, "\(doing): not an SQLite database (\(detail))", nativeCode: native)
        case .SQLITE_READONLY:
            self.init(.readOnly, path: path, "\(doing): read-only (\(detail))", nativeCode: native)
        case .SQLITE_FULL:
            self.init(.diskFull, path: path, "\(doing): the disk is full; nothing of this operation was written", nativeCode: native)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self.init(.busy, path: path, "\(doing): the database is locked by another process (\(detail))", nativeCode: native)
        case .SQLITE_CONSTRAINT:
            self.init(.invalidArgument, path: path, "\(doing): \(detail)", nativeCode: native)
        case .SQLITE_CANTOPEN:
            self.init(.io, path: path, "\(doing): cannot open the database file (\(detail))", nativeCode: native)
        case .SQLITE_IOERR where error.extendedResultCode == .SQLITE_IOERR_SHORT_READ:
            self.init(.corrupt, path: path, "\(doing): the database file is truncated (\(detail))", nativeCode: native)
        default:
            self.init(.io, path: path, "\(doing): \(detail)", nativeCode: native)
        }
    }
}
