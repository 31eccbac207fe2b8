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
    /// Whether the file has the `tree` column of schema 4 (a read-only open of an older file
    /// reads every batch as tree 0).
    let hasTrees: Bool
    /// Whether the file has schema 3's voucher tables (a read-only open of an older file has
    /// no used voucher).
    let hasVouchers: Bool

    private let writer: SQLiteConnection?
    private let writerLock = NSLock()
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

    // MARK: Migrations

    /// Applies every pending migration step in one IMMEDIATE transaction (a second process
    /// opening the same file waits, then finds nothing left to do).
    private static func migrate(_ db: SQLiteConnection) throws(LedgerError) {
        try guarded {
            var version = try db.scalar("PRAGMA user_version")
            if version > LedgerSchema.currentVersion {
                throw LedgerError.schemaTooNew(found: version, supported: LedgerSchema.currentVersion)
            }
            if version == LedgerSchema.currentVersion { return }
            try db.execute("BEGIN IMMEDIATE")
            do {
                version = try db.scalar("PRAGMA user_version")
                if version == 0 {
                    let app = try db.scalar("PRAGMA application_id")
                    if app != 0 && app != applicationID {
                        throw LedgerError.corrupt("\(db.path) is not a ZKSettle ledger (application_id \(app))")
                    }
                    try db.execute("PRAGMA application_id = \(applicationID)")
                }
                while version < LedgerSchema.currentVersion {
                    try db.execute(LedgerSchema.migrations[Int(version)])
                    version += 1
                    try db.execute("PRAGMA user_version = \(version)")
                }
                try db.execute("COMMIT")
            } catch {
                rollback(db)
                throw error
            }
        }
    }

    static func storedTreeCapacity(_ db: SQLiteConnection) throws(LedgerError) -> Int? {
        let value: Int64? = try guarded {
            try db.withStatement("SELECT value FROM settings WHERE name = 'tree_capacity'") { s in try s.step() ? s.int64(0) : nil }
        }
        guard let value else { return nil }
        guard TreeCapacity.problem(Int(value)) == nil else { throw .corrupt("settings.tree_capacity is \(value): \(TreeCapacity.problem(Int(value))!)") }
        return Int(value)
    }

    /// Stores the tree capacity of a new ledger, or checks the requested one against the
    /// stored one (a ledger's trees never change size: leaf indices would change trees).
    private static func fixTreeCapacity(_ db: SQLiteConnection, requested: Int?) throws(LedgerError) {
        if let stored = try storedTreeCapacity(db) {
            if let requested, requested != stored { throw .treeCapacity(stored: stored, requested: requested) }
            return
        }
        try guarded {
            try db.withStatement("INSERT OR IGNORE INTO settings (name, value) VALUES ('tree_capacity', ?)") { s in
                try s.bind(1, Int64(requested ?? TreeCapacity.maximum)); try s.run()
            }
        }
        let stored = try storedTreeCapacity(db)
        if let requested, requested != stored { throw .treeCapacity(stored: stored, requested: requested) }
    }

    private static func checkSchema(_ db: SQLiteConnection, path: String) throws(LedgerError) {
        let (version, app) = try guarded { (try db.scalar("PRAGMA user_version"), try db.scalar("PRAGMA application_id")) }
        if version == 0 { throw .noLedger(path: path) }
        if app != applicationID { throw .corrupt("\(path) is not a ZKSettle ledger (application_id \(app))") }
        if version > LedgerSchema.currentVersion {
            throw .schemaTooNew(found: version, supported: LedgerSchema.currentVersion)
        }
    }

    private static func rollback(_ db: SQLiteConnection) {
        if !db.isAutocommit { try? db.execute("ROLLBACK") }
    }

    // MARK: Commit

    public func commit(_ batch: BatchCommit) throws {
        guard let writer else { throw LedgerError.readOnly }
        try Self.checkConsistency(batch)
        let header = batch.header
        writerLock.lock(); defer { writerLock.unlock() }
        try guarded {
            try writer.withStatement("BEGIN IMMEDIATE") { try $0.run() }
            do {
                // The chain and the tree continue from the last stored header.
                let last = try writer.withStatement("SELECT number, hash, leaf_count, tree FROM batches ORDER BY number DESC LIMIT 1") { s in
                    try s.step() ? (number: s.int64(0), hash: s.blob(1), leafCount: s.int64(2), tree: s.int64(3)) : nil
                }
                let expectedNumber = (last?.number ?? 0) + 1
                if header.number != expectedNumber { throw LedgerError.batchOutOfOrder(expected: expectedNumber, got: header.number) }
                if header.previousHash != (last?.hash ?? BatchHeader.genesisHash) { throw LedgerError.previousHashMismatch(batch: header.number) }
                // Leaves are numbered globally: tree t holds indices t × capacity ..< (t+1) × capacity.
                // A batch stays in the last batch's tree, or starts the next one once that is full.
                let capacity = Int64(treeCapacity)
                let lastTree = last?.tree ?? 0, lastCount = last?.leafCount ?? 0
                let firstLeaf = lastTree * capacity + lastCount
                let startsTree = header.tree == lastTree + 1 && lastCount == capacity
                if header.tree != lastTree && !startsTree {
                    throw LedgerError.inconsistentBatch("batch of tree \(header.tree) after a batch of tree \(lastTree) with \(lastCount) of \(capacity) leaves")
                }
                if let first = batch.leaves.first?.index, first != firstLeaf {
                    throw first < firstLeaf ? LedgerError.leafAlreadyPresent(first) : LedgerError.leafIndexGap(expected: firstLeaf, got: first)
                }
                let countBefore = startsTree ? 0 : lastCount
                if header.leafCount != countBefore + Int64(batch.leaves.count) || header.leafCount > capacity {
                    throw LedgerError.inconsistentBatch("header leafCount \(header.leafCount) in tree \(header.tree), but \(countBefore) leaves + \(batch.leaves.count) new (capacity \(capacity))")
                }
                try insert(batch, into: writer)
                try FaultInjection.reach(.insideCommit)
                try writer.withStatement("COMMIT") { try $0.run() }
                try FaultInjection.reach(.afterCommit)
            } catch {
                Self.rollback(writer)
                throw error
            }
        }
    }

    private func insert(_ batch: BatchCommit, into db: SQLiteConnection) throws {
        let header = batch.header
        let number = header.number
        let rootBytes = header.root.bigEndianBytes
        try db.withStatement("""
            INSERT INTO batches (number, previous_hash, hash, root, leaf_count, transfer_count, created_at, tree)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """) { s in
            try s.bind(8, header.tree)
            try s.bind(1, number); try s.bind(2, blob: header.previousHash); try s.bind(3, blob: header.hash)
            try s.bind(4, blob: rootBytes); try s.bind(5, header.leafCount)
            try s.bind(6, Int64(batch.transfers.count)); try s.bind(7, header.createdAt)
            try s.run()
        }
        try db.withStatement("""
            INSERT INTO transfers (id, batch, position, root, public_amount, ext_data_hash, nullifier0, nullifier1,
                                   commitment0, commitment1, ext_data, proof_json, leaf_index0, leaf_index1,
                                   receipt_signature, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { s in
            for (position, t) in batch.transfers.enumerated() {
                let p = t.publicInputs
                try s.bind(1, blob: t.id.bytes); try s.bind(2, number); try s.bind(3, Int64(position))
                try s.bind(4, blob: p.root.bigEndianBytes); try s.bind(5, blob: p.publicAmount.bigEndianBytes)
                try s.bind(6, blob: p.extDataHash.bigEndianBytes)
                try s.bind(7, blob: p.nullifiers[0].bigEndianBytes); try s.bind(8, blob: p.nullifiers[1].bigEndianBytes)
                try s.bind(9, blob: p.commitments[0].bigEndianBytes); try s.bind(10, blob: p.commitments[1].bigEndianBytes)
                try s.bind(11, blob: t.extData.canonicalEncoding); try s.bind(12, blob: t.proofJSON)
                try s.bind(13, t.leafIndices[0]); try s.bind(14, t.leafIndices[1])
                try s.bind(15, blob: t.receipt.signature); try s.bind(16, t.receipt.settledAt)
                do { try s.run() } catch let e as SQLiteError where e.isUniqueViolation && e.message.contains("transfers.id") {
                    throw LedgerError.transferAlreadySettled(t.id)
                }
                s.reset()
            }
        }
        try db.withStatement("INSERT INTO leaves (leaf_index, commitment, encrypted_output, transfer_id, batch) VALUES (?, ?, ?, ?, ?)") { s in
            for leaf in batch.leaves {
                try s.bind(1, leaf.index); try s.bind(2, blob: leaf.commitment.bigEndianBytes)
                try s.bind(3, blob: leaf.encryptedOutput); try s.bind(4, blob: leaf.transferID.bytes); try s.bind(5, leaf.batch)
                do { try s.run() } catch let e as SQLiteError where e.isConstraintViolation {
                    throw LedgerError.leafAlreadyPresent(leaf.index)
                }
                s.reset()
            }
        }
        try db.withStatement("INSERT INTO nullifiers (nullifier, transfer_id, batch, spent_at) VALUES (?, ?, ?, ?)") { s in
            for nf in batch.nullifiers {
                try s.bind(1, blob: nf.nullifier.bigEndianBytes); try s.bind(2, blob: nf.transferID.bytes)
                try s.bind(3, nf.batch); try s.bind(4, nf.spentAt)
                do { try s.run() } catch let e as SQLiteError where e.isUniqueViolation {
                    throw LedgerError.nullifierAlreadySpent(nf.nullifier)
                }
                s.reset()
            }
        }
        try db.withStatement("INSERT INTO roots (batch, root) VALUES (?, ?)") { s in
            try s.bind(1, number); try s.bind(2, blob: rootBytes); try s.run()
        }
        try db.withStatement("DELETE FROM roots WHERE batch <= ?") { s in
            try s.bind(1, number - Self.rootsKept); try s.run()
        }
        try db.withStatement("INSERT INTO payouts (transfer_id, recipient, amount, created_at) VALUES (?, ?, ?, ?)") { s in
            for p in batch.payouts {
                try s.bind(1, blob: p.transferID.bytes); try s.bind(2, p.recipient)
                try s.bind(3, Int64(p.amount)); try s.bind(4, header.createdAt)
                try s.run()
                s.reset()
            }
        }
        if batch.vouchers.isEmpty { return }
        try db.withStatement("INSERT INTO vouchers (nonce, voucher, amount, expires_at, transfer_id, batch) VALUES (?, ?, ?, ?, ?, ?)") { s in
            for v in batch.vouchers {
                try s.bind(1, blob: v.voucher.nonce); try s.bind(2, blob: v.voucher.bytes)
                try s.bind(3, Int64(v.voucher.amount)); try s.bind(4, v.voucher.expiresAt)
                try s.bind(5, blob: v.transferID.bytes); try s.bind(6, v.batch)
                do { try s.run() } catch let e as SQLiteError where e.isUniqueViolation && e.message.contains("vouchers.nonce") {
                    throw LedgerError.voucherAlreadyUsed(v.voucher.id)
                }
                s.reset()
            }
        }
    }

    /// Checks that the records of one batch agree with each other before anything is written:
    /// the header lists the transfers in order; each receipt states this batch; leaves,
    /// nullifiers and payouts are exactly the ones the transfers imply, in order; no nullifier
    /// is spent twice; leaf indices run on. (That each id hashes its public inputs is left to
    /// the audit: `TransferRequest.id` computes it, and 64 SHA-256 calls are a visible share
    /// of a commit.)
    static func checkConsistency(_ batch: BatchCommit) throws(LedgerError) {
        let h = batch.header
        func fail(_ s: String) -> LedgerError { .inconsistentBatch(s) }
        if h.number < 1 { throw .batchOutOfOrder(expected: 1, got: h.number) }
        if h.previousHash.count != 32 { throw fail("previousHash is \(h.previousHash.count) bytes") }
        if h.transferIDs != batch.transfers.map(\.id) { throw fail("header transferIDs differ from the transfers") }

        var seen = Set<Fr>()
        for nf in batch.nullifiers where !seen.insert(nf.nullifier).inserted {
            throw .duplicateNullifierInBatch(nf.nullifier)
        }
        var expectedLeaves: [LeafRecord] = []
        var expectedNullifiers: [(Fr, TransferID)] = []
        var expectedPayouts: [(TransferID, String, UInt64)] = []
        for t in batch.transfers {
            let p = t.publicInputs
            guard p.nullifiers.count == 2, p.commitments.count == 2 else { throw fail("transfer \(t.id) does not have 2 nullifiers and 2 commitments") }
            guard t.leafIndices.count == 2, t.leafIndices[1] == t.leafIndices[0] + 1 else { throw fail("transfer \(t.id) leaf indices \(t.leafIndices)") }
            guard t.extData.encryptedOutputs.count == 2 else { throw fail("transfer \(t.id) has \(t.extData.encryptedOutputs.count) encrypted outputs") }
            let r = t.receipt
            guard r.transferID == t.id.bytes, r.batch == h.number, r.tree == h.tree, r.leafIndices == t.leafIndices,
                  r.root == h.root, r.settledAt == h.createdAt else {
                throw fail("receipt of \(t.id) does not state this batch (number, root, time, leaves)")
            }
            for j in 0..<2 {
                expectedLeaves.append(LeafRecord(index: t.leafIndices[j], commitment: p.commitments[j],
                                                 encryptedOutput: t.extData.encryptedOutputs[j], transferID: t.id, batch: h.number))
                expectedNullifiers.append((p.nullifiers[j], t.id))
            }
            if t.extData.extAmount < 0 { expectedPayouts.append((t.id, t.extData.recipient, t.extData.extAmount.magnitude)) }
        }
        for (i, leaf) in batch.leaves.enumerated() where i > 0 && leaf.index != batch.leaves[i - 1].index + 1 {
            throw .leafIndexGap(expected: batch.leaves[i - 1].index + 1, got: leaf.index)
        }
        if batch.leaves != expectedLeaves { throw fail("leaves are not the transfers' output commitments in order") }
        guard batch.nullifiers.count == expectedNullifiers.count,
              zip(batch.nullifiers, expectedNullifiers).allSatisfy({ $0.nullifier == $1.0 && $0.transferID == $1.1 && $0.batch == h.number })
        else { throw fail("nullifier records are not the transfers' nullifiers in order") }
        guard batch.payouts.count == expectedPayouts.count,
              zip(batch.payouts, expectedPayouts).allSatisfy({ $0.transferID == $1.0 && $0.recipient == $1.1 && $0.amount == $1.2 })
        else { throw fail("payouts are not the batch's withdrawals in order") }
        if let big = batch.payouts.first(where: { $0.amount > UInt64(Int64.max) }) {
            throw fail("payout of \(big.amount) exceeds 2^63 - 1")
        }
        // Each deposit is paid by exactly one voucher for its amount, each voucher once.
        let deposits = batch.transfers.filter { $0.extData.extAmount > 0 }
        guard batch.vouchers.count == deposits.count,
              zip(batch.vouchers, deposits).allSatisfy({ $0.transferID == $1.id && $0.batch == h.number && $0.voucher.amount == UInt64($1.extData.extAmount) })
        else { throw fail("vouchers are not one per deposit, in order, for the deposit's amount") }
        var nonces = Set<[UInt8]>()
        for v in batch.vouchers where !nonces.insert(v.voucher.nonce).inserted { throw .voucherAlreadyUsed(v.voucher.id) }
    }

    // MARK: Reads

    /// Only the open tree's leaves are loaded (the tree of the last leaf): closed trees are
    /// never appended to again, and their roots are anchors through `batchNumber(ofRoot:)`.
    public func loadSnapshot(recentRootWindow: Int) throws -> LedgerSnapshot {
        let capacity = Int64(treeCapacity)
        return try read { db in
            let total = try db.scalar("SELECT COALESCE(max(leaf_index), -1) + 1 FROM leaves")
            let tree = total == 0 ? 0 : (total - 1) / capacity
            let first = tree * capacity
            var leaves: [Fr] = []
            try db.withStatement("SELECT leaf_index, commitment FROM leaves WHERE leaf_index >= ? ORDER BY leaf_index") { s in
                try s.bind(1, first)
                while try s.step() {
                    guard s.int64(0) == first + Int64(leaves.count) else { throw LedgerError.corrupt("leaf \(first + Int64(leaves.count)) is missing (next stored leaf is \(s.int64(0)))") }
                    leaves.append(try Self.fr(s, 1, "leaves.commitment"))
                }
            }
            var spent: [Fr] = []
            try db.withStatement("SELECT nullifier FROM nullifiers") { s in
                while try s.step() { spent.append(try Self.fr(s, 0, "nullifiers.nullifier")) }
            }
            let last = try db.scalar("SELECT COALESCE(max(number), 0) FROM batches")
            let headers = try Self.headers(db, from: max(1, last - Int64(max(1, recentRootWindow)) + 1), limit: max(1, recentRootWindow), trees: hasTrees)
            if let h = headers.last, h.tree != tree || h.leafCount != Int64(leaves.count) {
                throw LedgerError.corrupt("the last batch (\(h.number)) ends tree \(h.tree) at \(h.leafCount) leaves, but the stored leaves end tree \(tree) at \(leaves.count)")
            }
            var vouchers: [[UInt8]] = []
            if hasVouchers {
                try db.withStatement("SELECT nonce FROM vouchers") { s in
                    while try s.step() { vouchers.append(s.blob(0)) }
                }
            }
            return LedgerSnapshot(tree: tree, treeCapacity: treeCapacity, leaves: leaves, spentNullifiers: spent, recentHeaders: headers,
                                  usedVouchers: vouchers)
        }
    }

    public func settledTransfer(_ id: TransferID) throws -> SettledTransfer? {
        try read { db in
            try db.withStatement("""
                SELECT t.batch, t.root, t.public_amount, t.ext_data_hash, t.nullifier0, t.nullifier1, t.commitment0,
                       t.commitment1, t.ext_data, t.proof_json, t.leaf_index0, t.leaf_index1, t.receipt_signature,
                       t.created_at, b.root, \(hasTrees ? "b.tree" : "0")
                FROM transfers t JOIN batches b ON b.number = t.batch WHERE t.id = ?
                """) { s in
                try s.bind(1, blob: id.bytes)
                guard try s.step() else { return nil }
                let inputs = TransferPublicInputs(
                    root: try Self.fr(s, 1, "transfers.root"), publicAmount: try Self.fr(s, 2, "transfers.public_amount"),
                    extDataHash: try Self.fr(s, 3, "transfers.ext_data_hash"),
                    nullifiers: [try Self.fr(s, 4, "transfers.nullifier0"), try Self.fr(s, 5, "transfers.nullifier1")],
                    commitments: [try Self.fr(s, 6, "transfers.commitment0"), try Self.fr(s, 7, "transfers.commitment1")])
                let extData: ExtData
                do { extData = try ExtData(canonicalEncoding: s.blob(8)) } catch { throw LedgerError.corrupt("transfer \(id): \(error)") }
                let batch = s.int64(0)
                let leafIndices = [s.int64(10), s.int64(11)]
                let receipt = Receipt(transferID: id.bytes, batch: batch, tree: s.int64(15), leafIndices: leafIndices,
                                      root: try Self.fr(s, 14, "batches.root"), settledAt: s.int64(13), signature: s.blob(12))
                return SettledTransfer(id: id, publicInputs: inputs, extData: extData, proofJSON: s.blob(9),
                                       leafIndices: leafIndices, receipt: receipt)
            }
        }
    }

    public func nullifier(_ nf: Fr) throws -> NullifierRecord? {
        try read { db in
            try db.withStatement("SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers WHERE nullifier = ?") { s in
                try s.bind(1, blob: nf.bigEndianBytes)
                return try s.step() ? try Self.nullifierRecord(s) : nil
            }
        }
    }

    /// Spent nullifiers for auditors, oldest batch first (by nullifier within a batch): of one
    /// batch, and/or spent at or after a time (Unix ms, then ordered by time), a page of
    /// `limit` after skipping `offset`.
    public func nullifiers(batch: Int64? = nil, since: Int64? = nil, limit: Int = 1000, offset: Int = 0) throws -> [NullifierRecord] {
        let columns = "SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers"
        let sql: String
        switch (batch, since) {
        case (nil, nil): sql = "\(columns) ORDER BY batch, nullifier LIMIT ?3 OFFSET ?4"
        case (.some, nil): sql = "\(columns) WHERE batch = ?1 ORDER BY nullifier LIMIT ?3 OFFSET ?4"
        case (nil, .some): sql = "\(columns) WHERE spent_at >= ?2 ORDER BY spent_at, nullifier LIMIT ?3 OFFSET ?4"
        case (.some, .some): sql = "\(columns) WHERE batch = ?1 AND spent_at >= ?2 ORDER BY nullifier LIMIT ?3 OFFSET ?4"
        }
        return try read { db in
            try db.withStatement(sql) { s in
                if let batch { try s.bind(1, batch) }
                if let since { try s.bind(2, since) }
                try s.bind(3, Int64(max(0, limit))); try s.bind(4, Int64(max(0, offset)))
                var out: [NullifierRecord] = []
                while try s.step() { out.append(try Self.nullifierRecord(s)) }
                return out
            }
        }
    }

    public func batchHeader(_ number: Int64) throws -> BatchHeader? {
        try read { db in try Self.headers(db, from: number, limit: 1, trees: hasTrees).first { $0.number == number } }
    }

    /// The first batch whose root is `root`, through the `batches_by_root` index (schema v2).
    public func batchNumber(ofRoot root: Fr) throws -> Int64? {
        try read { db in
            try db.withStatement("SELECT number FROM batches WHERE root = ? ORDER BY number LIMIT 1") { s in
                try s.bind(1, blob: root.bigEndianBytes)
                return try s.step() ? s.int64(0) : nil
            }
        }
    }

    /// Headers from `number` on, in order, at most `limit` (each with its transfer ids).
    public func batchHeaders(from number: Int64, limit: Int) throws -> [BatchHeader] {
        try read { db in try Self.headers(db, from: number, limit: limit, trees: hasTrees) }
    }

    /// The stored hash of a batch header (what the next header's previousHash must be).
    public func storedBatchHash(_ number: Int64) throws -> [UInt8]? {
        try read { db in
            try db.withStatement("SELECT hash FROM batches WHERE number = ?") { s in
                try s.bind(1, number)
                return try s.step() ? s.blob(0) : nil
            }
        }
    }

    /// The recent-root window as stored in `roots`, oldest first.
    public func storedRoots() throws -> [(batch: Int64, root: Fr)] {
        try read { db in
            try db.withStatement("SELECT batch, root FROM roots ORDER BY batch") { s in
                var out: [(batch: Int64, root: Fr)] = []
                while try s.step() { out.append((s.int64(0), try Self.fr(s, 1, "roots.root"))) }
                return out
            }
        }
    }

    public func leaves(from index: Int64, limit: Int) throws -> [LeafRecord] {
        try read { db in
            try db.withStatement("""
                SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves
                WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?
                """) { s in
                try s.bind(1, index); try s.bind(2, Int64(max(0, limit)))
                var out: [LeafRecord] = []
                while try s.step() {
                    out.append(LeafRecord(index: s.int64(0), commitment: try Self.fr(s, 1, "leaves.commitment"),
                                          encryptedOutput: s.blob(2), transferID: try Self.transferID(s, 3), batch: s.int64(4)))
                }
                return out
            }
        }
    }

    public func leafCommitments(from index: Int64, limit: Int) throws -> [Fr] {
        try read { db in
            try db.withStatement("SELECT commitment FROM leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?") { s in
                try s.bind(1, index); try s.bind(2, Int64(max(0, limit)))
                var out: [Fr] = []
                out.reserveCapacity(max(0, limit))
                while try s.step() { out.append(try Self.fr(s, 0, "leaves.commitment")) }
                return out
            }
        }
    }

    public func payouts(pendingOnly: Bool) throws -> [Payout] {
        let sql = "SELECT id, transfer_id, recipient, amount, status, created_at, paid_at FROM payouts"
            + (pendingOnly ? " WHERE status = 'pending'" : "") + " ORDER BY id"
        return try read { db in
            try db.withStatement(sql) { s in
                var out: [Payout] = []
                while try s.step() {
                    guard let status = Payout.Status(rawValue: s.text(4)), s.int64(3) > 0 else {
                        throw LedgerError.corrupt("payout \(s.int64(0)) has status \(s.text(4)) and amount \(s.int64(3))")
                    }
                    out.append(Payout(id: s.int64(0), transferID: try Self.transferID(s, 1), recipient: s.text(2),
                                      amount: UInt64(s.int64(3)), status: status, createdAt: s.int64(5), paidAt: s.optionalInt64(6)))
                }
                return out
            }
        }
    }

    public func markPayoutPaid(_ id: Int64, at time: Int64) throws -> Bool {
        guard let writer else { throw LedgerError.readOnly }
        writerLock.lock(); defer { writerLock.unlock() }
        return try guarded {
            try writer.withStatement("UPDATE payouts SET status = 'paid', paid_at = ? WHERE id = ? AND status = 'pending'") { s in
                try s.bind(1, time); try s.bind(2, id); try s.run()
            }
            return writer.changes == 1
        }
    }

    public func counts() throws -> LedgerCounts {
        try read { db in
            try db.withStatement("""
                SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM transfers), (SELECT count(*) FROM nullifiers),
                       (SELECT count(*) FROM leaves), (SELECT count(*) FROM payouts WHERE status = 'pending'),
                       \(hasVouchers ? "(SELECT count(*) FROM vouchers)" : "0"), (\(Self.feesAccruedSQL))
                """) { s in
                _ = try s.step()
                return LedgerCounts(batches: s.int64(0), transfers: s.int64(1), nullifiers: s.int64(2),
                                    leaves: s.int64(3), pendingPayouts: s.int64(4), vouchersUsed: s.int64(5), feesAccrued: s.int64(6))
            }
        }
    }

    public func usedVoucher(nonce: [UInt8]) throws -> VoucherRecord? {
        guard hasVouchers else { return nil }
        return try read { db in
            try db.withStatement("SELECT voucher, transfer_id, batch FROM vouchers WHERE nonce = ?") { s in
                try s.bind(1, blob: nonce)
                guard try s.step() else { return nil }
                let bytes = s.blob(0)
                guard let voucher = try? DepositVoucher(bytes: bytes), s.blob(1).count == 32 else {
                    throw LedgerError.corrupt("the stored voucher \(Hex.encode(nonce)) does not decode")
                }
                return VoucherRecord(voucher: voucher, transferID: TransferID(bytes: s.blob(1)), batch: s.int64(2))
            }
        }
    }

    /// The sum of the `fee` field of every stored transfer's external data, in SQL so that
    /// `counts()` stays one statement without a column (and a schema migration) of its own.
    /// In `ExtData.canonicalEncoding` the fee is the 8 big-endian bytes after the 19-byte tag,
    /// the u16 recipient length, the recipient and the 8-byte ext amount: 1-based offset
    /// 30 + length. SQLite has no blob-to-integer function, so each byte is read from `hex()`;
    /// a fee is at most Int64.max (`ExtData.validate`), so no term overflows.
    static let feesAccruedSQL: String = {
        func nibble(_ hex: String, _ i: Int) -> String { "(instr('0123456789ABCDEF', substr(\(hex), \(i), 1)) - 1)" }
        let lengthHex = "hex(substr(ext_data, 20, 2))"
        let length = (1...4).map { "\(nibble(lengthHex, $0)) * \(1 << (4 * (4 - $0)))" }.joined(separator: " + ")
        let fee = (1...16).map { "\(nibble("h", $0)) * \(Int64(1) << (4 * (16 - $0)))" }.joined(separator: " + ")
        return "SELECT coalesce(sum(\(fee)), 0) FROM (SELECT hex(substr(ext_data, 30 + (\(length)), 8)) AS h FROM transfers)"
    }()

    /// SQLite's own checks: `PRAGMA integrity_check` (b-trees, indexes, NOT NULL, CHECK) and
    /// `PRAGMA foreign_key_check`. Empty when both pass.
    public func integrityCheck() throws -> [String] {
        try read { db in try Self.integrityProblems(db) }
    }

    static func integrityProblems(_ db: SQLiteConnection) throws -> [String] {
        var problems: [String] = []
        try db.withStatement("PRAGMA integrity_check") { s in
            while try s.step() {
                let line = s.text(0)
                if line != "ok" { problems.append("integrity_check: \(line)") }
            }
        }
        try db.withStatement("PRAGMA foreign_key_check") { s in
            while try s.step() {
                problems.append("foreign_key_check: \(s.text(0)) row \(s.isNull(1) ? "?" : String(s.int64(1))) has no parent in \(s.text(2))")
            }
        }
        return problems
    }

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
