import BN254
import Ledger
import Primitives
import SQLite
import Protocol


extension SQLiteLedger {
    /// Re-derives everything derivable from the stored rows and compares (for `zksettle-admin
    /// db verify` and auditors): SQLite's integrity and foreign-key checks; the header chain
    /// (numbers, previous hashes, each hash recomputed from the stored fields and transfer
    /// ids); the Merkle tree rebuilt from the leaves, whose root after each batch's leaf_count
    /// must be that batch's root; each transfer's id, external data, leaves and nullifiers;
    /// nullifier uniqueness; each transfer's anchor (a root the tree had before its batch); the
    /// root window; payouts; each deposit's voucher; and, given the server's receipt key, every
    /// receipt signature, and given its deposit key, every voucher signature. Runs in one read
    /// transaction (safe beside a running server).
    ///
    /// - Returns: every fault found; empty for a sound ledger.
    public func audit(receiptPublicKey: [UInt8]? = nil, depositPublicKey: [UInt8]? = nil) throws -> [LedgerFault] {
        try read { db in
            var auditor = LedgerAuditor(db: db, receiptPublicKey: receiptPublicKey, depositPublicKey: depositPublicKey,
                                        capacity: Int64(treeCapacity), hasTrees: hasTrees, hasVouchers: hasVouchers)
            return try auditor.run()
        }
    }
}

/// The audit's working state: the stored rows, loaded once, and the faults found so far.
private struct LedgerAuditor {
    let db: SQLiteConnection
    let receiptPublicKey: [UInt8]?
    let depositPublicKey: [UInt8]?
    /// Leaves per tree, and whether the file has schema 4's `tree` column and schema 3's
    /// voucher tables (issue 14).
    let capacity: Int64
    let hasTrees: Bool
    let hasVouchers: Bool
    var faults: [LedgerFault] = []

    init(db: SQLiteConnection, receiptPublicKey: [UInt8]?, depositPublicKey: [UInt8]?, capacity: Int64, hasTrees: Bool, hasVouchers: Bool) {
        self.db = db; self.receiptPublicKey = receiptPublicKey; self.depositPublicKey = depositPublicKey
        self.capacity = capacity; self.hasTrees = hasTrees; self.hasVouchers = hasVouchers
    }

    struct BatchRow { var number: Int64; var previousHash: [UInt8]; var hash: [UInt8]; var root: Fr?; var leafCount: Int64; var transferCount: Int64; var createdAt: Int64; var tree: Int64 }
    struct LeafRow { var index: Int64; var commitment: [UInt8]; var encryptedOutput: [UInt8]; var transferID: [UInt8]; var batch: Int64 }
    struct NullifierRow { var nullifier: [UInt8]; var transferID: [UInt8]; var batch: Int64 }
    struct PayoutRow { var id: Int64; var recipient: String; var amount: Int64 }
    struct VoucherRow { var nonce: [UInt8]; var bytes: [UInt8]; var amount: Int64; var expiresAt: Int64; var batch: Int64 }

    mutating func fault(_ kind: LedgerFault.Kind, batch: Int64? = nil, _ detail: String) {
        faults.append(LedgerFault(kind, batch: batch, detail))
    }

    mutating func fr(_ bytes: [UInt8], _ what: String, batch: Int64?) -> Fr? {
        do { return try Fr(bigEndian: bytes) } catch {
            fault(.undecodable, batch: batch, "\(what): \(error)")
            return nil
        }
    }

