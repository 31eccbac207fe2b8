import BN254
import Foundation
import Protocol
import SQLite

/// The wallet's state in one SQLite file (`wallet.sqlite` in the wallet directory). No
/// secrets live here: the key file is separate (see `KeyFile`). Migrations are append-only.
///
///     meta(key, value)             the server's tree layout ("tree_capacity", "open_trees"), server URL, and the pinned
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
///     sync_trees(tree)             each tree's sync cursors: positions paged, checked (under
///                                  which root, of which batch), nullifier positions read
public final class WalletDatabase {

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
        // Version 4 (issue 19): when each note's and transfer's batch settled (the server's
        // batch time, ms), so history is dated by settlement, not by when the wallet synced;
        // NULL where the server did not say (older rows, older servers).
        """
        ALTER TABLE notes ADD COLUMN settled_at INTEGER;
        ALTER TABLE transfers ADD COLUMN settled_at INTEGER;
        """,
        // Version 5 (issue 16): sync cursors per tree, since several trees may grow at once and
        // a global leaf order would skip leaves filled later. The meta cursors of version 4
        // (one tree growing at a time) are carried over by `carryGlobalCursors`.
        """
        CREATE TABLE sync_trees(
            tree INTEGER PRIMARY KEY,
            next INTEGER NOT NULL DEFAULT 0,
            tip_batch INTEGER NOT NULL DEFAULT 0,
            checked INTEGER NOT NULL DEFAULT 0,
            root TEXT,
            root_batch INTEGER NOT NULL DEFAULT 0,
            spend_next INTEGER NOT NULL DEFAULT 0,
            CHECK (checked <= next AND (checked = 0 OR root IS NOT NULL)));
        """,
    ]

    private let connection: SQLiteConnection

    public init(path: String) throws {
        do {
            connection = try SQLiteConnection(path: path, readOnly: false)
        } catch {
            throw Failure(description: "cannot open the wallet database \(path): \(error.message)")
        }
        connection.busyTimeout(milliseconds: 5000)
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        let version = try query("PRAGMA user_version") { $0.int(0) }.first ?? 0
        for (i, m) in Self.migrations.enumerated() where i >= version {
            try execute("BEGIN; \(m)")
            // Version 5 carries version 4's cursors over in the same transaction.
            if i == 4 {
                do { try carryGlobalCursors() } catch { try? execute("ROLLBACK"); throw error }
            }
            try execute("PRAGMA user_version = \(i + 1); COMMIT;")
        }
    }

    func execute(_ sql: String) throws {
        do { try connection.execute(sql) } catch {
            if !connection.isAutocommit { try? connection.execute("ROLLBACK") }
            throw Failure(description: "wallet database: \(error.message)")
        }
    }

    enum Value { case int(Int64), text(String), blob([UInt8]), null }

    /// One result row (columns from 0).
    struct Row {
        let statement: SQLiteStatement
        func int(_ c: Int32) -> Int64 { statement.int64(c) }
        func text(_ c: Int32) -> String { statement.text(c) }
        func isNull(_ c: Int32) -> Bool { statement.isNull(c) }
        func blob(_ c: Int32) -> [UInt8] { statement.blob(c) }
    }

    @discardableResult
    func query<T>(_ sql: String, _ values: [Value] = [], _ row: (Row) throws -> T) throws -> [T] {
        do {
            return try connection.withStatement(sql, cached: false) { statement in
                for (i, v) in values.enumerated() {
                    let index = Int32(i + 1)
                    switch v {
                    case .int(let x): try statement.bind(index, x)
                    case .text(let s): try statement.bind(index, s)
                    case .blob(let b): try statement.bind(index, blob: b)
                    case .null: try statement.bindNull(index)
                    }
                }
                var out: [T] = []
                let r = Row(statement: statement)
                while try statement.step() { out.append(try row(r)) }
                return out
            }
        } catch let error as SQLiteError {
            throw Failure(description: "wallet database: \(error.message) in \(sql.prefix(80))")
        }
    }

    func run(_ sql: String, _ values: [Value] = []) throws { try query(sql, values) { _ in () } }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do { let v = try body(); try execute("COMMIT"); return v } catch { try? connection.execute("ROLLBACK"); throw error }
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
                                 "params_receipt_key", "params_pinned_at", "params_setup", "params_transcript_hash"]

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
        /// When its batch settled (ms), if the server said.
        public var settledAt: Int64?
        public var spent: Bool
        public var spentBy: String?
        public var pendingSpend: String?
        public var isOwnOutput: Bool

        /// Spent (the server confirmed it), pending (reserved by a transfer in flight) or unspent.
        public var status: NoteStatus { spent ? .spent : pendingSpend != nil ? .pending : .unspent }
    }

    public enum NoteStatus: String, Sendable { case spent, pending, unspent }

    static let noteColumns = """
        n.leaf_index, n.commitment, n.value, n.blinding, n.memo, n.nullifier, n.batch, n.found_at, n.spent, n.spent_by,
        n.pending_spend, EXISTS (SELECT 1 FROM own_outputs o WHERE o.commitment = n.commitment), n.settled_at
        """

    func readNote(_ r: Row) throws -> StoredNote {
        StoredNote(leafIndex: Int(r.int(0)), commitment: try Fr(decimal: r.text(1)), value: UInt64(bitPattern: r.int(2)),
                   blinding: try Fr(decimal: r.text(3)), memo: r.text(4), nullifier: try Fr(decimal: r.text(5)),
                   batch: r.int(6), foundAt: r.int(7), settledAt: r.isNull(12) ? nil : r.int(12), spent: r.int(8) != 0,
                   spentBy: r.isNull(9) ? nil : r.text(9), pendingSpend: r.isNull(10) ? nil : r.text(10), isOwnOutput: r.int(11) != 0)
    }

    /// Notes matching `condition`, by leaf; only those sync has checked against the published
    /// tree unless `unverified` (sync and the transfer flow see the rest).
    private func notes(matching condition: String, _ values: [Value] = [], unverified: Bool) throws -> [StoredNote] {
        let checked = unverified ? "" : "n.verified = 1 AND "
        return try query("SELECT \(Self.noteColumns) FROM notes n WHERE \(checked)(\(condition)) ORDER BY n.leaf_index", values, readNote)
    }

    /// Every note, spent or not; with `includingUnverified`, also those sync has not checked
    /// against the published tree yet.
    public func notes(includingUnverified: Bool = false) throws -> [StoredNote] {
        try notes(matching: "1", unverified: includingUnverified)
    }

    /// Notes not spent: those reserved by a transfer in flight (`pendingSpend`) too.
    public func unspentNotes(includingUnverified: Bool = false) throws -> [StoredNote] {
        try notes(matching: "n.spent = 0", unverified: includingUnverified)
    }

    /// Checked notes not spent and not reserved by a transfer in flight: what a payment may spend.
    public func spendableNotes() throws -> [StoredNote] {
        try notes(matching: "n.spent = 0 AND n.pending_spend IS NULL", unverified: false)
    }

    /// Checked notes reserved by a submitted transfer whose outcome is not known yet.
    public func pendingNotes() throws -> [StoredNote] {
        try notes(matching: "n.spent = 0 AND n.pending_spend IS NOT NULL", unverified: false)
    }

    /// Notes spent by transfer `id` (checked or not).
    public func notes(spentBy id: String) throws -> [StoredNote] {
        try notes(matching: "n.spent_by = ?", [.text(id)], unverified: true)
    }

    /// The note at global leaf `leafIndex`, checked or not.
    public func note(atLeaf leafIndex: Int) throws -> StoredNote? {
        try notes(matching: "n.leaf_index = ?", [.int(Int64(leafIndex))], unverified: true).first
    }

    /// Notes at leaves `range` that sync has not checked against the published tree yet.
    func uncheckedNotes(in range: Range<Int>) throws -> [StoredNote] {
        try notes(matching: "n.verified = 0 AND n.leaf_index >= ? AND n.leaf_index < ?",
                  [.int(Int64(range.lowerBound)), .int(Int64(range.upperBound))], unverified: true)
    }

    /// Records a note found by sync or made by this wallet; a note already known is kept.
    public func insertNote(leafIndex: Int, commitment: Fr, plaintext: NotePlaintext, nullifier: Fr, batch: Int64, settledAt: Int64? = nil) throws {
        try run("""
            INSERT OR IGNORE INTO notes(leaf_index, commitment, value, blinding, memo, nullifier, batch, found_at, settled_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(Int64(leafIndex)), .text(commitment.decimalString), .int(Int64(bitPattern: plaintext.value)),
                  .text(plaintext.blinding.decimalString), .text(plaintext.memoText), .text(nullifier.decimalString),
                  .int(batch), .int(Self.now), settledAt.map { .int($0) } ?? .null])
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
        public var id: String, kind: TransferKind, amount: UInt64
        /// Whom it paid (an address, a payout recipient); nil when the wallet did not make it
        /// (found by sync: a restored wallet, another copy of the key).
        public var counterparty: String?
        public var memo: String, status: TransferStatus
        public var batch: Int64?, createdAt: Int64
        /// When its batch settled (ms), if it settled and the server said.
        public var settledAt: Int64?
    }

    /// Records a transfer, or (the same id again) its outcome: status, batch and settlement
    /// time change; what it was (kind, amount, counterparty, memo) stays as first recorded.
    public func recordTransfer(id: String, kind: TransferKind, amount: UInt64, counterparty: String?, memo: String,
                               status: TransferStatus, batch: Int64?, settledAt: Int64? = nil) throws {
        try run("""
            INSERT INTO transfers(id, kind, amount, counterparty, memo, status, batch, created_at, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, batch = COALESCE(excluded.batch, batch),
                                          settled_at = COALESCE(excluded.settled_at, settled_at)
            """, [.text(id), .text(kind.rawValue), .int(Int64(bitPattern: amount)), .text(counterparty ?? ""), .text(memo), .text(status.rawValue),
                  batch.map { .int($0) } ?? .null, .int(Self.now), settledAt.map { .int($0) } ?? .null])
    }

    /// Changes the status of transfer `id` (a pending one learned to have ended), if recorded.
    public func setTransferStatus(_ id: String, _ status: TransferStatus) throws {
        try run("UPDATE transfers SET status = ? WHERE id = ?", [.text(status.rawValue), .text(id)])
    }

    /// Forgets a pending transfer (proved again under another id: the same payment).
    public func forgetPendingTransfer(_ id: String) throws {
        try run("DELETE FROM transfers WHERE id = ? AND status = ?", [.text(id), .text(TransferStatus.pending.rawValue)])
    }

    public func transfers() throws -> [StoredTransfer] {
        try query("SELECT id, kind, amount, counterparty, memo, status, batch, created_at, settled_at FROM transfers ORDER BY created_at, rowid") { r in
            guard let kind = TransferKind(rawValue: r.text(1)), let status = TransferStatus(rawValue: r.text(5)) else {
                throw Failure(description: "wallet database: transfer \(r.text(0)) has kind \"\(r.text(1))\" and status \"\(r.text(5))\", which this wallet does not know")
            }
            // "(found by sync)" is how wallets before version 4 of this file said "not ours to name".
            let counterparty = r.text(3)
            return StoredTransfer(id: r.text(0), kind: kind, amount: UInt64(bitPattern: r.int(2)),
                                  counterparty: counterparty.isEmpty || counterparty == "(found by sync)" ? nil : counterparty,
                                  memo: r.text(4), status: status, batch: r.isNull(6) ? nil : r.int(6), createdAt: r.int(7),
                                  settledAt: r.isNull(8) ? nil : r.int(8))
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
