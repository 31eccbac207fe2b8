import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// The ledger in one SQLite file (DESIGN.md section 5), through the sqlite3 C API.
///
/// - Read-write: the file is created if needed and migrated (`LedgerSchema`); it runs in WAL
///   mode with `synchronous=FULL`, so a batch is durable when `commit` returns, and readers
///   (this object's own reader connection, or another process opening the file read-only)
///   never block the writer nor see half a batch.
/// - Read-only (`readOnly: true`, for `zksettle-admin` and auditors): opened with
///   `SQLITE_OPEN_READONLY`, safe beside a running server; never migrates, and refuses a file
///   without the schema or with a newer one.
///
/// Thread safety: `commit` and `markPayoutPaid` serialize on the writer connection; every read
/// runs in its own read transaction on a separate connection (a consistent snapshot).
public final class SQLiteLedger: Ledger, @unchecked Sendable {
    public let path: String
    public let readOnly: Bool
    /// How many of the newest batch roots the `roots` table keeps (the recent roots `/v1/tree`
    /// lists; every older batch root stays an accepted anchor through `batchNumber(ofRoot:)`).
    public static let rootsKept = Int64(RootWindow.defaultSize)

    /// 'ZKSL': marks the file as a ZKSettle ledger (`PRAGMA application_id`).
    static let applicationID: Int64 = 0x5A4B_534C
    static let busyTimeoutMilliseconds = 5000
    /// The writer's page cache: a commit touches random pages of the nullifier and transfer-id
    /// indexes, which SQLite's default 2 MiB cache would re-read from disk on every batch.
    static let writerCacheKiB = 65536

    /// Leaves per commitment tree (`TreeCapacity`, issue 14), from the `settings` table: fixed
    /// when the ledger is created. A file older than schema 4 had one tree of 2^20 leaves.
    public let treeCapacity: Int
    /// One: a SQLite file has one writer, so one open tree (`OpenTrees` needs PostgreSQL).
    public var openTrees: Int { 1 }
    /// Whether the file has the `tree` column of schema 4 (a read-only open of an older file
    /// reads every batch as tree 0).
    let hasTrees: Bool
    /// Whether the file has schema 3's voucher tables (a read-only open of an older file has
    /// no used voucher).
    let hasVouchers: Bool
    /// Whether the file has schema 5's `batches.frontier` (issue 16).
    let hasFrontiers: Bool

    let writer: SQLiteConnection?
    let writerLock = NSLock()
    private let reader: SQLiteConnection
    private let readerLock = NSLock()

    /// `treeCapacity`: the capacity a new ledger is created with (default 2^20); for an existing
    /// ledger it must equal the stored one (`LedgerError.treeCapacity` otherwise), and nil
    /// takes whatever is stored.
    public init(path: String, readOnly: Bool = false, treeCapacity requested: Int? = nil) throws {
        self.path = path
        if let requested, TreeCapacity.problem(requested) != nil { throw LedgerError.treeCapacity(stored: nil, requested: requested) }
        self.readOnly = readOnly
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else { throw LedgerError.noLedger(path: path) }
            writer = nil
        } else {
            let w = try guarded { try SQLiteConnection(path: path, readOnly: false) }
            try guarded {
                try w.execute("""
                    PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds);
                    PRAGMA journal_mode = WAL;
                    PRAGMA synchronous = FULL;
                    PRAGMA foreign_keys = ON;
                    PRAGMA cache_size = -\(Self.writerCacheKiB);
                    PRAGMA journal_size_limit = \(64 << 20);
                    """)
            }
            try Self.migrate(w)
            try Self.fixTreeCapacity(w, requested: requested)
            writer = w
        }
        let r = try guarded { try SQLiteConnection(path: path, readOnly: true) }
        reader = r
        try guarded { try r.execute("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)") }
        try Self.checkSchema(r, path: path)
        let version = try guarded { try r.scalar("PRAGMA user_version") }
        hasVouchers = version >= 3
        hasFrontiers = version >= 5
        let trees = version >= 4
        hasTrees = trees
        let stored = trees ? try Self.storedTreeCapacity(r) : nil
        if readOnly, let requested, let stored, requested != stored { throw LedgerError.treeCapacity(stored: stored, requested: requested) }
        treeCapacity = stored ?? TreeCapacity.maximum
    }

    /// The schema version of the open file (`PRAGMA user_version`).
    public func schemaVersion() throws -> Int64 {
        try read { try $0.scalar("PRAGMA user_version") }
    }

    public static var supportedSchemaVersion: Int64 { LedgerSchema.currentVersion }

    // MARK: Helpers

    /// Runs `body` inside a read transaction on the reader connection (one consistent snapshot).
    func read<T>(_ body: (SQLiteConnection) throws -> T) throws(LedgerError) -> T {
        readerLock.lock(); defer { readerLock.unlock() }
        return try guarded {
            try reader.withStatement("BEGIN") { try $0.run() }
            do {
                let value = try body(reader)
                try reader.withStatement("COMMIT") { try $0.run() }
                return value
            } catch {
                Self.rollback(reader)
                throw error
            }
        }
    }

    /// Headers `from`…, with their transfer ids in order.
    static func headers(_ db: SQLiteConnection, from number: Int64, limit: Int, trees: Bool) throws -> [BatchHeader] {
        var headers: [BatchHeader] = []
        try db.withStatement("""
            SELECT number, previous_hash, root, leaf_count, created_at, \(trees ? "tree" : "0") FROM batches
            WHERE number >= ? ORDER BY number LIMIT ?
            """) { s in
            try s.bind(1, number); try s.bind(2, Int64(max(0, limit)))
            while try s.step() {
                headers.append(BatchHeader(number: s.int64(0), previousHash: s.blob(1), tree: s.int64(5), root: try fr(s, 2, "batches.root"),
                                           leafCount: s.int64(3), transferIDs: [], createdAt: s.int64(4)))
            }
        }
        guard let first = headers.first?.number, let last = headers.last?.number else { return [] }
        try db.withStatement("SELECT batch, id FROM transfers WHERE batch BETWEEN ? AND ? ORDER BY batch, position") { s in
            try s.bind(1, first); try s.bind(2, last)
            while try s.step() {
                let k = Int(s.int64(0) - first)
                guard headers.indices.contains(k), headers[k].number == s.int64(0) else { continue }
                headers[k].transferIDs.append(try transferID(s, 1))
            }
        }
        return headers
    }

    static func fr(_ s: SQLiteStatement, _ column: Int32, _ what: String) throws(LedgerError) -> Fr {
        do { return try Fr(bigEndian: s.blob(column)) } catch { throw .corrupt("\(what): \(error)") }
    }

    static func transferID(_ s: SQLiteStatement, _ column: Int32) throws(LedgerError) -> TransferID {
        let bytes = s.blob(column)
        guard bytes.count == 32 else { throw .corrupt("a transfer id of \(bytes.count) bytes") }
        return TransferID(bytes: bytes)
    }

    static func nullifierRecord(_ s: SQLiteStatement) throws(LedgerError) -> NullifierRecord {
        NullifierRecord(nullifier: try fr(s, 0, "nullifiers.nullifier"), transferID: try transferID(s, 1),
                        batch: s.int64(2), spentAt: s.int64(3))
    }
}

/// Maps SQLite's errors to `LedgerError.sqlite`; lets ledger errors through.
func guarded<T>(_ body: () throws -> T) throws(LedgerError) -> T {
    do { return try body() } catch let e as LedgerError { throw e } catch let e as SQLiteError { throw .storage(e.description) } catch {
        throw .corrupt("\(error)")
    }
}