    mutating func run() throws -> [LedgerFault] {
        for problem in try SQLiteLedger.integrityProblems(db) {
            fault(problem.hasPrefix("foreign_key_check") ? .foreignKey : .sqliteIntegrity, problem)
        }

        // Rows, loaded once.
        var batches: [BatchRow] = []
        try db.withStatement("SELECT number, previous_hash, hash, root, leaf_count, transfer_count, created_at, \(hasTrees ? "tree" : "0") FROM batches ORDER BY number") { s in
            while try s.step() {
                batches.append(BatchRow(number: s.int64(0), previousHash: s.blob(1), hash: s.blob(2), root: nil,
                                        leafCount: s.int64(4), transferCount: s.int64(5), createdAt: s.int64(6), tree: s.int64(7)))
                batches[batches.count - 1].root = fr(s.blob(3), "root of batch \(s.int64(0))", batch: s.int64(0))
            }
        }
        var idsByBatch: [Int64: [(position: Int64, id: [UInt8])]] = [:]
        try db.withStatement("SELECT batch, position, id FROM transfers ORDER BY batch, position") { s in
            while try s.step() { idsByBatch[s.int64(0), default: []].append((s.int64(1), s.blob(2))) }
        }
        var leaves: [LeafRow] = []
        try db.withStatement("SELECT leaf_index, commitment, encrypted_output, transfer_id, batch FROM leaves ORDER BY leaf_index") { s in
            while try s.step() {
                leaves.append(LeafRow(index: s.int64(0), commitment: s.blob(1), encryptedOutput: s.blob(2), transferID: s.blob(3), batch: s.int64(4)))
            }
        }
        var nullifiers: [NullifierRow] = []
        try db.withStatement("SELECT nullifier, transfer_id, batch FROM nullifiers ORDER BY batch, nullifier") { s in
            while try s.step() { nullifiers.append(NullifierRow(nullifier: s.blob(0), transferID: s.blob(1), batch: s.int64(2))) }
        }
        var payouts: [[UInt8]: [PayoutRow]] = [:]
        try db.withStatement("SELECT id, transfer_id, recipient, amount FROM payouts ORDER BY id") { s in
            while try s.step() { payouts[s.blob(1), default: []].append(PayoutRow(id: s.int64(0), recipient: s.text(2), amount: s.int64(3))) }
        }

        var vouchers: [[UInt8]: [VoucherRow]] = [:]
        var voucherEra = Int64.max  // a file before schema 3: every deposit is of the token era
        if hasVouchers {
            try db.withStatement("SELECT nonce, voucher, amount, expires_at, transfer_id, batch FROM vouchers") { s in
                while try s.step() {
                    vouchers[s.blob(4), default: []].append(VoucherRow(nonce: s.blob(0), bytes: s.blob(1), amount: s.int64(2), expiresAt: s.int64(3), batch: s.int64(5)))
                }
            }
            voucherEra = try db.scalar("SELECT COALESCE(max(first_batch), 1) FROM voucher_era")
        }

        checkChain(batches, idsByBatch)
        checkTree(batches, leaves)
        try checkTransfers(batches, leaves, nullifiers, payouts, vouchers, voucherEra: voucherEra)
        checkNullifiers(nullifiers)
        try checkRootWindow(batches)
        return faults
    }

    /// Numbers 1…n, each previous hash the stored hash before it, each stored hash recomputed.
    mutating func checkChain(_ batches: [BatchRow], _ idsByBatch: [Int64: [(position: Int64, id: [UInt8])]]) {
        var previousHash = BatchHeader.genesisHash
        for (k, b) in batches.enumerated() {
            if b.number != Int64(k + 1) { fault(.batchNumbering, batch: b.number, "batch \(b.number) stored where \(k + 1) was expected") }
            if b.previousHash != previousHash {
                fault(.chain, batch: b.number, "previous_hash is not the stored hash of batch \(b.number - 1)")
            }
            previousHash = b.hash
            let ids = idsByBatch[b.number] ?? []
            if Int64(ids.count) != b.transferCount {
                fault(.transferCount, batch: b.number, "transfer_count is \(b.transferCount) but \(ids.count) transfers name this batch")
            }
            if ids.map(\.position) != (0..<Int64(ids.count)).map({ $0 }) {
                fault(.transferCount, batch: b.number, "transfer positions are not 0..<\(ids.count)")
            }
            guard let root = b.root else { continue }
            guard ids.allSatisfy({ $0.id.count == 32 }) else { fault(.undecodable, batch: b.number, "a transfer id is not 32 bytes"); continue }
            let header = BatchHeader(number: b.number, previousHash: b.previousHash, tree: b.tree, root: root, leafCount: b.leafCount,
                                     transferIDs: ids.map { TransferID(bytes: $0.id) }, createdAt: b.createdAt)
            if header.hash != b.hash {
                fault(.batchHash, batch: b.number, "stored hash differs from the hash of the stored header fields and transfer ids")
            }
        }
    }

