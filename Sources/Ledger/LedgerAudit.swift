import BN254
import Primitives
import Protocol

/// The stored rows an audit reads, loaded once by a ledger in one consistent snapshot (each
/// storage engine loads its own tables into these shapes; the checks are the same for all).
public struct LedgerAuditRows: Sendable {
    public struct Batch: Sendable { public var number: Int64; public var previousHash: [UInt8]; public var hash: [UInt8]; public var root: [UInt8]; public var leafCount: Int64; public var transferCount: Int64; public var createdAt: Int64; public var tree: Int64
        /// The stored frontier of its tree after it (nil: none stored).
        public var frontier: [UInt8]?
        /// The lane the engine stored for it (nil: the engine stores none; `OpenTrees`).
        public var lane: Int64?
        public init(number: Int64, previousHash: [UInt8], hash: [UInt8], root: [UInt8], leafCount: Int64, transferCount: Int64, createdAt: Int64, tree: Int64,
                    frontier: [UInt8]? = nil, lane: Int64? = nil) {
            self.number = number; self.previousHash = previousHash; self.hash = hash; self.root = root; self.leafCount = leafCount
            self.transferCount = transferCount; self.createdAt = createdAt; self.tree = tree; self.frontier = frontier; self.lane = lane
        }
    }
    public struct Leaf: Sendable { public var index: Int64; public var commitment: [UInt8]; public var encryptedOutput: [UInt8]; public var transferID: [UInt8]; public var batch: Int64
        public init(index: Int64, commitment: [UInt8], encryptedOutput: [UInt8], transferID: [UInt8], batch: Int64) {
            self.index = index; self.commitment = commitment; self.encryptedOutput = encryptedOutput; self.transferID = transferID; self.batch = batch
        }
    }
    public struct Nullifier: Sendable { public var nullifier: [UInt8]; public var transferID: [UInt8]; public var batch: Int64
        public init(nullifier: [UInt8], transferID: [UInt8], batch: Int64) { self.nullifier = nullifier; self.transferID = transferID; self.batch = batch }
    }
    public struct PayoutRow: Sendable { public var id: Int64; public var recipient: String; public var amount: Int64
        public init(id: Int64, recipient: String, amount: Int64) { self.id = id; self.recipient = recipient; self.amount = amount }
    }
    public struct VoucherRow: Sendable { public var nonce: [UInt8]; public var bytes: [UInt8]; public var amount: Int64; public var expiresAt: Int64; public var batch: Int64
        public init(nonce: [UInt8], bytes: [UInt8], amount: Int64, expiresAt: Int64, batch: Int64) {
            self.nonce = nonce; self.bytes = bytes; self.amount = amount; self.expiresAt = expiresAt; self.batch = batch
        }
    }
    /// One transfer as stored.
    public struct Transfer: Sendable {
        public var id: [UInt8], batch: Int64
        /// The seven public inputs' bytes, in circuit order.
        public var inputs: [[UInt8]]
        public var ext: [UInt8], leaf0: Int64, leaf1: Int64, signature: [UInt8], createdAt: Int64
        public init(id: [UInt8], batch: Int64, inputs: [[UInt8]], ext: [UInt8], leaf0: Int64, leaf1: Int64, signature: [UInt8], createdAt: Int64) {
            self.id = id; self.batch = batch; self.inputs = inputs; self.ext = ext; self.leaf0 = leaf0; self.leaf1 = leaf1
            self.signature = signature; self.createdAt = createdAt
        }
    }

    /// Faults the storage engine found by itself (SQLite's integrity and foreign-key checks).
    public var storageFaults: [LedgerFault] = []
    /// Every batch by number; every transfer by (batch, position); every leaf by index.
    public var batches: [Batch] = []
    public var transfers: [Transfer] = []
    public var positionsByBatch: [Int64: [(position: Int64, id: [UInt8])]] = [:]
    public var leaves: [Leaf] = []
    /// Ordered by (batch, nullifier).
    public var nullifiers: [Nullifier] = []
    public var payouts: [[UInt8]: [PayoutRow]] = [:]
    public var vouchers: [[UInt8]: [VoucherRow]] = [:]
    /// The first batch whose deposits need vouchers (Int64.max: none do).
    public var voucherEra: Int64 = 1
    /// A recent-root table, if the engine keeps one (batch → root), and how many it keeps.
    public var rootWindow: [Int64: [UInt8]]?
    public var rootsKept: Int = RootWindow.defaultSize

