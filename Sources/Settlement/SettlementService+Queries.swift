import BN254
import Foundation
import Ledger
import Protocol

/// What the service answers about its state: the tree (open or closed), roots, queue, a
/// transfer's status. Reads of the committed state take the lock; ledger reads block (from
/// async code, run them through `read`).
extension SettlementService {
    public var currentRoot: Fr { lock.lock(); defer { lock.unlock() }; return state.currentRoot }
    /// Leaves settled in every tree (the next leaf's global index).
    public var leafCount: Int { lock.lock(); defer { lock.unlock() }; return Int(state.totalLeaves) }
    public var lastBatch: BatchHeader? { lock.lock(); defer { lock.unlock() }; return state.lastHeader }
    /// The recent roots (the in-memory window), oldest first. Older roots are accepted too
    /// (see `isKnownRoot`); this is the list `/v1/tree` shows.
    public var acceptedRoots: [Fr] { lock.lock(); defer { lock.unlock() }; return state.rootWindow }

    /// Whether a transfer proved against `root` would pass admission's root check. May read
    /// the ledger (blocking): from async code, prefer `read { _ in service.isKnownRoot(root) }`.
    public func isKnownRoot(_ root: Fr) -> Bool {
        lock.lock(); let recent = state.isRecentRoot(root); lock.unlock()
        return recent || (rootHistory?.contains(root) ?? false)
    }

