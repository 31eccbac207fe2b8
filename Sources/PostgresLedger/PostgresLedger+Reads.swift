import BN254
import Foundation
import Groth16
import Ledger
import NIOCore
import PostgresNIO
import Primitives
import Protocol

/// Reads: one statement each, or one REPEATABLE READ snapshot for several.
extension PostgresLedger {
    static func fr(_ b: ByteBuffer, _ what: String) throws -> Fr {
        do { return try Fr(bigEndian: Array(buffer: b)) } catch { throw LedgerError.corrupt("\(what): \(error)") }
    }

    static func transferID(_ b: ByteBuffer) throws -> TransferID {
        guard b.readableBytes == 32 else { throw LedgerError.corrupt("a transfer id of \(b.readableBytes) bytes") }
        return TransferID(bytes: Array(buffer: b))
    }

    static func headers(_ s: ConnectionSlot.Session, from number: Int64, limit: Int) throws -> [BatchHeader] {
        let rows = try s.rows("""
            SELECT b.number, b.previous_hash, b.tree, b.root, b.leaf_count, b.created_at,
                   COALESCE((SELECT array_agg(t.id ORDER BY t.position) FROM transfers t WHERE t.batch = b.number), '{}')
            FROM batches b WHERE b.number >= \(number) ORDER BY b.number LIMIT \(Int64(max(0, limit)))
            """)
        return try rows.map { row in
            let (n, prev, tree, root, leafCount, createdAt, ids) = try row.decode((Int64, ByteBuffer, Int64, ByteBuffer, Int64, Int64, [ByteBuffer]).self)
            return BatchHeader(number: n, previousHash: Array(buffer: prev), tree: tree, root: try fr(root, "batches.root"), leafCount: leafCount,
                               transferIDs: try ids.map(transferID), createdAt: createdAt)
        }
    }

    public func loadSnapshot(recentRootWindow: Int, treeFromFrontier: Bool, lane: Int) throws -> LedgerSnapshot {
        try OpenTrees.check(lane: lane, of: openTrees)
        if openTrees > 1 { return try loadLaneSnapshot(recentRootWindow: recentRootWindow, lane: lane) }
        let capacity = Int64(treeCapacity)
        return try read { s in
            let total = try s.rows("SELECT COALESCE(max(leaf_index), -1) + 1 FROM leaves")[0].decode(Int64.self)
            let tree = total == 0 ? 0 : (total - 1) / capacity
            let first = tree * capacity
            let last = try s.rows("SELECT COALESCE(max(number), 0) FROM batches")[0].decode(Int64.self)
            let window = Int64(max(1, recentRootWindow))
            let headers = try Self.headers(s, from: max(1, last - window + 1), limit: Int(window))
            let frontier = try treeFromFrontier ? headers.last.flatMap { try Self.storedFrontier(s, of: $0) } : nil
            var leaves: [Fr] = []
            var stored = total - first  // leaves of the open tree (counted when not read)
            if frontier == nil {
                for row in try s.rows("SELECT leaf_index, commitment FROM leaves WHERE leaf_index >= \(first) ORDER BY leaf_index") {
                    let (index, c) = try row.decode((Int64, ByteBuffer).self)
                    guard index == first + Int64(leaves.count) else { throw LedgerError.corrupt("leaf \(first + Int64(leaves.count)) is missing (next stored leaf is \(index))") }
                    leaves.append(try Self.fr(c, "leaves.commitment"))
                }
                stored = Int64(leaves.count)
            } else if try s.rows("SELECT count(*) FROM leaves WHERE leaf_index >= \(first)")[0].decode(Int64.self) != stored {
                throw LedgerError.corrupt("tree \(tree)'s leaves up to \(total - 1) are not all stored")
            }
            let spent = try s.rows("SELECT nullifier FROM nullifiers").map { try Self.fr($0.decode(ByteBuffer.self), "nullifiers.nullifier") }
            if let h = headers.last, h.tree != tree || h.leafCount != stored {
                throw LedgerError.corrupt("the last batch (\(h.number)) ends tree \(h.tree) at \(h.leafCount) leaves, but the stored leaves end tree \(tree) at \(stored)")
            }
            let vouchers = try s.rows("SELECT nonce FROM vouchers").map { Array(buffer: try $0.decode(ByteBuffer.self)) }
            return LedgerSnapshot(tree: tree, treeCapacity: treeCapacity, leaves: leaves, frontier: frontier, spentNullifiers: spent,
                                  recentHeaders: headers, usedVouchers: vouchers)
        }
    }

