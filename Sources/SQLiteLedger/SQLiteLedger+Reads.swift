import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// Reads, each in its own read transaction on the reader connection (one consistent snapshot).
extension SQLiteLedger {
    /// Only the open tree's leaves are loaded (the tree of the last leaf): closed trees are
    /// never appended to again, and their roots are anchors through `batchNumber(ofRoot:)`.
    public func loadSnapshot(recentRootWindow: Int, treeFromFrontier: Bool, lane: Int) throws -> LedgerSnapshot {
        try OpenTrees.check(lane: lane, of: 1)
        let capacity = Int64(treeCapacity)
        return try read { db in
            let total = try db.scalar("SELECT COALESCE(max(leaf_index), -1) + 1 FROM leaves")
            let tree = total == 0 ? 0 : (total - 1) / capacity
            let first = tree * capacity
            let last = try db.scalar("SELECT COALESCE(max(number), 0) FROM batches")
            let headers = try Self.headers(db, from: max(1, last - Int64(max(1, recentRootWindow)) + 1), limit: max(1, recentRootWindow), trees: hasTrees)
            let frontier = treeFromFrontier ? try storedFrontier(db, of: headers.last) : nil
            var leaves: [Fr] = []
            var stored = total - first  // leaves of the open tree (counted when not read)
            if frontier == nil {
                try db.withStatement("SELECT leaf_index, commitment FROM leaves WHERE leaf_index >= ? ORDER BY leaf_index") { s in
                    try s.bind(1, first)
                    while try s.step() {
                        guard s.int64(0) == first + Int64(leaves.count) else { throw LedgerError.corrupt("leaf \(first + Int64(leaves.count)) is missing (next stored leaf is \(s.int64(0)))") }
                        leaves.append(try Self.fr(s, 1, "leaves.commitment"))
                    }
                }
                stored = Int64(leaves.count)
            } else if try db.scalar("SELECT count(*) FROM leaves WHERE leaf_index >= \(first)") != stored {
                throw LedgerError.corrupt("tree \(tree)'s leaves up to \(total - 1) are not all stored")
            }
            var spent: [Fr] = []
            try db.withStatement("SELECT nullifier FROM nullifiers") { s in
                while try s.step() { spent.append(try Self.fr(s, 0, "nullifiers.nullifier")) }
            }
            if let h = headers.last, h.tree != tree || h.leafCount != stored {
                throw LedgerError.corrupt("the last batch (\(h.number)) ends tree \(h.tree) at \(h.leafCount) leaves, but the stored leaves end tree \(tree) at \(stored)")
            }
            var vouchers: [[UInt8]] = []
            if hasVouchers {
                try db.withStatement("SELECT nonce FROM vouchers") { s in
                    while try s.step() { vouchers.append(s.blob(0)) }
                }
            }
            return LedgerSnapshot(tree: tree, treeCapacity: treeCapacity, leaves: leaves, frontier: frontier, spentNullifiers: spent,
                                  recentHeaders: headers, usedVouchers: vouchers)
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
                    nullifiers: Pair(try Self.fr(s, 4, "transfers.nullifier0"), try Self.fr(s, 5, "transfers.nullifier1")),
                    commitments: Pair(try Self.fr(s, 6, "transfers.commitment0"), try Self.fr(s, 7, "transfers.commitment1")))
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

    public func leaves(from index: Int64, below end: Int64, limit: Int) throws -> [LeafRecord] {
        try read { db in
            try db.withStatement("""
                SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves
                WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index LIMIT ?
                """) { s in
                try s.bind(1, index); try s.bind(2, end); try s.bind(3, Int64(max(0, limit)))
                var out: [LeafRecord] = []
                while try s.step() {
                    out.append(LeafRecord(index: s.int64(0), commitment: try Self.fr(s, 1, "leaves.commitment"),
                                          encryptedOutput: s.blob(2), transferID: try Self.transferID(s, 3), batch: s.int64(4)))
                }
                return out
            }
        }
    }

    public func leafCommitments(from index: Int64, below end: Int64, limit: Int) throws -> [Fr] {
        try read { db in
            try db.withStatement("SELECT commitment FROM leaves WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index LIMIT ?") { s in
                try s.bind(1, index); try s.bind(2, end); try s.bind(3, Int64(max(0, limit)))
                var out: [Fr] = []
                out.reserveCapacity(max(0, limit))
                while try s.step() { out.append(try Self.fr(s, 0, "leaves.commitment")) }
                return out
            }
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
}

extension SQLiteLedger {
    /// The frontier stored with `header`'s batch (nil: no header, a file before schema 5, or a
    /// batch written before it).
    private func storedFrontier(_ db: SQLiteConnection, of header: BatchHeader?) throws -> [Fr]? {
        guard hasFrontiers, let header else { return nil }
        return try db.withStatement("SELECT frontier FROM batches WHERE number = ?") { s -> [Fr]? in
            try s.bind(1, header.number)
            guard try s.step(), !s.isNull(0) else { return nil }
            return try header.storedFrontier(s.blob(0))
        }
    }

    public func lastBatchNumber() throws -> Int64 {
        try read { db in try db.scalar("SELECT COALESCE(max(number), 0) FROM batches") }
    }

    public func laneHeads() throws -> [Int64] { [try lastBatchNumber()] }

    public func changes(lane: Int, after batch: Int64) throws -> LedgerChanges {
        try OpenTrees.check(lane: lane, of: 1)
        return try changes(after: batch)
    }

    public func changes(after batch: Int64) throws -> LedgerChanges {
        try read { db in
            var changes = LedgerChanges()
            let last = try db.scalar("SELECT COALESCE(max(number), 0) FROM batches")
            guard last > batch else { return changes }
            changes.headers = try Self.headers(db, from: batch + 1, limit: Int(last - batch), trees: hasTrees)
            changes.frontier = try storedFrontier(db, of: changes.headers.last)
            // With the frontier, the leaves are not needed (issue 16: no replay). Else the new
            // leaves start at the first leaf of the first new transfer (transfers are
            // indexed by batch; leaves by index only).
            if changes.frontier == nil {
                try db.withStatement("""
                    SELECT leaf_index, commitment FROM leaves
                    WHERE leaf_index >= (SELECT COALESCE(min(leaf_index0), 9223372036854775807) FROM transfers WHERE batch > ?)
                    ORDER BY leaf_index
                    """) { s in
                    try s.bind(1, batch)
                    while try s.step() { changes.leaves.append((s.int64(0), try Self.fr(s, 1, "leaves.commitment"))) }
                }
            }
            try db.withStatement("SELECT nullifier FROM nullifiers WHERE batch > ?") { s in
                try s.bind(1, batch)
                while try s.step() { changes.nullifiers.append(try Self.fr(s, 0, "nullifiers.nullifier")) }
            }
            if hasVouchers {
                try db.withStatement("SELECT nonce FROM vouchers WHERE batch > ?") { s in
                    try s.bind(1, batch)
                    while try s.step() { changes.voucherNonces.append(s.blob(0)) }
                }
            }
            return changes
        }
    }
}
