import BN254
import Ledger
import NIOCore
import PostgresNIO
import Primitives
import Protocol

/// The one write of the pipeline, in one transaction under the writer lock; each table's rows
/// in one statement (`unnest` of arrays), not one round trip per row.
extension PostgresLedger {
    /// Commits a batch built elsewhere, in the lane its number names.
    public func commit(_ batch: BatchCommit) throws {
        try commit(lane: batch.header.lane(openTrees: openTrees), after: { _ in batch })
    }

    public func commit(lane: Int, after prepare: (_ lastBatchOfLane: Int64) throws -> BatchCommit?) throws {
        _ = try commit(lane: lane, waiting: true, after: prepare)
    }

    public func commit(anyOf lanes: [Int], after prepare: (_ lane: Int, _ lastBatchOfLane: Int64) throws -> BatchCommit?) throws {
        guard let first = lanes.first else { return }
        if lanes.count > 1 {
            for lane in lanes where try commit(lane: lane, waiting: false, after: { try prepare(lane, $0) }) { return }
        }
        _ = try commit(lane: first, waiting: true, after: { try prepare(first, $0) })
    }

    /// One commit in `lane` under its writer lock; without `waiting`, only if the lock is free
    /// now (false, and nothing called or written, when it is not).
    private func commit(lane: Int, waiting: Bool, after prepare: (_ lastBatchOfLane: Int64) throws -> BatchCommit?) throws -> Bool {
        guard !readOnly else { throw LedgerError.readOnly }
        try OpenTrees.check(lane: lane, of: openTrees)
        let slot = lane == 0 ? writer : laneWriters[lane - 1]
        let outcome = try slot.transaction("BEGIN") { s -> Bool? in
            // One writer at a time in this lane across every node, until this transaction ends.
            // Lane 0 keeps the one-key lock every node before open trees took; the others take
            // (key, lane), a key space of its own in PostgreSQL.
            let taken: Bool
            switch (lane, waiting) {
            case (0, true):
                try s.run("SELECT pg_advisory_xact_lock(\(Self.writerLockKey))")
                taken = true
            case (0, false):
                taken = try s.rows("SELECT pg_try_advisory_xact_lock(\(Self.writerLockKey))")[0].decode(Bool.self)
            case (_, true):
                try s.run("SELECT pg_advisory_xact_lock(CAST(\(Self.writerLockKey) AS integer), CAST(\(Int64(lane)) AS integer))")
                taken = true
            case (_, false):
                taken = try s.rows("SELECT pg_try_advisory_xact_lock(CAST(\(Self.writerLockKey) AS integer), CAST(\(Int64(lane)) AS integer))")[0].decode(Bool.self)
            }
            guard taken else { return nil }
            let last = try s.rows("SELECT number, hash, leaf_count, tree FROM batches WHERE lane = \(Int64(lane)) ORDER BY number DESC LIMIT 1").first.map { row in
                let (number, hash, leafCount, tree) = try row.decode((Int64, ByteBuffer, Int64, Int64).self)
                return (number: number, hash: Array(buffer: hash), leafCount: leafCount, tree: tree)
            }
            guard let batch = try prepare(last?.number ?? 0) else { return false }
            try batch.checkConsistency()
            try batch.checkExtends(last: last, lane: lane, openTrees: openTrees, capacity: treeCapacity)
            try Self.insert(batch, lane: lane, s)
            try FaultInjection.reach(.insideCommit)  // rows written, COMMIT not sent (fault tests)
            return true
        }
        if outcome == true { try FaultInjection.reach(.afterCommit) }  // durable, nobody told yet (fault tests)
        return outcome != nil
    }

