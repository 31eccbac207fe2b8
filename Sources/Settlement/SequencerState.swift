import BN254
import Ledger
import Primitives
import Protocol

/// A transfer after the verifier pool: its proof either verified or did not.
public struct VerifiedTransfer: Sendable {
    public var request: TransferRequest
    public var proofJSON: [UInt8]
    public var proofValid: Bool

    public init(request: TransferRequest, proofJSON: [UInt8], proofValid: Bool) {
        self.request = request; self.proofJSON = proofJSON; self.proofValid = proofValid
    }
}

/// What happened to one transfer.
public enum Decision: Sendable {
    case settled(SettledTransfer)
    case rejected(Rejection)
}

/// Answers whether the tree ever had a root, for roots older than the in-memory window (the
/// service passes a `RootHistory` over the ledger). Called by the sequencer; it may read disk,
/// so the state machine stays free of I/O itself: it only asks.
public typealias RootMembership = @Sendable (Fr) -> Bool

/// The sequencer as a pure state machine (as Hummingbird's state machines: input → actions, no clock, no disk):
/// the committed tree, spent set and recent-root window, and a function that applies an
/// ordered list of verified transfers and returns the next state, the batch to write, and a
/// decision for each transfer. The service adopts the next state only after the batch is durable.
///
/// Accepted anchors: the tree is append-only, so every root it ever had is a safe anchor (as
/// in Zcash). The state keeps the newest `windowSize` roots in memory and asks `olderRoots`
/// (when given) about any other; without it only the window and the empty tree's root count.
public struct SequencerState: Sendable {
    public static let defaultRootWindow = RootWindow.defaultSize

    public private(set) var tree: MerkleTree
    public private(set) var spent: Set<Fr>
    /// Nonces of the deposit vouchers already used.
    public private(set) var usedVouchers: Set<[UInt8]>
    /// The recent roots, oldest first: the empty tree's root until 100 batches exist, then the
    /// roots of the last 100 batches. (Older roots are accepted too, through `olderRoots`.)
    public private(set) var rootWindow: [Fr]
    public private(set) var lastHeader: BatchHeader?
    public let windowSize: Int
    /// Membership of roots outside the window (nil: the window alone).
    public let olderRoots: RootMembership?

    /// The open tree's number (issue 14): `tree` holds its leaves by position; its leaves'
    /// global indices start at `treeNumber × treeCapacity`. Trees before it are full and closed;
    /// their roots stay anchors.
    public private(set) var treeNumber: Int64
    /// Leaves per tree (`TreeCapacity`): a batch that would pass it is closed, and the next
    /// batch starts the next tree.
    public let treeCapacity: Int
    /// The lane this state writes, of `openTrees` (`OpenTrees`): its batches are numbered
    /// lane + 1, lane + 1 + openTrees, …, and a full tree is followed by tree + openTrees.
    /// Lane 0 of 1 on every ledger of one open tree. With several lanes a writer moves to
    /// whichever lane's lock it got (`switchLane`); `tree`, `treeNumber` and `lastHeader` are
    /// the current lane's, while the spent set, the vouchers and the roots are of every lane.
    public private(set) var lane: Int
    public let openTrees: Int
    /// Where each other lane stood when this state last learned it, by lane (a state made from
    /// an empty snapshot starts with every lane empty). The current lane's entry is stale: its
    /// tip is `tip(of: lane)`.
    public private(set) var tips: [LaneTip]