    /// `loadSnapshot` on a ledger of several open trees: every lane's last batch and stored
    /// frontier, lane `lane`'s open tree from it (its leaves counted, not read), the newest
    /// headers of all lanes, every spent nullifier and used voucher.
    private func loadLaneSnapshot(recentRootWindow: Int, lane: Int) throws -> LedgerSnapshot {
        let capacity = Int64(treeCapacity)
        return try read { s in
            let heads = try laneHeads(s)
            let window = Int64(max(1, recentRootWindow))
            let recent = try Self.headers(s, from: max(1, (heads.max() ?? 0) - window + 1), limit: Int(window))
            var tips: [LaneTip] = []
            for (l, number) in heads.enumerated() {
                guard number > 0 else { tips.append(LaneTip()); continue }
                guard let h = try Self.headers(s, from: number, limit: 1).first, h.number == number else {
                    throw LedgerError.corrupt("lane \(l)'s last batch \(number) cannot be read")
                }
                guard let frontier = try Self.storedFrontier(s, of: h) else {
                    throw LedgerError.corrupt("batch \(number), the last of lane \(l), stores no frontier")
                }
                tips.append(LaneTip(header: h, frontier: frontier))
            }
            if let h = tips[lane].header {
                let first = h.tree * capacity
                let stored = try s.rows("SELECT count(*) FROM leaves WHERE leaf_index >= \(first) AND leaf_index < \(first + capacity)")[0].decode(Int64.self)
                if stored != h.leafCount {
                    throw LedgerError.corrupt("batch \(h.number) ends tree \(h.tree) at \(h.leafCount) leaves, but \(stored) of its leaves are stored")
                }
            }
            let spent = try s.rows("SELECT nullifier FROM nullifiers").map { try Self.fr($0.decode(ByteBuffer.self), "nullifiers.nullifier") }
            let vouchers = try s.rows("SELECT nonce FROM vouchers").map { Array(buffer: try $0.decode(ByteBuffer.self)) }
            var snapshot = LedgerSnapshot(tree: tips[lane].header?.tree ?? Int64(lane), treeCapacity: treeCapacity, leaves: [],
                                          frontier: tips[lane].frontier, spentNullifiers: spent, recentHeaders: recent, usedVouchers: vouchers)
            snapshot.lanes = tips
            snapshot.lane = lane
            return snapshot
        }
    }

    /// The frontier stored with `header`'s batch (nil: written before schema 2).
    static func storedFrontier(_ s: ConnectionSlot.Session, of header: BatchHeader) throws -> [Fr]? {
        guard let bytes = try s.rows("SELECT frontier FROM batches WHERE number = \(header.number)").first?.decode(ByteBuffer?.self) else { return nil }
        return try header.storedFrontier(Array(buffer: bytes))
    }

    func laneHeads(_ s: ConnectionSlot.Session) throws -> [Int64] {
        // Before schema 3 (a database no node has migrated, read by the admin tool) there is
        // one lane and no lane column.
        if schemaVersion < 3 { return [try s.rows("SELECT COALESCE(max(number), 0) FROM batches")[0].decode(Int64.self)] }
        // One index probe per lane (a GROUP BY would read the whole index).
        return try s.rows("""
            SELECT (SELECT COALESCE(max(number), 0) FROM batches WHERE lane = l) FROM generate_series(0, \(Int64(openTrees - 1))) AS l ORDER BY l
            """).map { try $0.decode(Int64.self) }
    }

    public func laneHeads() throws -> [Int64] {
        try reader().session { s in try laneHeads(s) }
    }

