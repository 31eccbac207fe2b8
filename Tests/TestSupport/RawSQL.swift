import CSQLite
import Foundation

/// A fresh ledger path in its own temporary directory.
public func temporaryLedgerPath() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-ledger-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("ledger.sqlite").path
}

/// Runs SQL on a ledger file through a plain sqlite3 connection (no ledger code), as an
/// operator with the sqlite3 shell would: to inspect pragmas, or to corrupt a copy on purpose.
public func rawSQL(_ path: String, _ sql: String) throws {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK else { throw RawSQLError(message: "cannot open \(path)") }
    defer { sqlite3_close(db) }
    var message: UnsafeMutablePointer<CChar>?
    if sqlite3_exec(db, sql, nil, nil, &message) != SQLITE_OK {
        defer { sqlite3_free(message) }
        throw RawSQLError(message: message.map { String(cString: $0) } ?? "error")
    }
}

/// The first column of every row of a query, as text.
public func rawQuery(_ path: String, _ sql: String) throws -> [String] {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { throw RawSQLError(message: "cannot open \(path)") }
    defer { sqlite3_close(db) }
    var stmt: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw RawSQLError(message: String(cString: sqlite3_errmsg(db))) }
    defer { sqlite3_finalize(stmt) }
    var rows: [String] = []
    while sqlite3_step(stmt) == SQLITE_ROW { rows.append(sqlite3_column_text(stmt, 0).map { String(cString: $0) } ?? "NULL") }
    return rows
}

public struct RawSQLError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

