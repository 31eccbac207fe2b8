import BN254
import Ledger
import SQLite

extension SQLiteLedger {
    /// Re-derives everything derivable from the stored rows and compares (for `zksettle-admin
    /// db verify` and auditors): SQLite's integrity and foreign-key checks, then `LedgerAuditor`'s
    /// checks (the header chain, the trees rebuilt from their leaves, each transfer against its
    /// rows, nullifier uniqueness, payouts, vouchers, the root window, and, given the keys,
    /// receipt and voucher signatures). Loads the rows in one read transaction (safe beside a
    /// running server).
    ///
    /// - Returns: every fault found; empty for a sound ledger.
    public func audit(receiptPublicKey: [UInt8]? = nil, depositPublicKey: [UInt8]? = nil) throws -> [LedgerFault] {
        let rows = try read { db in try self.auditRows(db) }
        var auditor = LedgerAuditor(rows: rows, receiptPublicKey: receiptPublicKey, depositPublicKey: depositPublicKey, capacity: treeCapacity)
        return auditor.run()
    }

    private func auditRows(_ db: SQLiteConnection) throws -> LedgerAuditRows {
        var rows = LedgerAuditRows()
        for problem in try SQLiteLedger.integrityProblems(db) {
            rows.storageFaults.append(LedgerFault(problem.hasPrefix("foreign_key_check") ? .foreignKey : .sqliteIntegrity, problem))
        }
        try db.withStatement("""
            SELECT number, previous_hash, hash, root, leaf_count, transfer_count, created_at, \(hasTrees ? "tree" : "0"), \(hasFrontiers ? "frontier" : "NULL")
            FROM batches ORDER BY number
            """) { s in
            while try s.step() {
                rows.batches.append(.init(number: s.int64(0), previousHash: s.blob(1), hash: s.blob(2), root: s.blob(3),
                                          leafCount: s.int64(4), transferCount: s.int64(5), createdAt: s.int64(6), tree: s.int64(7),
                                          frontier: s.isNull(8) ? nil : s.blob(8)))
            }
        }
        try db.withStatement("SELECT batch, position, id FROM transfers ORDER BY batch, position") { s in
            while try s.step() { rows.positionsByBatch[s.int64(0), default: []].append((s.int64(1), s.blob(2))) }
        }
        try db.withStatement("SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves ORDER BY leaf_index") { s in
            while try s.step() {
                rows.leaves.append(.init(index: s.int64(0), commitment: s.blob(1), encryptedOutput: s.blob(2), transferID: s.blob(3), batch: s.int64(4)))
            }
        }
        try db.withStatement("SELECT nullifier, transfer_id, batch FROM nullifiers ORDER BY batch, nullifier") { s in
            while try s.step() { rows.nullifiers.append(.init(nullifier: s.blob(0), transferID: s.blob(1), batch: s.int64(2))) }
        }
        try db.withStatement("SELECT id, transfer_id, recipient, amount FROM payouts ORDER BY id") { s in
            while try s.step() { rows.payouts[s.blob(1), default: []].append(.init(id: s.int64(0), recipient: s.text(2), amount: s.int64(3))) }
        }
        rows.voucherEra = Int64.max  // a file before schema 3: every deposit is of the token era
        if hasVouchers {
            try db.withStatement("SELECT nonce, voucher, amount, expires_at, transfer_id, batch FROM vouchers") { s in
                while try s.step() {
                    rows.vouchers[s.blob(4), default: []].append(.init(nonce: s.blob(0), bytes: s.blob(1), amount: s.int64(2), expiresAt: s.int64(3), batch: s.int64(5)))
                }
            }
            rows.voucherEra = try db.scalar("SELECT COALESCE(max(first_batch), 1) FROM voucher_era")
        }
        try db.withStatement("""
            SELECT id, batch, root, public_amount, ext_data_hash, nullifier0, nullifier1, commitment0, commitment1,
                   ext_data, leaf_index0, leaf_index1, receipt_signature, created_at
            FROM transfers ORDER BY batch, position
            """) { s in
            while try s.step() {
                rows.transfers.append(.init(id: s.blob(0), batch: s.int64(1), inputs: (2...8).map { s.blob(Int32($0)) }, ext: s.blob(9),
                                            leaf0: s.int64(10), leaf1: s.int64(11), signature: s.blob(12), createdAt: s.int64(13)))
            }
        }
        var window: [Int64: [UInt8]] = [:]
        try db.withStatement("SELECT batch, root FROM roots") { s in
            while try s.step() { window[s.int64(0)] = s.blob(1) }
        }
        rows.rootWindow = window
        rows.rootsKept = Int(SQLiteLedger.rootsKept)
        return rows
    }
}