    public func lastBatchNumber() throws -> Int64 {
        try reader().session { s in try s.rows("SELECT COALESCE(max(number), 0) FROM batches")[0].decode(Int64.self) }
    }

    /// One statement, so one snapshot and one round trip without a transaction around it: each
    /// new batch's header fields, transfer ids, stored frontier, nullifiers and voucher nonces
    /// (each by its batch index). A node asks this under the writer lock when another node
    /// committed first, and before every fresh public read. When the last batch has no stored
    /// frontier (written before schema 2) the leaves are needed too: `changesReplayingLeaves`.
    public func changes(after batch: Int64) throws -> LedgerChanges {
        try changes(lane: nil, after: batch)
    }

    public func changes(lane: Int, after batch: Int64) throws -> LedgerChanges {
        try OpenTrees.check(lane: lane, of: openTrees)
        return try changes(lane: openTrees == 1 ? nil : lane, after: batch)
    }

    /// The batches after `batch`, of one lane (nil: all, one open tree).
    private func changes(lane: Int?, after batch: Int64) throws -> LedgerChanges {
        let laneFilter = lane.map { "b.lane = \($0) AND " } ?? ""
        let rows = try reader().session { s in
            try s.rows("""
                SELECT b.number, b.previous_hash, b.tree, b.root, b.leaf_count, b.created_at,
                       COALESCE((SELECT array_agg(t.id ORDER BY t.position) FROM transfers t WHERE t.batch = b.number), '{}'),
                       b.frontier,
                       COALESCE((SELECT array_agg(n.nullifier) FROM nullifiers n WHERE n.batch = b.number), '{}'),
                       COALESCE((SELECT array_agg(v.nonce) FROM vouchers v WHERE v.batch = b.number), '{}')
                FROM batches b WHERE \(unescaped: laneFilter)b.number > \(batch) ORDER BY b.number
                """)
        }
        var changes = LedgerChanges()
        var lastFrontier: ByteBuffer?
        for row in rows {
            let (n, prev, tree, root, leafCount, createdAt, ids, frontier, nullifiers, nonces) =
                try row.decode((Int64, ByteBuffer, Int64, ByteBuffer, Int64, Int64, [ByteBuffer], ByteBuffer?, [ByteBuffer], [ByteBuffer]).self)
            changes.headers.append(BatchHeader(number: n, previousHash: Array(buffer: prev), tree: tree, root: try Self.fr(root, "batches.root"),
                                               leafCount: leafCount, transferIDs: try ids.map(Self.transferID), createdAt: createdAt))
            for nf in nullifiers { changes.nullifiers.append(try Self.fr(nf, "nullifiers.nullifier")) }
            for nonce in nonces { changes.voucherNonces.append(Array(buffer: nonce)) }
            lastFrontier = frontier
        }
        guard let head = changes.headers.last else { return changes }
        guard let lastFrontier else {
            // Only a ledger of one open tree has batches from before stored frontiers.
            if let lane { throw LedgerError.corrupt("batch \(head.number), the last of lane \(lane), stores no frontier") }
            return try changesReplayingLeaves(after: batch)
        }
        changes.frontier = try head.storedFrontier(Array(buffer: lastFrontier))
        return changes
    }

    /// `changes(after:)` with the new leaves, in one snapshot, for a last batch without a
    /// stored frontier.
    func changesReplayingLeaves(after batch: Int64) throws -> LedgerChanges {
        try read { s in
            var changes = LedgerChanges()
            let last = try s.rows("SELECT COALESCE(max(number), 0) FROM batches")[0].decode(Int64.self)
            guard last > batch else { return changes }
            changes.headers = try Self.headers(s, from: batch + 1, limit: Int(last - batch))
            changes.leaves = try s.rows("""
                SELECT leaf_index, commitment FROM leaves
                WHERE leaf_index >= (SELECT COALESCE(min(leaf_index0), 9223372036854775807) FROM transfers WHERE batch > \(batch))
                ORDER BY leaf_index
                """).map { row in
                let (i, c) = try row.decode((Int64, ByteBuffer).self)
                return (i, try Self.fr(c, "leaves.commitment"))
            }
            changes.nullifiers = try s.rows("SELECT nullifier FROM nullifiers WHERE batch > \(batch)").map { try Self.fr($0.decode(ByteBuffer.self), "nullifiers.nullifier") }
            changes.voucherNonces = try s.rows("SELECT nonce FROM vouchers WHERE batch > \(batch)").map { Array(buffer: try $0.decode(ByteBuffer.self)) }
            return changes
        }
    }

