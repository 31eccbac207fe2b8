import CSQLite

/// A failed SQLite call: the result code, the extended code, `sqlite3_errmsg` and the SQL
/// that was running (or the operation, for calls without SQL).
public struct SQLiteError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …).
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_PRIMARYKEY`, …).
    public var extendedCode: Int32
    public var message: String
    public var sql: String

    /// A UNIQUE / PRIMARY KEY / CHECK / FOREIGN KEY / trigger violation.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
    /// A PRIMARY KEY or UNIQUE constraint failed (the row already exists).
    public var isUniqueViolation: Bool {
        // SQLITE_CONSTRAINT_PRIMARYKEY and _UNIQUE are macros Swift cannot import.
        extendedCode == SQLITE_CONSTRAINT | (6 << 8) || extendedCode == SQLITE_CONSTRAINT | (8 << 8)
    }

    public var description: String {
        "SQLite error \(extendedCode) (\(String(cString: sqlite3_errstr(extendedCode)))): \(message) [in: \(sql.prefix(160))]"
    }
}

/// One SQLite connection (sqlite3 C API), the one wrapper of the project (the ledger and the
/// wallet both use it). Not thread-safe: the owner serializes access (`SQLiteLedger` holds each
/// connection behind a lock). Prepared statements are cached per
/// SQL text and live as long as the connection.
public final class SQLiteConnection {
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (read-write: creating if needed) a database file. Extended result codes are on.
    public init(path: String, readOnly: Bool) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc & 0xff, extendedCode: rc, message: message, sql: "open \(path)")
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for statement in cache.values { statement.finalize() }
        sqlite3_close_v2(handle)
    }

    public func error(_ rc: Int32, sql: String) -> SQLiteError {
        SQLiteError(code: rc & 0xff, extendedCode: sqlite3_extended_errcode(handle),
                    message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements that return no rows of interest (schema, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            var e = error(rc, sql: sql)
            if let message { e.message = String(cString: message); sqlite3_free(message) }
            throw e
        }
    }

    /// Runs `body` with the cached prepared statement for `sql`; resets it and clears its
    /// bindings afterwards, whatever happens (a statement left mid-step would pin a snapshot).
    public func withStatement<T>(_ sql: String, cached: Bool = true, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement: SQLiteStatement
        if !cached {
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
            guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
            let once = SQLiteStatement(stmt, connection: self, sql: sql)
            defer { once.finalize() }
            return try body(once)
        } else if let s = cache[sql] {
            statement = s
        } else {
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
            guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
            statement = SQLiteStatement(stmt, connection: self, sql: sql)
            cache[sql] = statement
        }
        defer { statement.reset() }
        return try body(statement)
    }

    /// The single integer of a query such as `PRAGMA user_version` or `SELECT count(*) …`.
    public func scalar(_ sql: String) throws -> Int64 {
        try withStatement(sql) { s in
            guard try s.step() else { throw error(SQLITE_ERROR, sql: sql + " (returned no row)") }
            return s.int64(0)
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Waits up to `milliseconds` for another connection's lock instead of failing with BUSY.
    public func busyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }
    /// False inside an open transaction.
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }
}

/// A prepared statement. Bind indices start at 1, column indices at 0 (as in the C API).
public final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection
    public let sql: String
    private var finalized = false

    fileprivate init(_ handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle; self.connection = connection; self.sql = sql
    }

    fileprivate func finalize() {
        if !finalized { sqlite3_finalize(handle); finalized = true }
    }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
    }

    // MARK: Binding

    public func bind(_ i: Int32, _ value: Int64) throws(SQLiteError) { try check(sqlite3_bind_int64(handle, i, value)) }

    public func bind(_ i: Int32, _ value: String) throws(SQLiteError) {
        try check(sqlite3_bind_text(handle, i, value, -1, zks_sqlite_transient()))
    }

    /// Binds a BLOB; an empty array binds an empty BLOB (never NULL).
    public func bind(_ i: Int32, blob value: [UInt8]) throws(SQLiteError) {
        if value.isEmpty { try check(sqlite3_bind_zeroblob(handle, i, 0)); return }
        let rc = value.withUnsafeBytes { raw in
            sqlite3_bind_blob(handle, i, raw.baseAddress, Int32(raw.count), zks_sqlite_transient())
        }
        try check(rc)
    }

    public func bindNull(_ i: Int32) throws(SQLiteError) { try check(sqlite3_bind_null(handle, i)) }

    // MARK: Stepping

    /// Advances; true when a row is available, false when done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, sql: sql)
    }

    /// Runs a statement to its end (INSERT, UPDATE, DELETE, BEGIN, COMMIT).
    public func run() throws(SQLiteError) {
        while try step() {}
    }

    // MARK: Columns

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    public func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func blob(_ column: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(handle, column) else { return [] }
        let n = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