    /// The state of `snapshot`, whose tree is of lane `lane` of `openTrees` (default: the
    /// snapshot's lane, of its lanes' count; an empty snapshot of one lane needs them given).
    public init(snapshot: LedgerSnapshot, windowSize: Int = SequencerState.defaultRootWindow,
                olderRoots: RootMembership? = nil, lane: Int? = nil, openTrees: Int? = nil) throws(MerkleTreeError) {
        let openTrees = openTrees ?? max(1, snapshot.lanes.count), lane = lane ?? snapshot.lane
        precondition(openTrees >= 1 && (0..<openTrees).contains(lane), "lane \(lane) of \(openTrees)")
        precondition(snapshot.lanes.isEmpty || (snapshot.lanes.count == openTrees && snapshot.lane == lane), "a snapshot of lane \(snapshot.lane) of \(snapshot.lanes.count)")
        self.windowSize = windowSize
        self.olderRoots = olderRoots
        self.lane = lane
        self.openTrees = openTrees
        tips = snapshot.lanes.isEmpty ? Array(repeating: LaneTip(), count: openTrees) : snapshot.lanes
        treeCapacity = snapshot.treeCapacity
        treeNumber = snapshot.tree
        precondition(OpenTrees.lane(ofTree: treeNumber, openTrees: openTrees) == lane, "tree \(treeNumber) is not of lane \(lane) of \(openTrees)")
        guard snapshot.treeLeafCount <= treeCapacity else { throw .full(capacity: treeCapacity) }
        if let frontier = snapshot.frontier, let last = snapshot.lastHeader {
            // Issue 16: the open tree from the frontier stored with the last batch (pruned: the
            // service serves paths from a full copy).
            tree = try Self.tree(frontier: frontier, after: last)
        } else {
            tree = try MerkleTree(leaves: snapshot.leaves)
        }
        spent = Set(snapshot.spentNullifiers)
        usedVouchers = Set(snapshot.usedVouchers)
        lastHeader = snapshot.lastHeader
        var roots = snapshot.recentHeaders.map(\.root)
        if (snapshot.recentHeaders.first?.number ?? 1) <= Int64(openTrees) { roots.insert(MerkleTree.zeros[MerkleTree.depth], at: 0) }
        rootWindow = Array(roots.suffix(windowSize))
    }

    /// Where lane `l` stands as this state knows it.
    public func tip(of l: Int) -> LaneTip {
        l == lane ? LaneTip(header: lastHeader, frontier: tree.frontier) : tips[l]
    }

    /// Moves the writer to lane `l` (several open trees): its open tree from the tip this state
    /// last learned (`catchUp(_:lane:)`), checked against the tip's root, about depth hashes.
    /// The tree is pruned: the state writes, and serves no path.
    public mutating func switchLane(to l: Int) throws(LedgerError) {
        precondition((0..<openTrees).contains(l), "lane \(l) of \(openTrees)")
        guard l != lane else { return }
        let target = tips[l]
        var next = MerkleTree()
        if let header = target.header {
            do { next = try Self.tree(frontier: target.frontier, after: header) } catch {
                throw .corrupt("the frontier of batch \(header.number), the last of lane \(l): \(error)")
            }
        }
        tips[lane] = tip(of: lane)
        tree = next
        treeNumber = target.header?.tree ?? Int64(l)
        lastHeader = target.header
        lane = l
    }

    public var currentRoot: Fr { tree.root }
    /// Leaves settled in all trees: the next leaf's global index.
    public var totalLeaves: Int64 { treeNumber * Int64(treeCapacity) + Int64(tree.count) }
    public var nextBatchNumber: Int64 { OpenTrees.nextBatch(after: lastHeader?.number, lane: lane, openTrees: openTrees) }
    /// The empty tree's root: the first anchor of every ledger.
    public static var emptyRoot: Fr { MerkleTree.emptyRoot }
    /// A root among the recent window (no lookup).
    public func isRecentRoot(_ root: Fr) -> Bool { rootWindow.contains(root) }
    /// A root the tree has had: the recent window, then (with `olderRoots`) the empty tree's
    /// root and any older batch root.
    public func isKnownRoot(_ root: Fr) -> Bool {
        if rootWindow.contains(root) { return true }
        guard let olderRoots else { return false }
        return root == Self.emptyRoot || olderRoots(root)
    }
    public func isSpent(_ nullifier: Fr) -> Bool { spent.contains(nullifier) }
    public func isVoucherUsed(_ voucher: DepositVoucher) -> Bool { usedVouchers.contains(voucher.nonce) }

    /// Follows a working state that applied and durably committed one more batch: copies its
    /// new tree nodes, adds the batch's nullifiers, takes its root window and header. O(batch).
    public mutating func adopt(committed working: SequencerState, nullifiers: [Fr], vouchers: [DepositVoucher] = []) {
        adopt(committed: working, nullifiers: nullifiers, voucherNonces: vouchers.map(\.nonce))
    }

