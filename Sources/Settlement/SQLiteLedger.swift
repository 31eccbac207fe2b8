import BN254
import CSQLite
import Foundation
import Protocol

/// Why the ledger refused a write or could not be opened.
public enum LedgerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The batch does not extend the stored history (number, previous hash, leaf indices).
    case brokenChain(String)
    /// A row conflicts with one already stored (a spent nullifier, an existing leaf or transfer).
    case conflict(String)
    /// The file was written by a newer build.
    case schemaTooNew(found: Int32, supported: Int32)
    /// A read-only open of a file that holds no ledger.
    case noLedger(String)
    /// Stored data that cannot be decoded.
    case corrupt(String)

    public var description: String {
        switch self {
        case .brokenChain(let s): return "the batch does not extend the ledger: \(s)"
        case .conflict(let s): return "the batch conflicts with the ledger: \(s)"
        case .schemaTooNew(let f, let s): return "the ledger has schema version \(f); this build knows up to \(s): upgrade zksettle"
        case .noLedger(let p): return "\(p) holds no ZKSettle ledger (start zksettle-server on it first, or check --data)"
        case .corrupt(let s): return "the ledger holds data that cannot be decoded: \(s)"
        }
    }
}

/// The ledger in one SQLite file (DESIGN.md section 5): WAL, `synchronous=FULL`, a versioned
/// schema whose constraints enforce the invariants themselves (a nullifier is a primary key, a
/// leaf index is a primary key, every row names its batch), one transaction per batch.
///
/// Two connections: the writer (the sequencer's `commit`, and payout marks) and a reader for
/// everything else, so HTTP reads proceed while a batch commit waits for its fsync. A
/// read-only ledger (`readOnly: true`: auditors, `zksettle-admin --data`) never writes and is
/// safe beside a running server thanks to WAL.
public final class SQLiteLedger: Ledger, @unchecked Sendable {
    public static let schemaVersion: Int32 = 1
    public let path: String
    public let readOnly: Bool

