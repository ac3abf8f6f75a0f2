import GRDB
import GRDBSQLite

/// A prepared GRDB statement bound and stepped through SQLite's C API, for the journal's hot path.
///
/// GRDB's `execute(arguments:)` boxes every value in a `DatabaseValue` array; at 10-20 values a
/// record that boxing, not SQLite, was most of the append cost (perf, `meshwork store-bench`).
/// Only plain INSERTs inside a transaction GRDB opened go through here: no rows come back, and
/// GRDB's transaction bookkeeping is unaffected.
struct RawInsert {
    private let statement: Statement
    private let db: Database

    /// Prepares (or takes from GRDB's cache) the statement of `sql` on `db`.
    init(_ db: Database, _ sql: String) throws {
        self.db = db
        self.statement = try db.cachedStatement(sql: sql)
    }

    private var handle: SQLiteStatement { self.statement.sqliteStatement }

    /// Binds `values` to parameters 1… and runs the statement to completion.
    func run(_ values: RawValue...) throws {
        sqlite3_reset(self.handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .integer(let number):
                sqlite3_bind_int64(self.handle, index, number)
            case .text(var text):
                text.withUTF8 { bytes in
                    _ = sqlite3_bind_text(self.handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
                }
            case .utf8(let bytes):
                bytes.withUnsafeBufferPointer { buffer in
                    _ = sqlite3_bind_text(self.handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
                }
            case .null:
                sqlite3_bind_null(self.handle, index)
            }
        }
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

/// One value to bind.
enum RawValue {
    case integer(Int64)
    case text(String)
    /// UTF-8 bytes already encoded (JSON, hex), bound as TEXT without making a String.
    case utf8([UInt8])
    case null
}