    /// `adopt` with the vouchers' nonces (what a catch-up learns from the ledger).
    public mutating func adopt(committed working: SequencerState, nullifiers: [Fr], voucherNonces: [[UInt8]]) {
        if working.treeNumber != treeNumber {
            // The batch started the next tree: take it whole (it holds one batch's leaves).
            tree = working.tree
            treeNumber = working.treeNumber
        } else {
            tree.adoptAppended(from: working.tree)
        }
        for nf in nullifiers { spent.insert(nf) }
        for nonce in voucherNonces { usedVouchers.insert(nonce) }
        rootWindow = working.rootWindow
        lastHeader = working.lastHeader
        lane = working.lane
        tips = working.tips
    }

    /// Undoes an `apply` whose batch was not written (another node extended the ledger first):
    /// back to `published`, which is this state as it was before the apply, given the batch's
    /// nullifiers and voucher nonces. O(batch + depth).
    public mutating func revert(to published: SequencerState, nullifiers: [Fr], voucherNonces: [[UInt8]]) {
        if treeNumber != published.treeNumber {
            tree = published.tree  // the batch had started the next tree
            treeNumber = published.treeNumber
        } else {
            tree.revert(to: published.tree)
        }
        for nf in nullifiers { spent.remove(nf) }
        for nonce in voucherNonces { usedVouchers.remove(nonce) }
        rootWindow = published.rootWindow
        lastHeader = published.lastHeader
        lane = published.lane
        tips = published.tips
    }

    /// Learns batches another writer committed after `lastHeader` (issue 16: nodes sharing one
    /// ledger): takes the last batch's tree from the frontier stored with it, checked against
    /// its root (about depth hashes, whatever the number of new leaves), or without a stored
    /// frontier appends their leaves (starting the next tree where they do); adds their
    /// nullifiers and vouchers, and takes their headers and roots. Throws if the changes do not
    /// continue this state (a leaf out of place, a frontier that is not the root's); the caller
    /// then reloads the whole state.
    ///
    /// From a frontier the tree is pruned (`MerkleTree.holdsAllNodes` false): it appends and has
    /// its root, but serves no path; the service then serves the open tree from the ledger.
    public mutating func catchUp(_ changes: LedgerChanges) throws(LedgerError) {
        if let frontier = changes.frontier, let last = changes.headers.last {
            guard last.tree > treeNumber || (last.tree == treeNumber && last.leafCount >= Int64(tree.count)) else {
                throw .corrupt("batch \(last.number) ends tree \(last.tree) at \(last.leafCount) leaves, behind this state's tree \(treeNumber) at \(tree.count)")
            }
            do { tree = try Self.tree(frontier: frontier, after: last) } catch {
                throw .corrupt("the frontier stored with batch \(last.number): \(error)")
            }
            treeNumber = last.tree
        }
        var pending: [Fr] = []
        for leaf in changes.leaves where changes.frontier == nil {
            let (t, position) = TreeCapacity.locate(leaf.index, capacity: treeCapacity)
            if t != treeNumber {
                guard t == treeNumber + Int64(openTrees), tree.count + pending.count == treeCapacity, position == 0 else {
                    throw .corrupt("leaf \(leaf.index) of tree \(t) follows tree \(treeNumber) with \(tree.count + pending.count) of \(treeCapacity) leaves")
                }
                try appendLeaves(pending)
                pending = []
                treeNumber = t
                tree = MerkleTree()
            }
            guard position == tree.count + pending.count else {
                throw .corrupt("leaf \(leaf.index) is not the next leaf of tree \(t) (\(tree.count + pending.count) held)")
            }
            pending.append(leaf.commitment)
        }
        try appendLeaves(pending)
        learnSpendsAndRoots(changes)
        if let last = changes.headers.last {
            lastHeader = last
            if last.tree != treeNumber || Int64(tree.count) != last.leafCount {
                throw .corrupt("batch \(last.number) ends tree \(last.tree) at \(last.leafCount) leaves, the leaves end tree \(treeNumber) at \(tree.count)")
            }
        }
    }

