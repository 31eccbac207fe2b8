import Foundation
import SQLite

/// A fresh ledger path in its own temporary directory.
public func temporaryLedgerPath() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-ledger-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("ledger.sqlite").path
}

/// Runs SQL on a ledger file through its own connection (no ledger code), as an operator with
/// the sqlite3 shell would: to inspect pragmas, or to corrupt a copy on purpose.
public func rawSQL(_ path: String, _ sql: String) throws {
    do { try SQLiteConnection(path: path, readOnly: false).execute(sql) } catch {
        throw RawSQLError(message: error.message)
    }
}

/// The first column of every row of a query, as text ("NULL" for NULL).
public func rawQuery(_ path: String, _ sql: String) throws -> [String] {
    do {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        return try connection.withStatement(sql, cached: false) { s in
            var rows: [String] = []
            while try s.step() { rows.append(s.isNull(0) ? "NULL" : s.text(0)) }
            return rows
        }
    } catch let error as SQLiteError {
        throw RawSQLError(message: error.message)
    }
}

public struct RawSQLError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