    public init() {}
}

/// The checks of `LedgerReader.audit` over rows any engine loaded: the header chain, the trees
/// rebuilt from their leaves, each transfer against its rows, nullifier uniqueness, payouts,
/// vouchers, receipts and voucher signatures (given the keys), and a recent-root table.
public struct LedgerAuditor {
    let rows: LedgerAuditRows
    let receiptPublicKey: [UInt8]?
    let depositPublicKey: [UInt8]?
    /// Leaves per tree.
    let capacity: Int64
    /// Lanes (`OpenTrees`): one hash chain and one run of trees each.
    let openTrees: Int64
    var faults: [LedgerFault] = []

    typealias BatchRow = LedgerAuditRows.Batch
    typealias LeafRow = LedgerAuditRows.Leaf
    typealias NullifierRow = LedgerAuditRows.Nullifier
    typealias PayoutRow = LedgerAuditRows.PayoutRow
    typealias VoucherRow = LedgerAuditRows.VoucherRow
    typealias TransferRow = LedgerAuditRows.Transfer

    public init(rows: LedgerAuditRows, receiptPublicKey: [UInt8]?, depositPublicKey: [UInt8]?, capacity: Int, openTrees: Int = 1) {
        self.rows = rows; self.receiptPublicKey = receiptPublicKey; self.depositPublicKey = depositPublicKey
        self.capacity = Int64(capacity)
        self.openTrees = Int64(max(1, openTrees))
    }

    mutating func fault(_ kind: LedgerFault.Kind, batch: Int64? = nil, _ detail: String) {
        faults.append(LedgerFault(kind, batch: batch, detail))
    }

    mutating func fr(_ bytes: [UInt8], _ what: String, batch: Int64?) -> Fr? {
        do { return try Fr(bigEndian: bytes) } catch {
            fault(.undecodable, batch: batch, "\(what): \(error)")
            return nil
        }
    }

    /// Every fault found; empty for a sound ledger.
    public mutating func run() -> [LedgerFault] {
        faults = rows.storageFaults
        var roots: [Int64: Fr] = [:]
        for b in rows.batches { roots[b.number] = fr(b.root, "root of batch \(b.number)", batch: b.number) }
        checkChain(rows.batches, roots, rows.positionsByBatch)
        checkTree(rows.batches, roots, rows.leaves)
        checkTransfers(rows.batches, roots)
        checkNullifiers(rows.nullifiers)
        if let window = rows.rootWindow { checkRootWindow(rows.batches, roots, window) }
        return faults
    }