    /// `catchUp` of lane `l`'s batches (`LedgerChanges` of that lane, several open trees): the
    /// current lane's as `catchUp`; another's sets its tip (checked against its root when the
    /// writer moves there) and adds its nullifiers, vouchers and roots. Throws if the batches do
    /// not follow the lane's tip as this state knows it.
    public mutating func catchUp(_ changes: LedgerChanges, lane l: Int) throws(LedgerError) {
        if l == lane { return try catchUp(changes) }
        if let first = changes.headers.first, let last = changes.headers.last {
            let known = tips[l]
            guard first.number == OpenTrees.nextBatch(after: known.header?.number, lane: l, openTrees: openTrees),
                  first.previousHash == (known.header?.hash ?? BatchHeader.genesisHash) else {
                throw .corrupt("lane \(l)'s batches from \(first.number) do not follow its batch \(known.number)")
            }
            guard let frontier = changes.frontier else { throw .corrupt("batch \(last.number), the last of lane \(l), came without its frontier") }
            tips[l] = LaneTip(header: last, frontier: frontier)
        }
        learnSpendsAndRoots(changes)
    }

    /// What any lane's batches tell every writer: their nullifiers and vouchers are spent, and
    /// their roots are recent anchors.
    private mutating func learnSpendsAndRoots(_ changes: LedgerChanges) {
        for nf in changes.nullifiers { spent.insert(nf) }
        for nonce in changes.voucherNonces { usedVouchers.insert(nonce) }
        for header in changes.headers { rootWindow.append(header.root) }
        if rootWindow.count > windowSize { rootWindow.removeFirst(rootWindow.count - windowSize) }
    }

    /// The tree of `header`'s batch from the frontier stored with it, which must give the
    /// batch's root (a frontier from the ledger is checked before anything appends after it).
    static func tree(frontier: [Fr], after header: BatchHeader) throws(MerkleTreeError) -> MerkleTree {
        let tree = try MerkleTree(frontier: frontier, count: Int(header.leafCount))
        guard tree.root == header.root else { throw .frontierNotRoot(count: Int(header.leafCount)) }
        return tree
    }

    private mutating func appendLeaves(_ leaves: [Fr]) throws(LedgerError) {
        do { _ = try tree.append(contentsOf: leaves) } catch { throw .corrupt("\(error)") }
    }

    /// Applies transfers in the given (arrival) order. A nullifier spent before, or earlier in
    /// this batch, rejects the later transfer; so does a deposit voucher used before or earlier
    /// in this batch. (Whether a voucher is signed, for the amount and unexpired is admission's
    /// check; whether it is unused, the state's.) `now` stamps the batch; `key` signs receipts.
    public func applying(_ items: [VerifiedTransfer], now: Int64, key: Ed25519Key) -> (next: SequencerState, commit: BatchCommit?, decisions: [Decision]) {
        var next = self
        let (commit, decisions) = next.apply(items, now: now, key: key)
        return (next, commit, decisions)
    }

    /// `apply` up to the end of the open tree: a batch never spans two trees (its header has
    /// one root, and a tree's last root must be a batch root to stay an anchor). Decides
    /// `items[..<decided]`; the rest did not fit in the open tree and go, undecided, to the
    /// next batch, which starts the next tree. `decided` is `items.count` unless the tree
    /// filled up with transfers still to apply.
    public mutating func apply(upToTreeEnd items: [VerifiedTransfer], now: Int64, key: Ed25519Key) -> (commit: BatchCommit?, decisions: [Decision], decided: Int) {
        var decided = items.count
        let r = apply(items, now: now, key: key, stopAtTreeEnd: &decided)
        return (r.commit, Array(r.decisions[..<decided]), decided)
    }

    /// `applying` in place: O(batch) work when this state's storage is not shared (the
    /// sequencer's private working copy), where `applying` on a shared state copies the tree
    /// and the spent set.
    ///
    /// Without `stopAtTreeEnd` a transfer that does not fit in the open tree once this batch
    /// took leaves is `treeFull` (the batch must not span trees); use `apply(upToTreeEnd:)`
    /// to defer such transfers to the next batch instead.
    public mutating func apply(_ items: [VerifiedTransfer], now: Int64, key: Ed25519Key) -> (commit: BatchCommit?, decisions: [Decision]) {
        var ignored = -1
        return apply(items, now: now, key: key, stopAtTreeEnd: &ignored)
    }

