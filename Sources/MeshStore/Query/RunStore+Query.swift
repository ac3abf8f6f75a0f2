import GRDB

/// One row of a read-only query: column name → value as text (integers and reals in their
/// decimal form, NULL as absent).
public struct StoredRow: Sendable, Equatable {
    /// The row's values by column name; a NULL column is absent.
    public var values: [String: String]

    /// A row from its values by column name.
    public init(values: [String: String]) {
        self.values = values
    }

    /// The column's text, nil for NULL or an unknown column.
    public subscript(_ column: String) -> String? { self.values[column] }

    /// The column as an integer, nil for NULL or text that is not one.
    public func int(_ column: String) -> Int64? { self.values[column].flatMap { Int64($0) } }

    /// The column as a real, nil for NULL or text that is not one.
    public func double(_ column: String) -> Double? { self.values[column].flatMap { Double($0) } }
}

extension RunStore {
    /// Runs one `SELECT` in a read transaction (one consistent snapshot) and returns its rows.
    ///
    /// For views over the documented schema (docs/STORE.md), such as the oversight page and
    /// `/metrics`, which read a run while its coordinator writes it. Only statements that read
    /// are allowed: anything else is refused with ``StoreError/Code/invalidArgument`` before it
    /// runs (and a read-only store could not write anyway).
    public func query(_ sql: String, arguments: [String] = []) throws(StoreError) -> [StoredRow] {
        let trimmed = sql.drop { $0 == " " || $0 == "\n" }.prefix(6).lowercased()
        guard trimmed == "select" || trimmed.hasPrefix("with") else {
            throw StoreError(.invalidArgument, path: self.databasePath, "only SELECT queries are allowed here: \(sql.prefix(40))")
        }
        return try self.read("cannot query the run") { db in
            let statement = try db.makeStatement(sql: sql)
            guard statement.isReadonly else {
                throw StoreError(.invalidArgument, path: self.databasePath, "the query would write: \(sql.prefix(40))")
            }
            let names = statement.columnNames
            var rows: [StoredRow] = []
            let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
            while let row = try cursor.next() {
                var values: [String: String] = [:]
                for (index, name) in names.enumerated() {
                    let value = row[index] as DatabaseValue
                    switch value.storage {
                    case .null: continue
                    case .int64(let number): values[name] = String(number)
                    case .double(let number): values[name] = String(number)
                    case .string(let text): values[name] = text
                    case .blob(let bytes): values[name] = String(decoding: bytes, as: UTF8.self)
                    }
                }
                rows.append(StoredRow(values: values))
            }
            return rows
        }
    }

    /// Whether another process holds the run's writer lock (its coordinator is alive).
    public var isBeingWritten: Bool { FileIO.isLockedByAnother(self.databasePath + "-writer") }
}
