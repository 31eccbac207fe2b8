import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// The one write of the pipeline: a batch, checked, then inserted in one IMMEDIATE transaction.
extension SQLiteLedger {
    public func commit(_ batch: BatchCommit) throws {
        try commit(after: { _ in batch })
    }

    public func commit(anyOf lanes: [Int], after prepare: (_ lane: Int, _ lastBatchOfLane: Int64) throws -> BatchCommit?) throws {
        guard let lane = lanes.first else { return }
        try commit(lane: lane, after: { try prepare(lane, $0) })
    }

    /// One process writes a SQLite ledger: the writer lock and the IMMEDIATE transaction are
    /// the writer lock of `commit(after:)`. The last stored header is read inside the
    /// transaction, `prepare` builds on it, and the batch is checked against it and inserted.
    public func commit(lane: Int, after prepare: (_ lastBatch: Int64) throws -> BatchCommit?) throws {
        guard let writer else { throw LedgerError.readOnly }
        try OpenTrees.check(lane: lane, of: 1)
        writerLock.lock(); defer { writerLock.unlock() }
        var prepareError: Error?  // the caller's own error, passed on as it is
        try guarded {
            try writer.withStatement("BEGIN IMMEDIATE") { try $0.run() }
            do {
                // The chain and the tree continue from the last stored header.
                let last = try writer.withStatement("SELECT number, hash, leaf_count, tree FROM batches ORDER BY number DESC LIMIT 1") { s in
                    try s.step() ? (number: s.int64(0), hash: s.blob(1), leafCount: s.int64(2), tree: s.int64(3)) : nil
                }
                let prepared: BatchCommit?
                do { prepared = try prepare(last?.number ?? 0) } catch {
                    prepareError = error
                    Self.rollback(writer)
                    return
                }
                guard let batch = prepared else {
                    Self.rollback(writer)
                    return
                }
                try batch.checkConsistency()
                try batch.checkExtends(last: last, capacity: treeCapacity)
                try insert(batch, into: writer)
                try FaultInjection.reach(.insideCommit)
                try writer.withStatement("COMMIT") { try $0.run() }
                try FaultInjection.reach(.afterCommit)
            } catch {
                Self.rollback(writer)
                throw error
            }
        }
        if let prepareError { throw prepareError }
    }

    /// Inserts every row of the batch (checked by `checkConsistency`), naming the first
    /// conflict that SQLite's UNIQUE constraints catch.
    private func insert(_ batch: BatchCommit, into db: SQLiteConnection) throws {
        try Self.insertHeader(batch, into: db)
        try Self.insertTransfers(batch, into: db)
        try Self.insertLeavesAndNullifiers(batch, into: db)
        try Self.insertRootAndPayouts(batch, into: db)
        if !batch.vouchers.isEmpty { try Self.insertVouchers(batch, into: db) }
    }

    private static func insertHeader(_ batch: BatchCommit, into db: SQLiteConnection) throws {
        let header = batch.header
        let number = header.number
        let rootBytes = header.root.bigEndianBytes
        try db.withStatement("""
            INSERT INTO batches (number, previous_hash, hash, root, leaf_count, transfer_count, created_at, tree, frontier)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { s in
            try s.bind(8, header.tree)
            if let f = batch.frontierBytes { try s.bind(9, blob: f) } else { try s.bindNull(9) }
            try s.bind(1, number); try s.bind(2, blob: header.previousHash); try s.bind(3, blob: header.hash)
            try s.bind(4, blob: rootBytes); try s.bind(5, header.leafCount)
            try s.bind(6, Int64(batch.transfers.count)); try s.bind(7, header.createdAt)
            try s.run()
        }
    }

    private static func insertTransfers(_ batch: BatchCommit, into db: SQLiteConnection) throws {
        let number = batch.header.number
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
    }

    private static func insertLeavesAndNullifiers(_ batch: BatchCommit, into db: SQLiteConnection) throws {
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
    }

    /// The batch's root into the recent-root window (dropping the oldest), and its withdrawals'
    /// payouts.
    private static func insertRootAndPayouts(_ batch: BatchCommit, into db: SQLiteConnection) throws {
        let header = batch.header
        let number = header.number
        let rootBytes = header.root.bigEndianBytes
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
    }

    private static func insertVouchers(_ batch: BatchCommit, into db: SQLiteConnection) throws {
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
}