    public func settledTransfer(_ id: TransferID) throws -> SettledTransfer? {
        try reader().session { s in
            guard let row = try s.rows("""
                SELECT t.batch, t.root, t.public_amount, t.ext_data_hash, t.nullifier0, t.nullifier1, t.commitment0,
                       t.commitment1, t.ext_data, t.proof_json, t.leaf_index0, t.leaf_index1, t.receipt_signature,
                       t.created_at, b.root, b.tree
                FROM transfers t JOIN batches b ON b.number = t.batch WHERE t.id = \(ByteBuffer(bytes: id.bytes))
                """).first else { return nil }
            let (batch, root, pa, edh, n0, n1, c0, c1, ext, proof, l0, l1, sig, createdAt, batchRoot, tree) =
                try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer,
                                ByteBuffer, Int64, Int64, ByteBuffer, Int64, ByteBuffer, Int64).self)
            let inputs = TransferPublicInputs(
                root: try Self.fr(root, "transfers.root"), publicAmount: try Self.fr(pa, "transfers.public_amount"),
                extDataHash: try Self.fr(edh, "transfers.ext_data_hash"),
                nullifiers: Pair(try Self.fr(n0, "transfers.nullifier0"), try Self.fr(n1, "transfers.nullifier1")),
                commitments: Pair(try Self.fr(c0, "transfers.commitment0"), try Self.fr(c1, "transfers.commitment1")))
            let extData: ExtData
            do { extData = try ExtData(canonicalEncoding: Array(buffer: ext)) } catch { throw LedgerError.corrupt("transfer \(id): \(error)") }
            let receipt = Receipt(transferID: id.bytes, batch: batch, tree: tree, leafIndices: [l0, l1],
                                  root: try Self.fr(batchRoot, "batches.root"), settledAt: createdAt, signature: Array(buffer: sig))
            return SettledTransfer(id: id, publicInputs: inputs, extData: extData, proofJSON: Array(buffer: proof),
                                   leafIndices: [l0, l1], receipt: receipt)
        }
    }

    private static func nullifierRecord(_ row: PostgresRow) throws -> NullifierRecord {
        let (nf, t, batch, spentAt) = try row.decode((ByteBuffer, ByteBuffer, Int64, Int64).self)
        return NullifierRecord(nullifier: try fr(nf, "nullifiers.nullifier"), transferID: try transferID(t), batch: batch, spentAt: spentAt)
    }

    public func nullifier(_ nf: Fr) throws -> NullifierRecord? {
        try reader().session { s in
            try s.rows("SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers WHERE nullifier = \(ByteBuffer(bytes: nf.bigEndianBytes))")
                .first.map(Self.nullifierRecord)
        }
    }

    public func nullifiers(batch: Int64?, since: Int64?, limit: Int, offset: Int) throws -> [NullifierRecord] {
        let limit = Int64(max(0, limit)), offset = Int64(max(0, offset))
        return try reader().session { s in
            let columns = "SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers"
            let rows: [PostgresRow]
            switch (batch, since) {
            case (nil, nil): rows = try s.rows("\(unescaped: columns) ORDER BY batch, nullifier LIMIT \(limit) OFFSET \(offset)")
            case (let b?, nil): rows = try s.rows("\(unescaped: columns) WHERE batch = \(b) ORDER BY nullifier LIMIT \(limit) OFFSET \(offset)")
            case (nil, let t?): rows = try s.rows("\(unescaped: columns) WHERE spent_at >= \(t) ORDER BY spent_at, nullifier LIMIT \(limit) OFFSET \(offset)")
            case (let b?, let t?): rows = try s.rows("\(unescaped: columns) WHERE batch = \(b) AND spent_at >= \(t) ORDER BY nullifier LIMIT \(limit) OFFSET \(offset)")
            }
            return try rows.map(Self.nullifierRecord)
        }
    }

    public func batchHeader(_ number: Int64) throws -> BatchHeader? {
        try read { s in try Self.headers(s, from: number, limit: 1).first { $0.number == number } }
    }

    public func batchHeaders(from number: Int64, limit: Int) throws -> [BatchHeader] {
        try read { s in try Self.headers(s, from: number, limit: limit) }
    }

    public func batchNumber(ofRoot root: Fr) throws -> Int64? {
        try reader().session { s in
            try s.rows("SELECT number FROM batches WHERE root = \(ByteBuffer(bytes: root.bigEndianBytes)) ORDER BY number LIMIT 1")
                .first.map { try $0.decode(Int64.self) }
        }
    }

    public func leaves(from index: Int64, below end: Int64, limit: Int) throws -> [LeafRecord] {
        try reader().session { s in
            try s.rows("""
                SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves
                WHERE leaf_index >= \(index) AND leaf_index < \(end) ORDER BY leaf_index LIMIT \(Int64(max(0, limit)))
                """).map { row in
                let (i, c, e, t, b) = try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer, Int64).self)
                return LeafRecord(index: i, commitment: try Self.fr(c, "leaves.commitment"), encryptedOutput: Array(buffer: e),
                                  transferID: try Self.transferID(t), batch: b)
            }
        }
    }

    public func leafCommitments(from index: Int64, below end: Int64, limit: Int) throws -> [Fr] {
        try reader().session { s in
            try s.rows("SELECT commitment FROM leaves WHERE leaf_index >= \(index) AND leaf_index < \(end) ORDER BY leaf_index LIMIT \(Int64(max(0, limit)))")
                .map { try Self.fr($0.decode(ByteBuffer.self), "leaves.commitment") }
        }
    }

    public func spends(from index: Int64, below end: Int64, limit: Int) throws -> [PublicSpend] {
        let first = max(0, index) & ~1
        let transfers = Int64((max(0, limit) + Int(max(0, index) - first) + 1) / 2)
        return try reader().session { s in
            var out: [PublicSpend] = []
            for row in try s.rows("""
                SELECT leaf_index0, nullifier0, nullifier1, id, batch, ext_data FROM transfers
                WHERE leaf_index0 >= \(first) AND leaf_index0 < \(end) ORDER BY leaf_index0 LIMIT \(transfers)
                """) {
                let (leaf, n0, n1, idBytes, batch, ext) = try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer, Int64, ByteBuffer).self)
                let id = try Self.transferID(idBytes)
                let extData: ExtData
                do { extData = try ExtData(canonicalEncoding: Array(buffer: ext)) } catch { throw LedgerError.corrupt("transfer \(id): \(error)") }
                for (j, nf) in [n0, n1].enumerated() where leaf + Int64(j) >= index && leaf + Int64(j) < end {
                    out.append(PublicSpend(index: leaf + Int64(j), nullifier: try Self.fr(nf, "transfers.nullifier\(j)"), transferID: id,
                                           batch: batch, extAmount: extData.extAmount))
                }
            }
            return Array(out.prefix(max(0, limit)))
        }
    }

    /// The fee of a transfer's canonical external data, in SQL (see `SQLiteLedger.feesAccruedSQL`
    /// for the layout): the 8 big-endian bytes at 1-based offset 30 + the recipient's length.
    static let feeSQL = "('x' || encode(substring(ext_data from 30 + get_byte(ext_data, 19) * 256 + get_byte(ext_data, 20) for 8), 'hex'))::bit(64)::bigint"

    public func counts() throws -> LedgerCounts {
        try read { s in
            let row = try s.rows("""
                SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM transfers), (SELECT count(*) FROM nullifiers),
                       (SELECT count(*) FROM leaves), (SELECT count(*) FROM payouts WHERE status = 'pending'),
                       (SELECT count(*) FROM vouchers), (SELECT COALESCE(sum(\(unescaped: Self.feeSQL)), 0)::bigint FROM transfers)
                """)[0]
            let (b, t, n, l, p, v, f) = try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            return LedgerCounts(batches: b, transfers: t, nullifiers: n, leaves: l, pendingPayouts: p, vouchersUsed: v, feesAccrued: f)
        }
    }

    public func usedVoucher(nonce: [UInt8]) throws -> VoucherRecord? {
        try reader().session { s in
            guard let row = try s.rows("SELECT voucher, transfer_id, batch FROM vouchers WHERE nonce = \(ByteBuffer(bytes: nonce))").first else { return nil }
            let (bytes, t, batch) = try row.decode((ByteBuffer, ByteBuffer, Int64).self)
            guard let voucher = try? DepositVoucher(bytes: Array(buffer: bytes)) else {
                throw LedgerError.corrupt("the stored voucher \(Hex.encode(nonce)) does not decode")
            }
            return VoucherRecord(voucher: voucher, transferID: try Self.transferID(t), batch: batch)
        }
    }

    public func payoutID(forTransfer id: TransferID) throws -> Int64? {
        try reader().session { s in
            try s.rows("SELECT id FROM payouts WHERE transfer_id = \(ByteBuffer(bytes: id.bytes))").first.map { try $0.decode(Int64.self) }
        }
    }

    public func payouts(pendingOnly: Bool) throws -> [Payout] {
        try reader().session { s in
            let rows = pendingOnly
                ? try s.rows("SELECT id, transfer_id, recipient, amount, status, created_at, paid_at FROM payouts WHERE status = 'pending' ORDER BY id")
                : try s.rows("SELECT id, transfer_id, recipient, amount, status, created_at, paid_at FROM payouts ORDER BY id")
            return try rows.map { row in
                let (id, t, recipient, amount, status, createdAt, paidAt) = try row.decode((Int64, ByteBuffer, String, Int64, String, Int64, Int64?).self)
                return Payout(id: id, transferID: try Self.transferID(t), recipient: recipient, amount: UInt64(amount),
                              status: Payout.Status(rawValue: status) ?? .pending, createdAt: createdAt, paidAt: paidAt)
            }
        }
    }
}