    private mutating func apply(_ items: [VerifiedTransfer], now: Int64, key: Ed25519Key, stopAtTreeEnd decided: inout Int) -> (commit: BatchCommit?, decisions: [Decision]) {
        let stops = decided >= 0
        var decisions = [Decision?](repeating: nil, count: items.count)
        var startCount = tree.count
        var accepted: [Int] = []
        var newLeaves: [Fr] = []
        for (i, item) in items.enumerated() {
            let inputs = item.request.publicInputs
            if !item.proofValid { decisions[i] = .rejected(.invalidProof); continue }
            if !isKnownRoot(inputs.root) { decisions[i] = .rejected(.unknownRoot(inputs.root)); continue }
            if let nf = inputs.nullifiers.first(where: { spent.contains($0) }) {
                decisions[i] = .rejected(.doubleSpend(nf)); continue
            }
            if let refusal = Rejection.equalNullifiers(inputs) { decisions[i] = .rejected(refusal); continue }
            if item.request.extData.extAmount > 0 {
                guard let v = item.request.voucher else { decisions[i] = .rejected(.unauthorized("a deposit needs a deposit voucher")); continue }
                if usedVouchers.contains(v.nonce) { decisions[i] = .rejected(.voucherUsed(v.id)); continue }
            }
            if startCount + newLeaves.count + 2 > treeCapacity {
                if newLeaves.isEmpty {
                    // The open tree is full: this batch starts the lane's next one (issue 14).
                    treeNumber += Int64(openTrees)
                    tree = MerkleTree()
                    startCount = 0
                } else if stops {
                    decided = i
                    for j in i..<items.count { decisions[j] = .rejected(.treeFull) }  // not reported: deferred
                    break
                } else {
                    decisions[i] = .rejected(.treeFull); continue
                }
            }
            if item.request.extData.extAmount > 0, let v = item.request.voucher { usedVouchers.insert(v.nonce) }
            for nf in inputs.nullifiers { spent.insert(nf) }
            newLeaves += inputs.commitments
            accepted.append(i)
        }
        if accepted.isEmpty { return (nil, decisions.map { $0! }) }

        let firstLeaf = treeNumber * Int64(treeCapacity) + Int64(startCount)
        do { try tree.append(contentsOf: newLeaves) } catch { preconditionFailure("capacity was checked: \(error)") }
        let previousHash = lastHeader?.hash ?? BatchHeader.genesisHash
        let batch = nextBatchNumber
        let root = tree.root
        let header = BatchHeader(number: batch, previousHash: previousHash, tree: treeNumber, root: root,
                                 leafCount: Int64(tree.count),
                                 transferIDs: accepted.map { items[$0].request.id }, createdAt: now)
        var transfers: [SettledTransfer] = []
        var leaves: [LeafRecord] = []
        var nullifiers: [NullifierRecord] = []
        var payouts: [(transferID: TransferID, recipient: String, amount: UInt64)] = []
        var vouchers: [VoucherRecord] = []
        for (k, i) in accepted.enumerated() {
            let req = items[i].request
            let id = req.id
            let indices = [firstLeaf + Int64(2 * k), firstLeaf + Int64(2 * k + 1)]
            let receipt = Receipt(transferID: id.bytes, batch: batch, tree: treeNumber, leafIndices: indices, root: root, settledAt: now).signed(with: key)
            let settled = SettledTransfer(id: id, publicInputs: req.publicInputs, extData: req.extData,
                                          proofJSON: items[i].proofJSON, leafIndices: indices, receipt: receipt)
            transfers.append(settled)
            for (j, cm) in req.publicInputs.commitments.enumerated() {
                leaves.append(LeafRecord(index: indices[j], commitment: cm, encryptedOutput: req.extData.encryptedOutputs[j], transferID: id, batch: batch))
            }
            for nf in req.publicInputs.nullifiers {
                nullifiers.append(NullifierRecord(nullifier: nf, transferID: id, batch: batch, spentAt: now))
            }
            if req.extData.extAmount < 0 {
                payouts.append((id, req.extData.recipient, req.extData.extAmount.magnitude))
            }
            if req.extData.extAmount > 0, let v = req.voucher {
                vouchers.append(VoucherRecord(voucher: v, transferID: id, batch: batch))
            }
            decisions[i] = .settled(settled)
        }
        lastHeader = header
        rootWindow.append(root)
        if rootWindow.count > windowSize { rootWindow.removeFirst(rootWindow.count - windowSize) }
        let commit = BatchCommit(header: header, transfers: transfers, leaves: leaves, nullifiers: nullifiers, payouts: payouts, vouchers: vouchers,
                                 frontier: tree.frontier)
        return (commit, decisions.map { $0! })
    }
}