    /// Runs a blocking ledger read on the service's reader threads, off Swift's cooperative
    /// pool (HTTP handlers use it for every ledger call).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any Ledger) throws -> T) async throws -> T {
        let ledger = self.ledger
        return try await readers.run { try body(ledger) }
    }

    public var queueDepth: Int { lock.withLock { admission.pending } }

    /// Clients on probation now, and the transfers waiting in their lane (admin stats).
    public var probation: (clients: Int, queued: Int) {
        let now = AdmissionTime.now
        return lock.withLock { admission.probation(now: now) }
    }

    /// A tree that is not there: one after the open tree.
    public struct NoSuchTree: Error, CustomStringConvertible {
        public var tree: Int64, open: Int64
        public var description: String { "no tree \(tree): the open tree is \(open)" }
    }

    /// Runs `body` on tree `number`: the open tree under the lock (no copy), or a closed tree
    /// rebuilt from the ledger's leaves (blocking: call it off the cooperative pool). Closed
    /// trees never change, so the last one rebuilt is kept for the next call.
    ///
    /// On a shared ledger the sequencer may hold the open tree pruned (it learned other nodes'
    /// batches from their stored frontiers, issue 16); the open tree is then served from a copy
    /// that follows the ledger's leaves, appending only those it lacks, when a reader asks.
    public func withTree<T>(_ number: Int64?, _ body: (MerkleTree, Int64) throws -> T) throws -> T {
        lock.lock()
        let open = state.treeNumber, openTrees = state.openTrees
        let t = number ?? open
        if t == open {
            if state.tree.holdsAllNodes {
                defer { lock.unlock() }
                return try body(state.tree, t)
            }
            let latest = state.tree  // shares storage until the sequencer next publishes
            lock.unlock()
            return try body(try servedOpenTree(t, latest: latest), t)
        }
        guard t >= 0 else { lock.unlock(); throw NoSuchTree(tree: t, open: open) }
        // With several open trees: the open tree of `t`'s lane as this node learned it (the
        // reads that call this catch up first); trees after it do not exist yet.
        let lane = OpenTrees.lane(ofTree: t, openTrees: openTrees)
        let laneOpen = lane == state.lane ? open : state.tips[lane].header?.tree ?? Int64(lane)
        lock.unlock()
        if openTrees > 1 {
            // Checked before the cache is touched: asking for trees that do not exist must
            // not evict the copies wallets use.
            guard t <= laneOpen else { throw NoSuchTree(tree: t, open: laneOpen) }
            // Another lane's tree, or a closed one: as far as the ledger holds it now, which
            // may be ahead of what this node learned (wallets page the ledger, then ask).
            return try body(try followedTree(t, keep: openTrees + 1), t)
        }
        guard t < open else { throw NoSuchTree(tree: t, open: open) }
        closedTreeLock.lock(); defer { closedTreeLock.unlock() }
        if let cached = closedTree, cached.number == t { return try body(cached.tree, t) }
        let capacity = treeCapacity
        let leaves = try commitments(ofTree: t, from: 0, limit: capacity)
        guard leaves.count == capacity else { throw LedgerError.corrupt("closed tree \(t) has \(leaves.count) of \(capacity) leaves") }
        let tree = try MerkleTree(leaves: leaves)
        closedTree = (t, tree)
        return try body(tree, t)
    }

    /// Tree `t` of a ledger of several open trees, not this node's open tree: the copy last
    /// served, extended by the leaves the ledger stored in that tree since (none once it is
    /// full). Several wallets syncing at once ask for the same few trees, so a copy of each
    /// open tree and of one more is kept (the lowest-numbered go first): up to 64 MB a tree of
    /// 2^20 leaves, until subtree pages are stored with the batches (SCALING.md, plan 2).
    func followedTree(_ t: Int64, keep: Int) throws -> MerkleTree {
        laneTreesLock.lock(); defer { laneTreesLock.unlock() }
        var tree = laneTrees[t] ?? MerkleTree()
        let capacity = treeCapacity
        if tree.count < capacity { try tree.append(contentsOf: try commitments(ofTree: t, from: tree.count, limit: capacity - tree.count)) }
        laneTrees[t] = tree
        while laneTrees.count > keep, let oldest = laneTrees.keys.min() { laneTrees[oldest] = nil }
        return tree
    }

    /// The stored commitments of tree `t` from position `position`, at most `limit`, never
    /// past the tree's end (blocking).
    func commitments(ofTree t: Int64, from position: Int, limit: Int) throws -> [Fr] {
        let first = t * Int64(treeCapacity)
        return try ledger.leafCommitments(from: first + Int64(position), below: first + Int64(treeCapacity), limit: limit)
    }

    /// The open tree `t` with at least `latest`'s leaves, its nodes all held: the last one
    /// served, extended by `latest`'s nodes when it holds them (the sequencer appended after its
    /// frontier: no hashing), else by the leaves the ledger has beyond it, checked against
    /// `latest`'s root. A newer copy than asked is served as it is: every state it had was
    /// committed.
    func servedOpenTree(_ t: Int64, latest: MerkleTree) throws -> MerkleTree {
        openTreeLock.lock(); defer { openTreeLock.unlock() }
        let count = latest.count, root = latest.root
        var tree = MerkleTree()
        if let cached = openTree, cached.number == t {
            if cached.tree.count >= count { return cached.tree }
            tree = cached.tree
            if tree.canAdoptAppended(from: latest) {
                tree.adoptAppended(from: latest)
                openTree = (t, tree)
                return tree
            }
        }
        let have = tree.count
        let leaves = try commitments(ofTree: t, from: have, limit: count - have)
        guard leaves.count == count - have else { throw LedgerError.corrupt("tree \(t) has \(have + leaves.count) leaves stored, its state \(count)") }
        try tree.append(contentsOf: leaves)
        guard tree.root == root else { throw LedgerError.corrupt("the stored leaves of tree \(t) do not give its root after \(count) leaves") }
        openTree = (t, tree)
        return tree
    }

    /// The authentication path of a leaf (global index) in its tree, with the tree's number,
    /// the leaf's position in it and the tree's current root. Blocking for a closed tree.
    public func path(leafIndex: Int64) throws -> (tree: Int64, position: Int, leaf: Fr, root: Fr, path: [Fr]) {
        guard leafIndex >= 0 else { throw MerkleTreeError.noSuchLeaf(index: Int(leafIndex), count: 0) }
        let (t, position) = TreeCapacity.locate(leafIndex, capacity: treeCapacity)
        return try withTree(t) { tree, t in
            guard position < tree.count else { throw MerkleTreeError.noSuchLeaf(index: Int(leafIndex), count: Int(t) * treeCapacity + tree.count) }
            return (t, position, tree.node(height: 0, index: position), tree.root, try tree.path(position))
        }
    }

    /// The nodes at `height` of complete subtrees `from..<from+limit` of tree `tree` (nil: the
    /// open tree), the number of complete subtrees at that height, and the tree's leaf count,
    /// read in one critical section. Blocking for a closed tree.
    public func subtreeRoots(tree number: Int64? = nil, height: Int, from: Int, limit: Int) throws -> (tree: Int64, roots: [Fr], complete: Int, leafCount: Int) {
        try withTree(number) { tree, t in
            let complete = tree.completeNodes(atHeight: height)
            let end = min(complete, from + max(0, limit))
            return (t, from < end ? (from..<end).map { tree.node(height: height, index: $0) } : [], complete, tree.count)
        }
    }

    /// Everything `GET /v1/tree` reports, read in one critical section: the open tree's root,
    /// the leaves of every tree, the open tree's number and leaves.
    public var treeSummary: (root: Fr, leafCount: Int, lastBatch: Int64, acceptedRoots: [Fr], tree: Int64, treeLeafCount: Int, capacity: Int) {
        lock.lock(); defer { lock.unlock() }
        return (state.currentRoot, Int(state.totalLeaves), state.lastHeader?.number ?? 0, state.rootWindow,
                state.treeNumber, state.tree.count, state.treeCapacity)
    }

    /// Trees that accept leaves at once (`OpenTrees`): 1 but on a ledger made with more.
    public var openTrees: Int { ledger.openTrees }

    /// Each lane's open tree as this node last learned it (several open trees; one entry, the
    /// open tree, with one): its number, leaves, last batch and root.
    public var laneSummary: [(tree: Int64, leafCount: Int, lastBatch: Int64, root: Fr)] {
        lock.lock(); defer { lock.unlock() }
        return (0..<state.openTrees).map { l in
            let tip = state.tip(of: l)
            guard let h = tip.header else { return (Int64(l), 0, 0, MerkleTree.emptyRoot) }
            return (h.tree, Int(h.leafCount), h.number, h.root)
        }
    }

    public enum TransferStatus: Sendable {
        case settled(SettledTransfer)
        case pending
        case unknown
    }

    public func status(of id: TransferID) throws -> TransferStatus {
        let inFlight = lock.withLock { admission.isInFlight(id) }
        if inFlight { return .pending }
        if let t = try ledger.settledTransfer(id) { return .settled(t) }
        return .unknown
    }

    /// `status(of:)` with its ledger read on the reader threads.
    public func transferStatus(of id: TransferID) async throws -> TransferStatus {
        let inFlight = lock.withLock { admission.isInFlight(id) }
        if inFlight { return .pending }
        if let t = try await read({ try $0.settledTransfer(id) }) { return .settled(t) }
        return .unknown
    }
}