/// The audits: the rows loaded in one snapshot and checked by `LedgerAuditor`, as for SQLite.
extension PostgresLedger {
    public func audit(receiptPublicKey: [UInt8]?, depositPublicKey: [UInt8]?) throws -> [LedgerFault] {
        let rows = try read { s in try Self.auditRows(s, schema: schemaVersion) }
        var auditor = LedgerAuditor(rows: rows, receiptPublicKey: receiptPublicKey, depositPublicKey: depositPublicKey, capacity: treeCapacity,
                                    openTrees: openTrees)
        return auditor.run()
    }

    /// `schema`: the database's version; what later steps added is left out of an older one
    /// (no stored frontiers before 2; every batch in lane 0 before 3).
    private static func auditRows(_ s: ConnectionSlot.Session, schema: Int64) throws -> LedgerAuditRows {
        var rows = LedgerAuditRows()
        for row in try s.rows("SELECT number, previous_hash, hash, root, leaf_count, transfer_count, created_at, tree, \(unescaped: schema >= 2 ? "frontier" : "NULL::bytea"), \(unescaped: schema >= 3 ? "lane" : "0::bigint") FROM batches ORDER BY number") {
            let (n, prev, hash, root, leafCount, transferCount, createdAt, tree, frontier, lane) =
                try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer, Int64, Int64, Int64, Int64, ByteBuffer?, Int64).self)
            rows.batches.append(.init(number: n, previousHash: Array(buffer: prev), hash: Array(buffer: hash), root: Array(buffer: root),
                                      leafCount: leafCount, transferCount: transferCount, createdAt: createdAt, tree: tree,
                                      frontier: frontier.map { Array(buffer: $0) }, lane: lane))
        }
        for row in try s.rows("SELECT batch, position, id FROM transfers ORDER BY batch, position") {
            let (b, p, id) = try row.decode((Int64, Int64, ByteBuffer).self)
            rows.positionsByBatch[b, default: []].append((p, Array(buffer: id)))
        }
        for row in try s.rows("SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves ORDER BY leaf_index") {
            let (i, c, e, t, b) = try row.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer, Int64).self)
            rows.leaves.append(.init(index: i, commitment: Array(buffer: c), encryptedOutput: Array(buffer: e), transferID: Array(buffer: t), batch: b))
        }
        for row in try s.rows("SELECT nullifier, transfer_id, batch FROM nullifiers ORDER BY batch, nullifier") {
            let (nf, t, b) = try row.decode((ByteBuffer, ByteBuffer, Int64).self)
            rows.nullifiers.append(.init(nullifier: Array(buffer: nf), transferID: Array(buffer: t), batch: b))
        }
        for row in try s.rows("SELECT id, transfer_id, recipient, amount FROM payouts ORDER BY id") {
            let (id, t, r, a) = try row.decode((Int64, ByteBuffer, String, Int64).self)
            rows.payouts[Array(buffer: t), default: []].append(.init(id: id, recipient: r, amount: a))
        }
        for row in try s.rows("SELECT nonce, voucher, amount, expires_at, transfer_id, batch FROM vouchers") {
            let (n, v, a, e, t, b) = try row.decode((ByteBuffer, ByteBuffer, Int64, Int64, ByteBuffer, Int64).self)
            rows.vouchers[Array(buffer: t), default: []].append(.init(nonce: Array(buffer: n), bytes: Array(buffer: v), amount: a, expiresAt: e, batch: b))
        }
        rows.voucherEra = 1  // a PostgreSQL ledger was born in the voucher era
        for row in try s.rows("""
            SELECT id, batch, root, public_amount, ext_data_hash, nullifier0, nullifier1, commitment0, commitment1,
                   ext_data, leaf_index0, leaf_index1, receipt_signature, created_at
            FROM transfers ORDER BY batch, position
            """) {
            let (id, b, r, pa, edh, n0, n1, c0, c1, ext, l0, l1, sig, createdAt) =
                try row.decode((ByteBuffer, Int64, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer,
                                ByteBuffer, Int64, Int64, ByteBuffer, Int64).self)
            rows.transfers.append(.init(id: Array(buffer: id), batch: b, inputs: [r, pa, edh, n0, n1, c0, c1].map { Array(buffer: $0) },
                                        ext: Array(buffer: ext), leaf0: l0, leaf1: l1, signature: Array(buffer: sig), createdAt: createdAt))
        }
        rows.rootWindow = nil  // no recent-root table: the window is read from `batches`
        return rows
    }

    public func auditProofs(verifyingKey: VerifyingKey, chunk: Int, progress: (Int, Int) -> Void) throws -> (checked: Int, faults: [LedgerFault]) {
        try ProofAudit.run(verifyingKey: verifyingKey, total: Int(try counts().transfers), chunk: chunk, progress: progress) { after, limit in
            try reader().session { s in
                try s.rows("""
                    SELECT id, batch, position, proof_json, root, public_amount, ext_data_hash, nullifier0, nullifier1, commitment0, commitment1
                    FROM transfers WHERE (batch, position) > (\(after.batch), \(after.position)) ORDER BY batch, position LIMIT \(Int64(limit))
                    """).map { row in
                    let (id, b, p, proof, r, pa, edh, n0, n1, c0, c1) =
                        try row.decode((ByteBuffer, Int64, Int64, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer).self)
                    let inputs = [r, pa, edh, n0, n1, c0, c1].map { try? Fr(bigEndian: Array(buffer: $0)) }
                    let idBytes = Array(buffer: id)
                    return ((idBytes.count == 32 ? TransferID(bytes: idBytes) : TransferID(bytes: [UInt8](repeating: 0, count: 32)), b,
                             Array(buffer: proof), inputs.contains(where: { $0 == nil }) ? nil : inputs.map { $0! }), p)
                }
            }
        }
    }
}