    /// Each lane's numbers gap-free (1, 2, 3, … with one open tree; lane l of K: l + 1,
    /// l + 1 + K, …), each previous hash the stored hash of the lane's batch before, each stored
    /// hash recomputed.
    mutating func checkChain(_ batches: [BatchRow], _ roots: [Int64: Fr], _ idsByBatch: [Int64: [(position: Int64, id: [UInt8])]]) {
        var lastOfLane: [Int64: (number: Int64, hash: [UInt8])] = [:]
        for b in batches {
            let lane = (b.number - 1) % openTrees
            let expected = lastOfLane[lane].map { $0.number + openTrees } ?? lane + 1
            if b.number < 1 || b.number != expected {
                fault(.batchNumbering, batch: b.number, "batch \(b.number) stored where \(expected) was expected\(openTrees > 1 ? " in lane \(lane)" : "")")
            }
            if b.previousHash != (lastOfLane[lane]?.hash ?? BatchHeader.genesisHash) {
                fault(.chain, batch: b.number, "previous_hash is not the stored hash of batch \(b.number - openTrees)")
            }
            if let stored = b.lane, stored != lane {
                fault(.batchNumbering, batch: b.number, "batch \(b.number) is stored in lane \(stored); its number puts it in lane \(lane) of \(openTrees)")
            }
            lastOfLane[lane] = (b.number, b.hash)
            let ids = idsByBatch[b.number] ?? []
            if Int64(ids.count) != b.transferCount {
                fault(.transferCount, batch: b.number, "transfer_count is \(b.transferCount) but \(ids.count) transfers name this batch")
            }
            if ids.map(\.position) != (0..<Int64(ids.count)).map({ $0 }) {
                fault(.transferCount, batch: b.number, "transfer positions are not 0..<\(ids.count)")
            }
            guard let root = roots[b.number] else { continue }
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
    /// its lane's last tree or starts the lane's next one (tree + K) once that is full, and each
    /// tree's leaves run from its first index with no gap (`OpenTrees`; with one open tree,
    /// every leaf from 0).
    mutating func checkTree(_ batches: [BatchRow], _ roots: [Int64: Fr], _ leaves: [LeafRow]) {
        // Each tree's leaves: where they start in `leaves` (sorted by index) and how many.
        var runs: [Int64: (start: Int, count: Int64)] = [:]
        var gapReported = Set<Int64>()
        for (i, leaf) in leaves.enumerated() {
            let t = leaf.index / capacity, position = leaf.index % capacity
            if let run = runs[t] {
                if leaf.index != t * capacity + run.count, gapReported.insert(t).inserted {
                    fault(.leafSequence, "leaf \(t * capacity + run.count) of tree \(t) is missing (the next stored leaf is \(leaf.index))")
                }
                runs[t]!.count += 1
            } else {
                if position != 0 { fault(.leafSequence, "leaf \(t * capacity) of tree \(t) is missing (its first stored leaf is \(leaf.index))"); gapReported.insert(t) }
                runs[t] = (i, 1)
            }
        }
        var commitments: [Fr] = []
        commitments.reserveCapacity(leaves.count)
        for leaf in leaves { commitments.append(fr(leaf.commitment, "commitment of leaf \(leaf.index)", batch: leaf.batch) ?? .zero) }

        struct Lane { var treeNumber: Int64; var tree = MerkleTree(); var previousCount: Int64 = 0; var broken = false }
        var lanes: [Int64: Lane] = [:]
        var accounted: [Int64: Int64] = [:]  // tree → leaves its last batch counts
        for b in batches {
            let laneNumber = (b.number - 1) % openTrees
            var lane = lanes[laneNumber] ?? Lane(treeNumber: laneNumber)
            defer { lanes[laneNumber] = lane }
            if lane.broken { continue }
            if b.tree != lane.treeNumber {
                guard b.tree == lane.treeNumber + openTrees, lane.previousCount == capacity else {
                    fault(.tree, batch: b.number, "batch of tree \(b.tree) follows tree \(lane.treeNumber) with \(lane.previousCount) of \(capacity) leaves\(openTrees > 1 ? " in lane \(laneNumber)" : "")")
                    lane.broken = true
                    continue
                }
                lane.treeNumber = b.tree
                lane.tree = MerkleTree()
                lane.previousCount = 0
            }
            let run = runs[lane.treeNumber] ?? (leaves.count, 0)
            guard b.leafCount >= lane.previousCount, b.leafCount <= capacity, b.leafCount <= run.count else {
                fault(.leafCount, batch: b.number, "leaf_count \(b.leafCount) of tree \(lane.treeNumber) after \(lane.previousCount) (capacity \(capacity)), with \(run.count) of its leaves stored")
                continue
            }
            let range = (run.start + Int(lane.previousCount))..<(run.start + Int(b.leafCount))
            for i in range where leaves[i].batch != b.number {
                fault(.leafBatch, batch: b.number, "leaf \(leaves[i].index) lies in batch \(b.number)'s range but names batch \(leaves[i].batch)")
            }
            do { try lane.tree.append(contentsOf: Array(commitments[range])) } catch {
                fault(.leafCount, batch: b.number, "\(error)"); lane.broken = true; continue
            }
            lane.previousCount = b.leafCount
            accounted[lane.treeNumber] = b.leafCount
            if let root = roots[b.number], lane.tree.root != root {
                fault(.batchRoot, batch: b.number, "stored root \(root.hexString) but the leaves give \(lane.tree.root.hexString) after \(b.leafCount) leaves of tree \(lane.treeNumber)")
            }
            // The frontier other writers append from (issue 16) must be the leaves' own.
            if let stored = b.frontier, stored != MerkleTree.encodeFrontier(lane.tree.frontier) {
                fault(.frontier, batch: b.number, "the stored frontier (\(stored.count / 32) nodes) is not the frontier of tree \(lane.treeNumber)'s first \(b.leafCount) leaves")
            }
        }
        for (t, run) in runs.sorted(by: { $0.key < $1.key }) where run.count != (accounted[t] ?? 0) {
            fault(.leafCount, batch: batches.last?.number, "\(run.count) leaves of tree \(t) stored, its batches account for \(accounted[t] ?? 0)")
        }
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

        init(_ batches: [BatchRow], _ roots: [Int64: Fr], _ leaves: [LeafRow], _ nullifiers: [NullifierRow], _ payouts: [[UInt8]: [PayoutRow]],
             _ vouchers: [[UInt8]: [VoucherRow]], voucherEra: Int64) {
            self.leaves = leaves; self.payouts = payouts; self.vouchers = vouchers; self.voucherEra = voucherEra
            for b in batches {
                treeOf[b.number] = b.tree
                guard let r = roots[b.number] else { continue }
                rootOf[b.number] = r
                if firstBatchWithRoot[r] == nil { firstBatchWithRoot[r] = b.number }
            }
            for n in nullifiers { spentBy[n.nullifier, default: []].append(n) }
        }
    }

    /// Each transfer against its public inputs, external data, leaves, nullifiers and payout;
    /// then the rows no transfer accounts for.
    mutating func checkTransfers(_ batches: [BatchRow], _ roots: [Int64: Fr]) {
        var context = TransferContext(batches, roots, rows.leaves, rows.nullifiers, rows.payouts, rows.vouchers, voucherEra: rows.voucherEra)
        for t in rows.transfers { checkTransfer(t, &context) }
        checkUnaccounted(context, rows.nullifiers)
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
        // A root of the transfer's own lane must come from an earlier batch; one of another lane
        // must exist (numbers of different lanes say nothing about order: `OpenTrees`).
        let anchored = context.firstBatchWithRoot[inputs.root].map { first in
            first < t.batch || (first - 1) % openTrees != (t.batch - 1) % openTrees
        } ?? false
        if inputs.root != MerkleTree.emptyRoot, !anchored {
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
            guard let leaf = Self.leaf(index, in: leaves) else {
                fault(.transferLeaves, batch: t.batch, "transfer \(hexID): leaf \(index) is not stored"); continue
            }
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

    /// The leaf at global index `index` among `leaves` (sorted by index): at its own offset
    /// when every leaf from 0 is stored (one open tree), else found by bisection.
    static func leaf(_ index: Int64, in leaves: [LeafRow]) -> LeafRow? {
        guard index >= 0 else { return nil }
        if index < Int64(leaves.count), leaves[Int(index)].index == index { return leaves[Int(index)] }
        var lo = 0, hi = leaves.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if leaves[mid].index < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < leaves.count && leaves[lo].index == index ? leaves[lo] : nil
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
    mutating func checkRootWindow(_ batches: [BatchRow], _ roots: [Int64: Fr], _ stored: [Int64: [UInt8]]) {
        let expected = batches.suffix(rows.rootsKept)
        let expectedNumbers = Set(expected.map(\.number))
        for b in expected {
            guard let root = stored[b.number] else { fault(.rootWindow, batch: b.number, "the root of batch \(b.number) is missing from the window"); continue }
            if let r = roots[b.number], root != r.bigEndianBytes { fault(.rootWindow, batch: b.number, "the window's root for batch \(b.number) is not the batch's root") }
        }
        for number in stored.keys.sorted() where !expectedNumbers.contains(number) {
            fault(.rootWindow, batch: number, "the window holds a root for batch \(number), which is not among the newest \(rows.rootsKept)")
        }
    }
}