    private static func bytes(_ b: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: b) }
    private static func fr(_ x: Fr) -> ByteBuffer { ByteBuffer(bytes: x.bigEndianBytes) }

    private static func insert(_ batch: BatchCommit, lane: Int, _ s: ConnectionSlot.Session) throws {
        let h = batch.header
        try s.run("""
            INSERT INTO batches (number, previous_hash, hash, tree, root, leaf_count, transfer_count, created_at, frontier, lane)
            VALUES (\(h.number), \(bytes(h.previousHash)), \(bytes(h.hash)), \(h.tree), \(fr(h.root)), \(h.leafCount),
                    \(Int64(batch.transfers.count)), \(h.createdAt), \(batch.frontierBytes.map(bytes)), \(Int64(lane)))
            """)
        let t = batch.transfers
        do {
            try s.run("""
                INSERT INTO transfers (id, batch, position, root, public_amount, ext_data_hash, nullifier0, nullifier1,
                                       commitment0, commitment1, ext_data, proof_json, leaf_index0, leaf_index1,
                                       receipt_signature, created_at)
                SELECT id, \(h.number), position - 1, root, pa, edh, n0, n1, c0, c1, ext, proof, l0, l1, sig, \(h.createdAt)
                FROM unnest(\(t.map { bytes($0.id.bytes) }), \(t.map { fr($0.publicInputs.root) }), \(t.map { fr($0.publicInputs.publicAmount) }),
                            \(t.map { fr($0.publicInputs.extDataHash) }), \(t.map { fr($0.publicInputs.nullifiers[0]) }),
                            \(t.map { fr($0.publicInputs.nullifiers[1]) }), \(t.map { fr($0.publicInputs.commitments[0]) }),
                            \(t.map { fr($0.publicInputs.commitments[1]) }), \(t.map { bytes($0.extData.canonicalEncoding) }),
                            \(t.map { bytes($0.proofJSON) }), \(t.map { $0.leafIndices[0] }), \(t.map { $0.leafIndices[1] }),
                            \(t.map { bytes($0.receipt.signature) }))
                     WITH ORDINALITY AS u(id, root, pa, edh, n0, n1, c0, c1, ext, proof, l0, l1, sig, position)
                ORDER BY position
                """)
        } catch let e as LedgerError where e.description.contains("transfers_pkey") {
            // The same transfer committed by another lane first; the detail names its id.
            let detail = e.description
            if let start = detail.range(of: "=(\\x"), let id = Hex.decode(String(detail[start.upperBound...].prefix(64))), id.count == 32 {
                throw LedgerError.transferAlreadySettled(TransferID(bytes: id))
            }
            throw LedgerError.storage("a transfer of batch \(h.number) is already settled: \(e)")
        }
        let l = batch.leaves
        try s.run("""
            INSERT INTO leaves (leaf_index, commitment, encrypted_output, transfer_id, batch)
            SELECT i, c, e, t, \(h.number)
            FROM unnest(\(l.map(\.index)), \(l.map { fr($0.commitment) }), \(l.map { bytes($0.encryptedOutput) }), \(l.map { bytes($0.transferID.bytes) }))
                 AS u(i, c, e, t)
            ORDER BY i
            """)
        let n = batch.nullifiers
        do {
            try s.run("""
                INSERT INTO nullifiers (nullifier, transfer_id, batch, spent_at)
                SELECT nf, t, \(h.number), \(h.createdAt)
                FROM unnest(\(n.map { fr($0.nullifier) }), \(n.map { bytes($0.transferID.bytes) })) AS u(nf, t)
                """)
        } catch let e as LedgerError where e.description.contains("nullifiers_pkey") {
            // One open tree: the sequencer learned every committed nullifier under the writer
            // lock, so this is a bug or a hand-made batch. Several: another lane spent it first.
            // Either way the whole batch is refused, nothing written. The server's detail
            // names the key: "Key (nullifier)=(\\x…) already exists."
            let detail = e.description
            if let start = detail.range(of: "=(\\x"), let nf = try? Fr(bigEndian: Hex.decode(String(detail[start.upperBound...].prefix(64))) ?? []) {
                throw LedgerError.nullifierAlreadySpent(nf)
            }
            throw LedgerError.storage("a nullifier of batch \(h.number) is already spent: \(e)")
        }
        let p = batch.payouts
        if !p.isEmpty {
            try s.run("""
                INSERT INTO payouts (transfer_id, recipient, amount, created_at)
                SELECT t, r, a, \(h.createdAt) FROM unnest(\(p.map { bytes($0.transferID.bytes) }), \(p.map(\.recipient)), \(p.map { Int64($0.amount) }))
                     WITH ORDINALITY AS u(t, r, a, k)
                ORDER BY k
                """)
        }
        let v = batch.vouchers
        if !v.isEmpty {
            do {
                try s.run("""
                    INSERT INTO vouchers (nonce, voucher, amount, expires_at, transfer_id, batch)
                    SELECT n, v, a, e, t, \(h.number)
                    FROM unnest(\(v.map { bytes($0.voucher.nonce) }), \(v.map { bytes($0.voucher.bytes) }), \(v.map { Int64($0.voucher.amount) }),
                                \(v.map { $0.voucher.expiresAt }), \(v.map { bytes($0.transferID.bytes) })) AS u(n, v, a, e, t)
                    """)
            } catch let e as LedgerError where e.description.contains("vouchers_pkey") {
                throw LedgerError.voucherAlreadyUsed("of batch \(h.number): \(e)")
            }
        }
    }

    /// Marks a pending payout paid; false if there is no such pending payout.
    public func markPayoutPaid(_ id: Int64, at time: Int64) throws -> Bool {
        guard !readOnly else { throw LedgerError.readOnly }
        return try writer.session { s in
            let rows = try s.rows("UPDATE payouts SET status = 'paid', paid_at = \(time) WHERE id = \(id) AND status = 'pending' RETURNING id")
            return !rows.isEmpty
        }
    }
}