    /// Rebuilds the trees batch by batch (issue 14: one tree per `capacity` leaves, a batch in
    /// one tree); each batch root must be its tree's root after its leaf_count, a batch stays in
    /// its predecessor's tree or starts the next one once that is full.
    mutating func checkTree(_ batches: [BatchRow], _ leaves: [LeafRow]) {
        for (i, leaf) in leaves.enumerated() where leaf.index != Int64(i) {
            fault(.leafSequence, "leaf \(i) is missing (the next stored leaf is \(leaf.index))")
            break
        }
        var commitments: [Fr] = []
        commitments.reserveCapacity(leaves.count)
        for leaf in leaves { commitments.append(fr(leaf.commitment, "commitment of leaf \(leaf.index)", batch: leaf.batch) ?? .zero) }

        var tree = MerkleTree()
        var treeNumber: Int64 = 0
        var previousCount: Int64 = 0  // leaves in tree `treeNumber`
        for b in batches {
            if b.tree != treeNumber {
                guard b.tree == treeNumber + 1, previousCount == capacity else {
                    fault(.tree, batch: b.number, "batch of tree \(b.tree) follows tree \(treeNumber) with \(previousCount) of \(capacity) leaves")
                    return
                }
                treeNumber = b.tree
                tree = MerkleTree()
                previousCount = 0
            }
            let base = treeNumber * capacity
            guard b.leafCount >= previousCount, b.leafCount <= capacity, base + b.leafCount <= Int64(commitments.count) else {
                fault(.leafCount, batch: b.number, "leaf_count \(b.leafCount) of tree \(treeNumber) after \(previousCount) (capacity \(capacity)), with \(commitments.count) leaves stored")
                continue
            }
            for i in Int(base + previousCount)..<Int(base + b.leafCount) where leaves[i].batch != b.number {
                fault(.leafBatch, batch: b.number, "leaf \(leaves[i].index) lies in batch \(b.number)'s range but names batch \(leaves[i].batch)")
            }
            do { try tree.append(contentsOf: Array(commitments[Int(base + previousCount)..<Int(base + b.leafCount)])) } catch {
                fault(.leafCount, batch: b.number, "\(error)"); return
            }
            previousCount = b.leafCount
            if let root = b.root, tree.root != root {
                fault(.batchRoot, batch: b.number, "stored root \(root.hexString) but the leaves give \(tree.root.hexString) after \(b.leafCount) leaves of tree \(treeNumber)")
            }
        }
        if Int64(leaves.count) != treeNumber * capacity + previousCount {
            fault(.leafCount, batch: batches.last?.number, "\(leaves.count) leaves stored, the last batch accounts for \(treeNumber * capacity + previousCount)")
        }
    }

    /// One row of `transfers`, as stored.
    struct TransferRow {
        var id: [UInt8], batch: Int64
        /// The seven public inputs' bytes, in circuit order.
        var inputs: [[UInt8]]
        var ext: [UInt8], leaf0: Int64, leaf1: Int64, signature: [UInt8], createdAt: Int64
    }

    /// What the checks of each transfer look up, and what they gather for the checks after.
    struct TransferContext {
        let leaves: [LeafRow]
        let payouts: [[UInt8]: [PayoutRow]]
        let vouchers: [[UInt8]: [VoucherRow]]
        let voucherEra: Int64
        var rootOf: [Int64: Fr] = [:]
        var treeOf: [Int64: Int64] = [:]
        var firstBatchWithRoot: [Fr: Int64] = [:]
        var spentBy: [[UInt8]: [NullifierRow]] = [:]
        var transferNullifiers: [[UInt8]: (batch: Int64, nullifiers: [[UInt8]])] = [:]
        var vouchersSeen = Set<[UInt8]>()
        var payoutsSeen = Set<[UInt8]>()

