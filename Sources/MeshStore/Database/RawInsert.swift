import GRDB
import GRDBSQLite

/// A prepared GRDB statement bound and stepped through SQLite's C API, for the journal's hot path.
///
/// GRDB's `execute(arguments:)` boxes every value in a `DatabaseValue` array; at 6-7 values a row
/// that boxing (allocation, retain/release), not SQLite, was most of the append cost (perf on
/// `meshwork store-bench`). Only plain INSERTs inside a transaction GRDB opened go through here: no
/// rows come back, and GRDB's transaction bookkeeping is unaffected.
///
/// Use: ``reset()``, one `bind` per parameter (1-based), then ``step()``.
struct RawInsert {
    private let statement: Statement
    private let db: Database

    /// Prepares (or takes from GRDB's cache) the statement of `sql` on `db`.
    init(_ db: Database, _ sql: String) throws {
        self.db = db
        self.statement = try db.cachedStatement(sql: sql)
    }

    private var handle: SQLiteStatement { self.statement.sqliteStatement }

    /// Makes the statement ready for new bindings (a failed step left it to be reset too).
    func reset() {
        sqlite3_reset(self.handle)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(self.handle, index, value)
    }

    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = sqlite3_bind_text(self.handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    /// Binds UTF-8 bytes already encoded (JSON, hex) as TEXT, without making a String.
    func bind(_ index: Int32, utf8 bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            _ = sqlite3_bind_text(self.handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    /// Binds bytes as a BLOB (an empty one is a zero-length BLOB, not NULL).
    func bind(_ index: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            _ = sqlite3_bind_blob(self.handle, index, buffer.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(buffer.count), Self.transient)
        }
    }

    /// Binds `text`, or NULL when it is nil.
    func bind(_ index: Int32, _ text: String?) {
        if let text { self.bind(index, text) } else { sqlite3_bind_null(self.handle, index) }
    }

    /// Runs the statement to completion.
    func step() throws {
        let code = sqlite3_step(self.handle)
        guard code == SQLITE_DONE else {
            let extended = sqlite3_extended_errcode(self.db.sqliteConnection)
            sqlite3_reset(self.handle)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: extended), message: self.db.lastErrorMessage, sql: self.statement.sql)
        }
    }

    /// `SQLITE_TRANSIENT` (SQLite copies the bytes), a macro Swift cannot import.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