    private let writer: SQLiteConnection?
    private let writeLock = NSLock()
    private let reader: SQLiteConnection
    private let readLock = NSLock()

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        self.readOnly = readOnly
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else { throw LedgerError.noLedger(path) }
            writer = nil
            reader = try SQLiteConnection(path: path, readOnly: true)
            let version = try reader.scalarInt("PRAGMA user_version")
            if version == 0 { throw LedgerError.noLedger(path) }
            if version > Int64(Self.schemaVersion) { throw LedgerError.schemaTooNew(found: Int32(version), supported: Self.schemaVersion) }
        } else {
            let w = try SQLiteConnection(path: path, readOnly: false)
            try w.execute("PRAGMA journal_mode=WAL")
            try w.execute("PRAGMA synchronous=FULL")
            try w.execute("PRAGMA foreign_keys=ON")
            try Self.migrate(w)
            writer = w
            reader = try SQLiteConnection(path: path, readOnly: false)
            try reader.execute("PRAGMA foreign_keys=ON")
        }
    }

    // MARK: Schema

    /// Migrations by `PRAGMA user_version`: step i takes the file from version i to i + 1.
    static let migrations: [String] = [
        """
        CREATE TABLE batches (
            number         INTEGER PRIMARY KEY CHECK (number >= 1),
            previous_hash  BLOB NOT NULL CHECK (length(previous_hash) = 32),
            hash           BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
            root           BLOB NOT NULL CHECK (length(root) = 32),
            leaf_count     INTEGER NOT NULL CHECK (leaf_count >= 0),
            transfer_count INTEGER NOT NULL CHECK (transfer_count >= 1),
            created_at     INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE transfers (
            id            BLOB PRIMARY KEY CHECK (length(id) = 32),
            batch         INTEGER NOT NULL REFERENCES batches(number),
            position      INTEGER NOT NULL CHECK (position >= 0),
            status        TEXT NOT NULL CHECK (status IN ('settled')),
            reason        TEXT,
            public_inputs BLOB NOT NULL CHECK (length(public_inputs) = 224),
            ext_data      BLOB NOT NULL,
            proof_json    BLOB NOT NULL,
            leaf_index0   INTEGER NOT NULL,
            leaf_index1   INTEGER NOT NULL,
            settled_at    INTEGER NOT NULL,
            signature     BLOB NOT NULL CHECK (length(signature) = 64),
            UNIQUE (batch, position)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE nullifiers (
            nullifier   BLOB PRIMARY KEY CHECK (length(nullifier) = 32),
            transfer_id BLOB NOT NULL REFERENCES transfers(id),
            batch       INTEGER NOT NULL REFERENCES batches(number),
            spent_at    INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX nullifiers_by_batch ON nullifiers(batch);
        CREATE INDEX nullifiers_by_time ON nullifiers(spent_at);
        CREATE TABLE leaves (
            leaf_index       INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
            commitment       BLOB NOT NULL CHECK (length(commitment) = 32),
            encrypted_output BLOB NOT NULL,
            transfer_id      BLOB NOT NULL REFERENCES transfers(id),
            batch            INTEGER NOT NULL REFERENCES batches(number)
        ) STRICT;
        CREATE TABLE roots (
            batch INTEGER PRIMARY KEY REFERENCES batches(number),
            root  BLOB NOT NULL CHECK (length(root) = 32)
        ) STRICT;
        CREATE TABLE payouts (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            transfer_id BLOB NOT NULL UNIQUE REFERENCES transfers(id),
            recipient   TEXT NOT NULL CHECK (length(recipient) > 0),
            amount      INTEGER NOT NULL CHECK (amount > 0),
            status      TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
            created_at  INTEGER NOT NULL,
            paid_at     INTEGER,
            CHECK ((status = 'paid') = (paid_at IS NOT NULL))
        );
        CREATE INDEX payouts_by_status ON payouts(status, id);
        """,
    ]

    /// The roots table keeps the last `rootsKept` batch roots (the accepted window).
    public static let rootsKept: Int64 = 100

    static func migrate(_ db: SQLiteConnection) throws {
        let version = try db.scalarInt("PRAGMA user_version")
        if version > Int64(migrations.count) {
            throw LedgerError.schemaTooNew(found: Int32(version), supported: Int32(migrations.count))
        }
        for step in Int(version)..<migrations.count {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.execute(migrations[step])
                try db.execute("PRAGMA user_version = \(step + 1)")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Writes

    public func commit(_ batch: BatchCommit) throws {
        guard let db = writer else { throw SQLiteError(code: SQLITE_READONLY, message: "the ledger is open read-only", sql: nil) }
        writeLock.lock(); defer { writeLock.unlock() }
        try db.execute("BEGIN IMMEDIATE")
        do {
            try write(batch, db)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            if let e = error as? SQLiteError, e.isConstraintViolation { throw LedgerError.conflict(e.message) }
            throw error
        }
    }

    private func write(_ batch: BatchCommit, _ db: SQLiteConnection) throws {
        let h = batch.header
        // The batch must extend the stored chain.
        let last = try db.query("SELECT number, hash, leaf_count FROM batches ORDER BY number DESC LIMIT 1") {
            ($0.int(0), $0.blob(1), $0.int(2))
        }.first
        let (lastNumber, lastHash, lastLeaves) = last ?? (0, BatchHeader.genesisHash, 0)
        guard h.number == lastNumber + 1 else { throw LedgerError.brokenChain("batch \(h.number) after batch \(lastNumber)") }
        guard h.previousHash == lastHash else { throw LedgerError.brokenChain("batch \(h.number) names a previous hash that is not batch \(lastNumber)'s") }
        let leafIndices = batch.leaves.map(\.index)
        guard leafIndices == Array(lastLeaves..<lastLeaves + Int64(batch.leaves.count)), h.leafCount == lastLeaves + Int64(batch.leaves.count) else {
            throw LedgerError.brokenChain("leaves must continue at index \(lastLeaves) and end at the header's leaf count \(h.leafCount)")
        }
        guard h.transferIDs == batch.transfers.map(\.id) else { throw LedgerError.brokenChain("the header's transfer list differs from the batch's transfers") }

        try db.run("INSERT INTO batches (number, previous_hash, hash, root, leaf_count, transfer_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [.int(h.number), .blob(h.previousHash), .blob(h.hash), .blob(h.root.bigEndianBytes), .int(h.leafCount),
                    .int(Int64(h.transferIDs.count)), .int(h.createdAt)])
        for (position, t) in batch.transfers.enumerated() {
            guard t.leafIndices.count == 2 else { throw LedgerError.brokenChain("transfer \(t.id) has \(t.leafIndices.count) leaves") }
            try db.run("""
                INSERT INTO transfers (id, batch, position, status, reason, public_inputs, ext_data, proof_json,
                                       leaf_index0, leaf_index1, settled_at, signature)
                VALUES (?, ?, ?, 'settled', NULL, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.blob(t.id.bytes), .int(h.number), .int(Int64(position)), .blob(t.publicInputs.array.flatMap(\.bigEndianBytes)),
                 .blob(t.extData.canonicalEncoding), .blob(t.proofJSON), .int(t.leafIndices[0]), .int(t.leafIndices[1]),
                 .int(t.receipt.settledAt), .blob(t.receipt.signature)])
        }
        for l in batch.leaves {
            try db.run("INSERT INTO leaves (leaf_index, commitment, encrypted_output, transfer_id, batch) VALUES (?, ?, ?, ?, ?)",
                       [.int(l.index), .blob(l.commitment.bigEndianBytes), .blob(l.encryptedOutput), .blob(l.transferID.bytes), .int(h.number)])
        }
        for n in batch.nullifiers {
            try db.run("INSERT INTO nullifiers (nullifier, transfer_id, batch, spent_at) VALUES (?, ?, ?, ?)",
                       [.blob(n.nullifier.bigEndianBytes), .blob(n.transferID.bytes), .int(h.number), .int(n.spentAt)])
        }
        try db.run("INSERT INTO roots (batch, root) VALUES (?, ?)", [.int(h.number), .blob(h.root.bigEndianBytes)])
        try db.run("DELETE FROM roots WHERE batch <= ?", [.int(h.number - Self.rootsKept)])
        for p in batch.payouts {
            guard let amount = Int64(exactly: p.amount) else { throw LedgerError.conflict("payout amount \(p.amount) out of range") }
            try db.run("INSERT INTO payouts (transfer_id, recipient, amount, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
                       [.blob(p.transferID.bytes), .text(p.recipient), .int(amount), .int(h.createdAt)])
        }
    }

    public func markPayoutPaid(_ id: Int64, at time: Int64) throws -> Bool {
        guard let db = writer else { throw SQLiteError(code: SQLITE_READONLY, message: "the ledger is open read-only", sql: nil) }
        writeLock.lock(); defer { writeLock.unlock() }
        try db.run("UPDATE payouts SET status = 'paid', paid_at = ? WHERE id = ? AND status = 'pending'", [.int(time), .int(id)])
        return sqlite3_changes(db.handle) == 1
    }

    // MARK: Reads

    private func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        readLock.lock(); defer { readLock.unlock() }
        // One read transaction: every query in `body` sees the same committed state.
        try reader.execute("BEGIN")
        defer { try? reader.execute("COMMIT") }
        return try body(reader)
    }

    public func loadSnapshot(recentRootWindow: Int) throws -> LedgerSnapshot {
        try read { db in
            var leaves: [Fr] = []
            var expected: Int64 = 0
            for (index, cm) in try db.query("SELECT leaf_index, commitment FROM leaves ORDER BY leaf_index", [], { ($0.int(0), $0.blob(1)) }) {
                guard index == expected else { throw LedgerError.corrupt("leaf \(expected) is missing (next stored is \(index))") }
                leaves.append(try fr(cm, "leaf \(index)"))
                expected += 1
            }
            let spent = try db.query("SELECT nullifier FROM nullifiers", []) { try fr($0.blob(0), "nullifier") }
            let numbers = try db.query("SELECT number FROM batches ORDER BY number DESC LIMIT ?", [.int(Int64(recentRootWindow))]) { $0.int(0) }
            let headers = try numbers.reversed().map { try header($0, db)! }
            return LedgerSnapshot(leaves: leaves, spentNullifiers: spent, recentHeaders: headers)
        }
    }

    public func settledTransfer(_ id: TransferID) throws -> SettledTransfer? {
        try read { db in
            try db.query("""
                SELECT t.public_inputs, t.ext_data, t.proof_json, t.leaf_index0, t.leaf_index1, t.settled_at, t.signature,
                       t.batch, b.root
                FROM transfers t JOIN batches b ON b.number = t.batch WHERE t.id = ?
                """, [.blob(id.bytes)]) { s in
                let inputs = try TransferPublicInputs(try frs(s.blob(0), "transfer \(id) public inputs"))
                let ext: ExtData
                do { ext = try ExtData(canonicalEncoding: s.blob(1)) } catch { throw LedgerError.corrupt("transfer \(id) external data: \(error)") }
                let leaves = [s.int(3), s.int(4)]
                let receipt = Receipt(transferID: id.bytes, batch: s.int(7), leafIndices: leaves, root: try fr(s.blob(8), "batch root"),
                                      settledAt: s.int(5), signature: s.blob(6))
                return SettledTransfer(id: id, publicInputs: inputs, extData: ext, proofJSON: s.blob(2), leafIndices: leaves, receipt: receipt)
            }.first
        }
    }

    public func nullifier(_ nf: Fr) throws -> NullifierRecord? {
        try read { db in
            try db.query("SELECT transfer_id, batch, spent_at FROM nullifiers WHERE nullifier = ?", [.blob(nf.bigEndianBytes)]) {
                NullifierRecord(nullifier: nf, transferID: try transferID($0.blob(0)), batch: $0.int(1), spentAt: $0.int(2))
            }.first
        }
    }

    /// Spent nullifiers, oldest first, optionally of one batch or since a time (Unix ms).
    public func nullifiers(batch: Int64? = nil, since: Int64? = nil, limit: Int = 1000, offset: Int = 0) throws -> [NullifierRecord] {
        try read { db in
            try db.query("""
                SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers
                WHERE (?1 IS NULL OR batch = ?1) AND (?2 IS NULL OR spent_at >= ?2)
                ORDER BY batch, spent_at, nullifier LIMIT ?3 OFFSET ?4
                """, [batch.map { .int($0) } ?? .null, since.map { .int($0) } ?? .null, .int(Int64(limit)), .int(Int64(offset))]) {
                NullifierRecord(nullifier: try fr($0.blob(0), "nullifier"), transferID: try transferID($0.blob(1)), batch: $0.int(2), spentAt: $0.int(3))
            }
        }
    }

    public func batchHeader(_ number: Int64) throws -> BatchHeader? {
        try read { db in try header(number, db) }
    }

    /// Headers from `number` on, at most `limit`.
    public func batchHeaders(from number: Int64, limit: Int) throws -> [BatchHeader] {
        try read { db in
            let numbers = try db.query("SELECT number FROM batches WHERE number >= ? ORDER BY number LIMIT ?", [.int(number), .int(Int64(limit))]) { $0.int(0) }
            return try numbers.map { try header($0, db)! }
        }
    }

    private func header(_ number: Int64, _ db: SQLiteConnection) throws -> BatchHeader? {
        guard let row = try db.query("SELECT previous_hash, root, leaf_count, created_at FROM batches WHERE number = ?", [.int(number)], {
            ($0.blob(0), $0.blob(1), $0.int(2), $0.int(3))
        }).first else { return nil }
        let ids = try db.query("SELECT id FROM transfers WHERE batch = ? ORDER BY position", [.int(number)]) { try transferID($0.blob(0)) }
        return BatchHeader(number: number, previousHash: row.0, root: try fr(row.1, "batch \(number) root"), leafCount: row.2,
                           transferIDs: ids, createdAt: row.3)
    }

    /// The stored hash of a batch header (what the next header names as previous).
    public func storedBatchHash(_ number: Int64) throws -> [UInt8]? {
        try read { db in try db.query("SELECT hash FROM batches WHERE number = ?", [.int(number)]) { $0.blob(0) }.first }
    }

    public func leaves(from index: Int64, limit: Int) throws -> [LeafRecord] {
        try read { db in
            try db.query("SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
                         [.int(index), .int(Int64(limit))]) {
                LeafRecord(index: $0.int(0), commitment: try fr($0.blob(1), "leaf"), encryptedOutput: $0.blob(2),
                           transferID: try transferID($0.blob(3)), batch: $0.int(4))
            }
        }
    }

    public func payouts(pendingOnly: Bool) throws -> [Payout] {
        try read { db in
            try db.query("SELECT id, transfer_id, recipient, amount, status, created_at, paid_at FROM payouts WHERE (?1 = 0 OR status = 'pending') ORDER BY id",
                         [.int(pendingOnly ? 1 : 0)]) {
                Payout(id: $0.int(0), transferID: try transferID($0.blob(1)), recipient: $0.text(2), amount: UInt64($0.int(3)),
                       status: Payout.Status(rawValue: $0.text(4)) ?? .pending, createdAt: $0.int(5), paidAt: $0.isNull(6) ? nil : $0.int(6))
            }
        }
    }

    public func counts() throws -> LedgerCounts {
        try read { db in
            LedgerCounts(batches: try db.scalarInt("SELECT count(*) FROM batches"),
                         transfers: try db.scalarInt("SELECT count(*) FROM transfers"),
                         nullifiers: try db.scalarInt("SELECT count(*) FROM nullifiers"),
                         leaves: try db.scalarInt("SELECT count(*) FROM leaves"),
                         pendingPayouts: try db.scalarInt("SELECT count(*) FROM payouts WHERE status = 'pending'"))
        }
    }

    /// The stored accepted roots (the last `rootsKept` batches), oldest first.
    public func storedRoots() throws -> [(batch: Int64, root: Fr)] {
        try read { db in try db.query("SELECT batch, root FROM roots ORDER BY batch") { ($0.int(0), try fr($0.blob(1), "root")) } }
    }

    /// SQLite's own checks: `PRAGMA integrity_check` and `foreign_key_check`; empty when sound.
    public func integrityCheck() throws -> [String] {
        try read { db in
            var problems = try db.query("PRAGMA integrity_check") { $0.text(0) }.filter { $0 != "ok" }
            problems += try db.query("PRAGMA foreign_key_check") { "row \($0.int(1)) of \($0.text(0)) refers to a missing row of \($0.text(2))" }
            return problems
        }
    }
}

private func fr(_ bytes: [UInt8], _ what: String) throws -> Fr {
    do { return try Fr(bigEndian: bytes) } catch { throw LedgerError.corrupt("\(what): \(error)") }
}

private func frs(_ bytes: [UInt8], _ what: String) throws -> [Fr] {
    guard bytes.count % 32 == 0 else { throw LedgerError.corrupt("\(what): \(bytes.count) bytes") }
    return try stride(from: 0, to: bytes.count, by: 32).map { try fr(Array(bytes[$0..<$0 + 32]), what) }
}

private func transferID(_ bytes: [UInt8]) throws -> TransferID {
    guard bytes.count == 32 else { throw LedgerError.corrupt("a transfer id of \(bytes.count) bytes") }
    return TransferID(bytes: bytes)
}