        init(_ batches: [BatchRow], _ leaves: [LeafRow], _ nullifiers: [NullifierRow], _ payouts: [[UInt8]: [PayoutRow]],
             _ vouchers: [[UInt8]: [VoucherRow]], voucherEra: Int64) {
            self.leaves = leaves; self.payouts = payouts; self.vouchers = vouchers; self.voucherEra = voucherEra
            for b in batches {
                treeOf[b.number] = b.tree
                guard let r = b.root else { continue }
                rootOf[b.number] = r
                if firstBatchWithRoot[r] == nil { firstBatchWithRoot[r] = b.number }
            }
            for n in nullifiers { spentBy[n.nullifier, default: []].append(n) }
        }
    }

    /// Each transfer against its public inputs, external data, leaves, nullifiers and payout;
    /// then the rows no transfer accounts for.
    mutating func checkTransfers(_ batches: [BatchRow], _ leaves: [LeafRow], _ nullifiers: [NullifierRow],
                                 _ payouts: [[UInt8]: [PayoutRow]], _ vouchers: [[UInt8]: [VoucherRow]], voucherEra: Int64) throws {
        var context = TransferContext(batches, leaves, nullifiers, payouts, vouchers, voucherEra: voucherEra)
        let rows = try db.withStatement("""
            SELECT id, batch, root, public_amount, ext_data_hash, nullifier0, nullifier1, commitment0, commitment1,
                   ext_data, leaf_index0, leaf_index1, receipt_signature, created_at
            FROM transfers ORDER BY batch, position
            """) { s in
            var out: [TransferRow] = []
            while try s.step() {
                out.append(TransferRow(id: s.blob(0), batch: s.int64(1), inputs: (2...8).map { s.blob(Int32($0)) }, ext: s.blob(9),
                                       leaf0: s.int64(10), leaf1: s.int64(11), signature: s.blob(12), createdAt: s.int64(13)))
            }
            return out
        }
        for t in rows { checkTransfer(t, &context) }
        checkUnaccounted(context, nullifiers)
    }

    /// One transfer: its id, its anchor, its external data, and the rows it wrote.
    mutating func checkTransfer(_ t: TransferRow, _ context: inout TransferContext) {
        let hexID = SHA256.hex(t.id)
        context.transferNullifiers[t.id] = (t.batch, [t.inputs[3], t.inputs[4]])
        let values = t.inputs.enumerated().map { fr($0.element, "public input \($0.offset) of transfer \(hexID)", batch: t.batch) }
        guard t.id.count == 32, values.allSatisfy({ $0 != nil }) else { return }
        let inputs = TransferPublicInputs(root: values[0]!, publicAmount: values[1]!, extDataHash: values[2]!,
                                          nullifiers: Pair(values[3]!, values[4]!), commitments: Pair(values[5]!, values[6]!))
        let id = TransferID(bytes: t.id)
        if TransferID(inputs) != id { fault(.transferID, batch: t.batch, "transfer \(hexID) is not the hash of its public inputs") }
        if inputs.root != MerkleTree.emptyRoot, !(context.firstBatchWithRoot[inputs.root].map { $0 < t.batch } ?? false) {
            fault(.anchor, batch: t.batch, "transfer \(hexID) is proved against root \(inputs.root.hexString), which the tree did not have before batch \(t.batch)")
        }
        let outputs = checkExtData(t, inputs, hexID: hexID, &context)
        checkWrittenRows(t, outputs: outputs, hexID: hexID, context)
    }

