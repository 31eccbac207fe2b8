import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// The one write of the pipeline: a batch, checked, then inserted in one IMMEDIATE transaction.
extension SQLiteLedger {
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
            INSERT INTO batches (number, previous_hash, hash, root, leaf_count, transfer_count, created_at, tree)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """) { s in
            try s.bind(8, header.tree)
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

    /// Checks that the records of one batch agree with each other before anything is written:
    /// the header lists the transfers in order; each receipt states this batch; leaves,
    /// nullifiers and payouts are exactly the ones the transfers imply, in order; no nullifier
    /// is spent twice; leaf indices run on. (That each id hashes its public inputs is left to
    /// the audit: `TransferRequest` hashed it once at decode, and 64 SHA-256 calls more would be
    /// a visible share of a commit.)
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
}
