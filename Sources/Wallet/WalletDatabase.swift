import BN254
import CSQLite
import Foundation
import Protocol

/// The wallet's state in one SQLite file (`wallet.sqlite` in the wallet directory). No
/// secrets live here: the key file is separate (see `KeyFile`). Migrations are append-only.
///
///     meta(key, value)             sync cursor ("next_leaf"), server URL, and the pinned
///                                  parameters ("params_fingerprint", "params_source",
///                                  "params_circuit_id", "params_verifying_key" as snarkjs JSON,
///                                  "params_receipt_key" hex, "params_pinned_at"); a fingerprint
///                                  without the rest is one `init --trust` expects
///     accepted_proving_keys        SHA-256 of each proving-key file that passed
///                                  `ProvingKeyCheck` under a pinned fingerprint (not re-checked)
///     notes                        every note of this wallet found by trial decryption (value > 0),
///                                  with its nullifier; spent = confirmed by the server
///     transfers                    what this wallet submitted: deposits, sends, withdrawals, merges
///     own_outputs(commitment)      outputs this wallet made for itself (change, deposits,
///                                  merges): sync does not list them as incoming payments
///     leaf_groups(grp)             the 32 commitments of each group of leaves holding a note
///                                  of this wallet, and of the group at the tip
///     tree_nodes(height, idx)      published nodes of complete subtrees (heights 5 and 10)
public final class WalletDatabase {
    private var db: OpaquePointer?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static let migrations: [String] = [
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE notes(
            leaf_index INTEGER PRIMARY KEY,
            commitment TEXT NOT NULL UNIQUE,
            value INTEGER NOT NULL CHECK (value > 0),
            blinding TEXT NOT NULL,
            memo TEXT NOT NULL,
            nullifier TEXT NOT NULL UNIQUE,
            batch INTEGER NOT NULL,
            found_at INTEGER NOT NULL,
            spent INTEGER NOT NULL DEFAULT 0,
            spent_by TEXT,
            pending_spend TEXT);
        CREATE TABLE transfers(
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'send', 'withdraw', 'merge')),
            amount INTEGER NOT NULL,
            counterparty TEXT NOT NULL,
            memo TEXT NOT NULL,
            status TEXT NOT NULL,
            batch INTEGER,
            created_at INTEGER NOT NULL);
        CREATE TABLE own_outputs(commitment TEXT PRIMARY KEY, transfer_id TEXT NOT NULL);
        """,
        // Version 2: the wallet's own view of the tree (WalletTree). A note counts only once
        // sync has checked it against the published tree (verified = 1).
        """
        ALTER TABLE notes ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE leaf_groups(grp INTEGER PRIMARY KEY, commitments BLOB NOT NULL);
        CREATE TABLE tree_nodes(height INTEGER NOT NULL, idx INTEGER NOT NULL, node BLOB NOT NULL,
                                PRIMARY KEY (height, idx)) WITHOUT ROWID;
        """,
        // Version 3: proving keys this wallet checked and accepted (ProvingKeyCheck).
        """
        CREATE TABLE accepted_proving_keys(
            sha256 TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            circuit_id TEXT NOT NULL,
            check_seconds REAL NOT NULL,
            accepted_at INTEGER NOT NULL,
            PRIMARY KEY (sha256, fingerprint));
        """,
    ]

    public init(path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            let m = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Failure(description: "cannot open the wallet database \(path): \(m)")
        }
        sqlite3_busy_timeout(db, 5000)
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        let version = try query("PRAGMA user_version") { $0.int(0) }.first ?? 0
        for (i, m) in Self.migrations.enumerated() where i >= version {
            try execute("BEGIN; \(m) PRAGMA user_version = \(i + 1); COMMIT;")
        }
    }

    deinit { sqlite3_close_v2(db) }

    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let m = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw Failure(description: "wallet database: \(m)")
        }
    }

    public enum Value { case int(Int64), text(String), blob([UInt8]), null }

    public final class Row {
        let stmt: OpaquePointer
        init(_ s: OpaquePointer) { stmt = s }
        public func int(_ c: Int32) -> Int64 { sqlite3_column_int64(stmt, c) }
        public func text(_ c: Int32) -> String { sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? "" }
        public func isNull(_ c: Int32) -> Bool { sqlite3_column_type(stmt, c) == SQLITE_NULL }
        public func blob(_ c: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(stmt, c))
            guard n > 0, let p = sqlite3_column_blob(stmt, c) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    @discardableResult
    public func query<T>(_ sql: String, _ values: [Value] = [], _ row: (Row) throws -> T) throws -> [T] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw Failure(description: "wallet database: \(String(cString: sqlite3_errmsg(db))) in \(sql.prefix(80))")
        }
        defer { sqlite3_finalize(stmt) }
        for (i, v) in values.enumerated() {
            switch v {
            case .int(let x): sqlite3_bind_int64(stmt, Int32(i + 1), x)
            case .text(let s): sqlite3_bind_text(stmt, Int32(i + 1), s, -1, zks_sqlite_transient())
            case .blob(let b): sqlite3_bind_blob(stmt, Int32(i + 1), b, Int32(b.count), zks_sqlite_transient())
            case .null: sqlite3_bind_null(stmt, Int32(i + 1))
            }
        }
        var out: [T] = []
        let r = Row(stmt)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_ROW { out.append(try row(r)); continue }
            if rc == SQLITE_DONE { break }
            throw Failure(description: "wallet database: \(String(cString: sqlite3_errmsg(db)))")
        }
        return out
    }

    public func run(_ sql: String, _ values: [Value] = []) throws { try query(sql, values) { _ in () } }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do { let v = try body(); try execute("COMMIT"); return v } catch { _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil); throw error }
    }

    // MARK: Meta

    public func meta(_ key: String) throws -> String? {
        try query("SELECT value FROM meta WHERE key = ?", [.text(key)]) { $0.text(0) }.first
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try run("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(value)])
    }

    // MARK: Pinned parameters

    public static let pinKeys = ["params_fingerprint", "params_source", "params_circuit_id", "params_verifying_key",
                                 "params_receipt_key", "params_pinned_at"]

    /// Forgets the pin (and the proving keys accepted under it): the next contact pins afresh.
    public func clearPin() throws {
        try transaction {
            for k in Self.pinKeys { try run("DELETE FROM meta WHERE key = ?", [.text(k)]) }
            try run("DELETE FROM accepted_proving_keys")
        }
    }

    /// Whether the proving-key file with this SHA-256 passed the check under this fingerprint.
    public func isProvingKeyAccepted(sha256: String, fingerprint: String) throws -> Bool {
        try !query("SELECT 1 FROM accepted_proving_keys WHERE sha256 = ? AND fingerprint = ?",
                   [.text(sha256), .text(fingerprint)]) { _ in () }.isEmpty
    }

    public func recordAcceptedProvingKey(sha256: String, fingerprint: String, circuitID: String, seconds: Double) throws {
        try run("INSERT OR REPLACE INTO accepted_proving_keys(sha256, fingerprint, circuit_id, check_seconds, accepted_at) VALUES (?, ?, ?, ?, ?)",
                [.text(sha256), .text(fingerprint), .text(circuitID), .text(String(seconds)), .int(Self.now)])
    }

    // MARK: Notes

    public struct StoredNote: Sendable {
        public var leafIndex: Int
        public var commitment: Fr
        public var value: UInt64
        public var blinding: Fr
        public var memo: String
        public var nullifier: Fr
        public var batch: Int64
        public var foundAt: Int64
        public var spent: Bool
        public var spentBy: String?
        public var pendingSpend: String?
        public var isOwnOutput: Bool
    }

    static let noteColumns = """
        n.leaf_index, n.commitment, n.value, n.blinding, n.memo, n.nullifier, n.batch, n.found_at, n.spent, n.spent_by,
        n.pending_spend, EXISTS (SELECT 1 FROM own_outputs o WHERE o.commitment = n.commitment)
        """

    func readNote(_ r: Row) throws -> StoredNote {
        StoredNote(leafIndex: Int(r.int(0)), commitment: try Fr(decimal: r.text(1)), value: UInt64(bitPattern: r.int(2)),
                   blinding: try Fr(decimal: r.text(3)), memo: r.text(4), nullifier: try Fr(decimal: r.text(5)),
                   batch: r.int(6), foundAt: r.int(7), spent: r.int(8) != 0, spentBy: r.isNull(9) ? nil : r.text(9),
                   pendingSpend: r.isNull(10) ? nil : r.text(10), isOwnOutput: r.int(11) != 0)
    }

    /// Notes matching `condition`; only those sync has checked against the published tree
    /// unless `unverified` (sync and the transfer flow see the rest).
    public func notes(where condition: String = "1", _ values: [Value] = [], unverified: Bool = false) throws -> [StoredNote] {
        let checked = unverified ? "" : "n.verified = 1 AND "
        return try query("SELECT \(Self.noteColumns) FROM notes n WHERE \(checked)(\(condition)) ORDER BY n.leaf_index", values, readNote)
    }

    /// Records a note found by sync or made by this wallet; a note already known is kept.
    public func insertNote(leafIndex: Int, commitment: Fr, plaintext: NotePlaintext, nullifier: Fr, batch: Int64) throws {
        try run("""
            INSERT OR IGNORE INTO notes(leaf_index, commitment, value, blinding, memo, nullifier, batch, found_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(Int64(leafIndex)), .text(commitment.decimalString), .int(Int64(bitPattern: plaintext.value)),
                  .text(plaintext.blinding.decimalString), .text(plaintext.memoText), .text(nullifier.decimalString),
                  .int(batch), .int(Self.now)])
    }

    public func markSpent(leafIndex: Int, by transfer: String?) throws {
        try run("UPDATE notes SET spent = 1, spent_by = COALESCE(?, spent_by), pending_spend = NULL WHERE leaf_index = ?",
                [transfer.map { .text($0) } ?? .null, .int(Int64(leafIndex))])
    }

    public func setPending(leafIndices: [Int], transfer: String?) throws {
        for l in leafIndices {
            try run("UPDATE notes SET pending_spend = ? WHERE leaf_index = ?", [transfer.map { .text($0) } ?? .null, .int(Int64(l))])
        }
    }

    public func recordOwnOutput(commitment: Fr, transfer: String) throws {
        try run("INSERT OR IGNORE INTO own_outputs(commitment, transfer_id) VALUES (?, ?)", [.text(commitment.decimalString), .text(transfer)])
    }

    // MARK: Transfers

    public struct StoredTransfer: Sendable {
        public var id: String, kind: String, amount: UInt64, counterparty: String, memo: String, status: String
        public var batch: Int64?, createdAt: Int64
    }

    public func recordTransfer(id: String, kind: String, amount: UInt64, counterparty: String, memo: String,
                               status: String, batch: Int64?) throws {
        try run("""
            INSERT INTO transfers(id, kind, amount, counterparty, memo, status, batch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, batch = excluded.batch
            """, [.text(id), .text(kind), .int(Int64(bitPattern: amount)), .text(counterparty), .text(memo), .text(status),
                  batch.map { .int($0) } ?? .null, .int(Self.now)])
    }

    public func transfers() throws -> [StoredTransfer] {
        try query("SELECT id, kind, amount, counterparty, memo, status, batch, created_at FROM transfers ORDER BY created_at, rowid") { r in
            StoredTransfer(id: r.text(0), kind: r.text(1), amount: UInt64(bitPattern: r.int(2)), counterparty: r.text(3),
                           memo: r.text(4), status: r.text(5), batch: r.isNull(6) ? nil : r.int(6), createdAt: r.int(7))
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
