import BN254
import Protocol

extension BatchCommit {
    /// Checks that the records of one batch agree with each other before anything is written:
    /// the header lists the transfers in order; each receipt states this batch; leaves,
    /// nullifiers and payouts are exactly the ones the transfers imply, in order; no nullifier
    /// is spent twice; leaf indices run on. (That each id hashes its public inputs is left to
    /// the audit: `TransferRequest` hashed it once at decode, and 64 SHA-256 calls more would be
    /// a visible share of a commit.)
    public func checkConsistency() throws(LedgerError) {
        let batch = self
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
        // The frontier's shape (its nodes are the writer's own hashes; a reader checks them
        // against the root before it appends from them, and `db verify` against the leaves).
        if let f = batch.frontier, h.leafCount >= 0, f.count != Int(h.leafCount).nonzeroBitCount {
            throw fail("a frontier of \(f.count) nodes for \(h.leafCount) leaves (one per set bit)")
        }
    }

    /// Checks that the batch extends the stored chain of its lane whose last header is `last`
    /// (nil: the lane is empty) on a ledger of `openTrees` lanes (`OpenTrees`; 1: the one
    /// chain): the lane's next number, the previous hash, the same tree or the lane's next one
    /// once the last is full, leaves from the next free index of the tree, and the header's
    /// leaf count.
    public func checkExtends(last: (number: Int64, hash: [UInt8], leafCount: Int64, tree: Int64)?, lane: Int = 0, openTrees: Int = 1,
                             capacity treeCapacity: Int) throws(LedgerError) {
        let header = self.header
        let k = Int64(openTrees)
        let expectedNumber = OpenTrees.nextBatch(after: last?.number, lane: lane, openTrees: openTrees)
        if header.number != expectedNumber { throw .batchOutOfOrder(expected: expectedNumber, got: header.number) }
        if header.previousHash != (last?.hash ?? BatchHeader.genesisHash) { throw .previousHashMismatch(batch: header.number) }
        // Leaves are numbered globally: tree t holds indices t × capacity ..< (t+1) × capacity.
        // A batch stays in its lane's last tree, or starts the lane's next one once that is full.
        let capacity = Int64(treeCapacity)
        let lastTree = last?.tree ?? Int64(lane), lastCount = last?.leafCount ?? 0
        let startsTree = header.tree == lastTree + k && lastCount == capacity
        if header.tree != lastTree && !startsTree {
            throw .inconsistentBatch("batch of tree \(header.tree) after a batch of tree \(lastTree) with \(lastCount) of \(capacity) leaves (lane \(lane) of \(openTrees))")
        }
        let firstLeaf = startsTree ? header.tree * capacity : lastTree * capacity + lastCount
        if let first = leaves.first?.index, first != firstLeaf {
            throw first < firstLeaf ? .leafAlreadyPresent(first) : .leafIndexGap(expected: firstLeaf, got: first)
        }
        let countBefore = startsTree ? 0 : lastCount
        if header.leafCount != countBefore + Int64(leaves.count) || header.leafCount > capacity {
            throw .inconsistentBatch("header leafCount \(header.leafCount) in tree \(header.tree), but \(countBefore) leaves + \(leaves.count) new (capacity \(capacity))")
        }
    }
}