    /// A transfer's external data: it decodes, hashes to the proof's input, and owes exactly the
    /// payout (a withdrawal) or used exactly the voucher (a deposit) it should. Returns its
    /// encrypted outputs (none if it does not decode).
    mutating func checkExtData(_ t: TransferRow, _ inputs: TransferPublicInputs, hexID: String, _ context: inout TransferContext) -> [[UInt8]] {
        let ext: ExtData
        do { ext = try ExtData(canonicalEncoding: t.ext) } catch {
            fault(.extData, batch: t.batch, "transfer \(hexID): external data does not decode: \(error)")
            return []
        }
        if ext.hash != inputs.extDataHash { fault(.extData, batch: t.batch, "transfer \(hexID): external data does not hash to extDataHash") }
        if ext.publicAmount != inputs.publicAmount { fault(.extData, batch: t.batch, "transfer \(hexID): publicAmount is not extAmount - fee") }
        let owed = context.payouts[t.id] ?? []
        if !owed.isEmpty { context.payoutsSeen.insert(t.id) }
        if ext.extAmount < 0 {
            if owed.count != 1 || owed[0].recipient != ext.recipient || owed[0].amount != Int64(exactly: ext.extAmount.magnitude) {
                fault(.payout, batch: t.batch, "withdrawal \(hexID) of \(ext.extAmount.magnitude) to \(ext.recipient) has payouts \(owed.map { "#\($0.id) \($0.amount) to \($0.recipient)" })")
            }
        } else if !owed.isEmpty {
            fault(.payout, batch: t.batch, "transfer \(hexID) is no withdrawal but has payout #\(owed[0].id)")
        }
        let paidBy = context.vouchers[t.id] ?? []
        if !paidBy.isEmpty { context.vouchersSeen.insert(t.id) }
        if ext.extAmount > 0 {
            if t.batch >= context.voucherEra || !paidBy.isEmpty { checkVoucher(paidBy, deposit: t.id, hexID: hexID, amount: ext.extAmount, batch: t.batch) }
        } else if !paidBy.isEmpty {
            fault(.voucher, batch: t.batch, "transfer \(hexID) deposits nothing but used voucher \(Hex.encode(paidBy[0].nonce))")
        }
        return ext.encryptedOutputs
    }

    /// The leaves and nullifier rows a transfer wrote, and (given the key) its receipt.
    mutating func checkWrittenRows(_ t: TransferRow, outputs: [[UInt8]], hexID: String, _ context: TransferContext) {
        let leaves = context.leaves
        for (j, index) in [t.leaf0, t.leaf1].enumerated() {
            guard index >= 0, index < Int64(leaves.count), leaves[Int(index)].index == index else {
                fault(.transferLeaves, batch: t.batch, "transfer \(hexID): leaf \(index) is not stored"); continue
            }
            let leaf = leaves[Int(index)]
            if leaf.commitment != t.inputs[5 + j] || leaf.transferID != t.id || leaf.batch != t.batch
                || (outputs.count == 2 && leaf.encryptedOutput != outputs[j]) {
                fault(.transferLeaves, batch: t.batch, "transfer \(hexID): leaf \(index) is not its output \(j) (commitment, ciphertext, transfer or batch differ)")
            }
        }
        for nf in [t.inputs[3], t.inputs[4]] {
            if !(context.spentBy[nf] ?? []).contains(where: { $0.transferID == t.id && $0.batch == t.batch }) {
                fault(.transferNullifiers, batch: t.batch, "transfer \(hexID): nullifier \(SHA256.hex(nf)) is not recorded as spent by it in batch \(t.batch)")
            }
        }
        if let key = receiptPublicKey, let root = context.rootOf[t.batch] {
            let receipt = Receipt(transferID: t.id, batch: t.batch, tree: context.treeOf[t.batch] ?? 0, leafIndices: [t.leaf0, t.leaf1], root: root,
                                  settledAt: t.createdAt, signature: t.signature)
            if !receipt.verify(publicKey: key) {
                fault(.receiptSignature, batch: t.batch, "transfer \(hexID): the receipt signature does not verify")
            }
        }
    }

    /// Vouchers, payouts and nullifier rows that no transfer accounts for, and nullifiers two
    /// transfers spend.
    mutating func checkUnaccounted(_ context: TransferContext, _ nullifiers: [NullifierRow]) {
        for (id, used) in context.vouchers where !context.vouchersSeen.contains(id) {
            fault(.voucher, batch: used.first?.batch, "vouchers \(used.map { Hex.encode($0.nonce) }) name transfer \(SHA256.hex(id)), which settled no deposit")
        }
        for (id, owed) in context.payouts where !context.payoutsSeen.contains(id) {
            fault(.payout, "payouts \(owed.map { "#\($0.id)" }) name transfer \(SHA256.hex(id)), which settled no withdrawal")
        }
        // Every nullifier row must be one its transfer spends, in its batch.
        for n in nullifiers {
            guard let t = context.transferNullifiers[n.transferID], t.batch == n.batch, t.nullifiers.contains(n.nullifier) else {
                fault(.nullifierOrphan, batch: n.batch, "nullifier \(SHA256.hex(n.nullifier)) names transfer \(SHA256.hex(n.transferID)), which does not spend it in batch \(n.batch)")
                continue
            }
        }
        // No nullifier spent by two transfers (whatever the nullifiers table says).
        var spender: [[UInt8]: [UInt8]] = [:]
        for (id, t) in context.transferNullifiers {
            for nf in t.nullifiers {
                if let other = spender[nf], other != id {
                    fault(.nullifierDuplicate, batch: t.batch, "nullifier \(SHA256.hex(nf)) is spent by transfers \(SHA256.hex(other)) and \(SHA256.hex(id))")
                }
                spender[nf] = id
            }
        }
    }

    /// A deposit's voucher: exactly one, in its batch, for its amount, decoding to the stored
    /// columns, and (given the deposit key) signed by it.
    mutating func checkVoucher(_ rows: [VoucherRow], deposit id: [UInt8], hexID: String, amount: Int64, batch: Int64) {
        guard rows.count == 1, let row = rows.first else {
            fault(.voucher, batch: batch, "deposit \(hexID) of \(amount) has \(rows.count) vouchers, not one"); return
        }
        guard let v = try? DepositVoucher(bytes: row.bytes), v.nonce == row.nonce, Int64(v.amount) == row.amount, v.expiresAt == row.expiresAt else {
            fault(.voucher, batch: batch, "deposit \(hexID): stored voucher \(Hex.encode(row.nonce)) does not decode to its columns"); return
        }
        if row.batch != batch { fault(.voucher, batch: batch, "deposit \(hexID): its voucher is recorded in batch \(row.batch)") }
        if row.amount != amount { fault(.voucher, batch: batch, "deposit \(hexID) of \(amount) used a voucher for \(row.amount)") }
        if let key = depositPublicKey, !v.isSigned(by: key) {
            fault(.voucher, batch: batch, "deposit \(hexID): voucher \(v.id) is not signed by the deposit key")
        }
    }

    /// The nullifiers table holds each nullifier once.
    mutating func checkNullifiers(_ nullifiers: [NullifierRow]) {
        var count: [[UInt8]: Int] = [:]
        for n in nullifiers { count[n.nullifier, default: 0] += 1 }
        for (nf, c) in count where c > 1 {
            fault(.nullifierDuplicate, "nullifier \(SHA256.hex(nf)) is recorded \(c) times")
        }
    }

    /// The roots table is exactly the roots of the newest `rootsKept` batches (the recent
    /// window; every batch root, older ones included, is an accepted anchor, and those are
    /// checked against the rebuilt tree in `checkTree`).
    mutating func checkRootWindow(_ batches: [BatchRow]) throws {
        var stored: [Int64: [UInt8]] = [:]
        try db.withStatement("SELECT batch, root FROM roots") { s in
            while try s.step() { stored[s.int64(0)] = s.blob(1) }
        }
        let expected = batches.suffix(Int(SQLiteLedger.rootsKept))
        let expectedNumbers = Set(expected.map(\.number))
        for b in expected {
            guard let root = stored[b.number] else { fault(.rootWindow, batch: b.number, "the root of batch \(b.number) is missing from the window"); continue }
            if let r = b.root, root != r.bigEndianBytes { fault(.rootWindow, batch: b.number, "the window's root for batch \(b.number) is not the batch's root") }
        }
        for number in stored.keys.sorted() where !expectedNumbers.contains(number) {
            fault(.rootWindow, batch: number, "the window holds a root for batch \(number), which is not among the newest \(SQLiteLedger.rootsKept)")
        }
    }
}
