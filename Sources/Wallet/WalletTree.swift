import BN254
import Foundation
import Groth16
import Protocol
import SettlementClient

/// The wallet's own view of the commitment tree, kept so that it never has to ask the server
/// for a path (which would name the note it is about to spend) and so that it believes a note
/// only once the note's commitment provably sits at its position under a root the server
/// published.
///
/// It holds, in `wallet.sqlite`:
/// - the 32 commitments of every group of leaves (height 5) holding a note of this wallet, and
///   of the group at the tip, taken from the notes pages sync reads anyway;
/// - the published nodes of complete subtrees at heights 5 and 10 (`GET /v1/tree/subtrees`,
///   the same answer for every wallet).
///
/// From those it rebuilds any of its notes' paths: 5 siblings inside its group, 5 among its
/// chunk's group nodes, 10 among the chunk roots. Checking a new note costs 31 hashes for its
/// group and 31 for its chunk; checking the whole tree against a batch root costs up to 1,023
/// hashes over the chunk roots and up to 62 for the partial chunk at the tip.
///
/// Trees (issue 14): the server starts a new tree when one holds `capacity` leaves. Leaves are
/// numbered across trees; a `WalletTree` is the view of one tree, `tree`, whose positions
/// 0..<capacity are global leaves `tree × capacity + position`. Leaf groups are stored by global
/// group number (groups never straddle trees: capacity is a multiple of 32), published nodes by
/// global node number at their height (tree × (capacity >> height) + index; a tree smaller than
/// 2^10 has no complete height-10 node). `absorb` and `rollBack` take global indices; the
/// rest take positions in this tree.
public struct WalletTree {
    public let database: WalletDatabase
    public let tree: Int
    public let capacity: Int

    public init(database: WalletDatabase, tree: Int = 0, capacity: Int = MerkleTree.capacity) {
        self.database = database; self.tree = tree; self.capacity = capacity
    }

    /// Global leaf index of this tree's position 0.
    var base: Int { tree * capacity }
    /// Global group number of this tree's group 0.
    var groupBase: Int { base / Self.groupSize }
    /// Global node number of this tree's node 0 at `height`.
    func nodeBase(_ height: Int) -> Int { tree * (capacity >> height) }

    static let groupHeight = MerkleTree.groupHeight
    static let chunkHeight = MerkleTree.chunkHeight
    static let groupSize = 1 << groupHeight
    static let groupsPerChunk = 1 << (chunkHeight - groupHeight)
    static let topHeight = MerkleTree.depth - chunkHeight

    /// Thrown when the server's answers do not fit together: a page with a gap, a published
    /// node that the leaves do not hash to, a tree that does not reach the batch's root.
    static func inconsistent(_ what: String) -> WalletError {
        WalletError("the server's answers are inconsistent: \(what). Nothing from this sync was counted; try again later or use another server.",
                    code: "inconsistent")
    }

    // MARK: Storage

    func group(_ g: Int) throws -> [Fr]? { try database.leafGroup(g, size: Self.groupSize) }

    func setGroup(_ g: Int, _ leaves: [Fr]) throws { try database.setLeafGroup(g, leaves) }

    func deleteGroup(_ g: Int) throws { try database.deleteLeafGroup(g) }

    /// Published nodes of this tree stored at `height` (stored contiguously from its node 0).
    func publishedCount(height: Int) throws -> Int {
        let lo = nodeBase(height)
        return try database.publishedNodeCount(height: height, in: lo..<lo + (capacity >> height))
    }

    /// This tree's published nodes `from..<from+count` at `height`.
    func published(height: Int, from local: Int, count: Int) throws -> [Fr] {
        let from = nodeBase(height) + local
        return try database.publishedNodes(height: height, in: from..<from + count)
    }

    public func storePublished(height: Int, from local: Int, _ nodes: [Fr]) throws {
        try database.storePublishedNodes(height: height, from: nodeBase(height) + local, nodes)
    }

    // MARK: Sync

    /// Takes in a page of leaves `from..<from + commitments.count`: keeps the commitments of
    /// each group that holds a note of this wallet (as recorded in `notes`, so record the
    /// page's notes first) and of the group at the tip, and forgets completed groups that hold
    /// none. A group can straddle two pages: its notes from the earlier page count too.
    public func absorb(_ commitments: [Fr], from: Int) throws {
        guard !commitments.isEmpty else { return }
        var g = from / Self.groupSize
        let own = try database.noteLeaves(in: g * Self.groupSize..<from + commitments.count)
        var current: [Fr] = []
        if from % Self.groupSize != 0 {
            guard let stored = try group(g), stored.count == from % Self.groupSize else {
                throw WalletError("the wallet's copy of leaf group \(g) is missing; delete wallet.sqlite's sync state by restoring the wallet, or report this")
            }
            current = stored
        }
        func flush() throws {
            let first = g * Self.groupSize
            let mine = (first..<first + current.count).contains { own.contains($0) }
            if current.count < Self.groupSize || mine { try setGroup(g, current) } else { try deleteGroup(g) }
        }
        for cm in commitments {
            current.append(cm)
            if current.count == Self.groupSize {
                try flush()
                g += 1
                current = []
            }
        }
        if !current.isEmpty { try flush() }
    }

    /// Fetches the published nodes of the subtrees completed by the first `leaves` leaves.
    func fetchPublished(leaves: Int, server: ServerClient) throws {
        for height in [Self.groupHeight, Self.chunkHeight] {
            var have = try publishedCount(height: height)
            let need = leaves >> height
            while have < need {
                let page = try server.subtrees(height: height, from: have, limit: min(need - have, 10_000), tree: tree)
                guard page.complete >= need, !page.roots.isEmpty else {
                    throw Self.inconsistent("it holds \(leaves) leaves but publishes \(page.complete) complete subtrees of height \(height)")
                }
                let take = Array(page.roots.prefix(need - have))
                try storePublished(height: height, from: have, take)
                have += take.count
            }
        }
    }

    /// The node at `height` (5 or 10) over subtree `index` when the tree holds `leaves` leaves.
    func groupNode(_ g: Int, leaves: Int) throws -> Fr? {
        if g < leaves >> Self.groupHeight { return try published(height: Self.groupHeight, from: g, count: 1)[0] }
        if g == leaves >> Self.groupHeight, leaves % Self.groupSize != 0 {
            guard let l = try group(groupBase + g), l.count == leaves % Self.groupSize else {
                throw WalletError("the wallet's copy of the tip's leaf group \(g) is missing; run `zkwallet sync`")
            }
            return SparseMerkleTree(leaves: l, height: Self.groupHeight).root
        }
        return nil
    }

    /// The filled group nodes of chunk `c` when the tree holds `leaves` leaves.
    func groupNodes(ofChunk c: Int, leaves: Int) throws -> [Fr] {
        let first = c * Self.groupsPerChunk
        let complete = leaves >> Self.groupHeight
        var out = first < complete ? try published(height: Self.groupHeight, from: first, count: min(Self.groupsPerChunk, complete - first)) : []
        if out.count < Self.groupsPerChunk, let tip = try groupNode(first + out.count, leaves: leaves) { out.append(tip) }
        return out
    }

    /// The filled chunk roots when the tree holds `leaves` leaves.
    func chunkNodes(leaves: Int) throws -> [Fr] {
        let complete = leaves >> Self.chunkHeight
        var out = try published(height: Self.chunkHeight, from: 0, count: complete)
        if leaves % (1 << Self.chunkHeight) != 0 {
            out.append(SparseMerkleTree(leaves: try groupNodes(ofChunk: complete, leaves: leaves),
                                        height: Self.chunkHeight - Self.groupHeight, bottom: Self.groupHeight).root)
        }
        return out
    }

    /// The root of the tree of the first `leaves` leaves, from the published nodes and the
    /// tip's group.
    public func root(leaves: Int) throws -> Fr {
        SparseMerkleTree(leaves: try chunkNodes(leaves: leaves), height: Self.topHeight, bottom: Self.chunkHeight).root
    }

    /// Checks every note not yet checked against the published nodes: its commitment is the
    /// leaf at its position in its group, its group hashes to the published group node, its
    /// chunk's group nodes hash to the published chunk root; and the whole tree of `leaves`
    /// leaves reaches `expectedRoot`, the root the server published for that batch. Marks
    /// the notes checked only if all of it holds.
    public func verify(leaves: Int, expectedRoot: Fr) throws {
        let range = base..<base + leaves
        let pending = try database.uncheckedNotes(in: range)
        var groups: [Int: [Fr]] = [:]
        for n in pending {
            let g = (n.leafIndex - base) / Self.groupSize
            if groups[g] == nil {
                guard let l = try group(groupBase + g) else { throw Self.inconsistent("the leaves around note \(n.leafIndex) were never sent") }
                groups[g] = l
            }
            let l = groups[g]!
            guard n.leafIndex % Self.groupSize < l.count, l[n.leafIndex % Self.groupSize] == n.commitment else {
                throw Self.inconsistent("leaf \(n.leafIndex) is not the commitment of the note found there")
            }
        }
        // Every complete group and chunk of a new note against its published node: the hashing
        // (31 per group, 31 per chunk) runs on all cores, the reads before it.
        var checks: [(leaves: [Fr], bottom: Int, expected: Fr, what: String)] = []
        for (g, l) in groups.sorted(by: { $0.key < $1.key }) where g < leaves >> Self.groupHeight {
            guard l.count == Self.groupSize else { throw Self.inconsistent("leaf group \(g) is incomplete in the wallet's copy") }
            checks.append((l, 0, try published(height: Self.groupHeight, from: g, count: 1)[0],
                           "leaves \(g * Self.groupSize)…\(g * Self.groupSize + Self.groupSize - 1) do not hash to the published node of their group"))
        }
        let chunks = Set(groups.keys.map { $0 / Self.groupsPerChunk })
        for c in chunks.sorted() where c < leaves >> Self.chunkHeight {
            checks.append((try published(height: Self.groupHeight, from: c * Self.groupsPerChunk, count: Self.groupsPerChunk), Self.groupHeight,
                           try published(height: Self.chunkHeight, from: c, count: 1)[0],
                           "the published group nodes of chunk \(c) do not hash to its published root"))
        }
        let work = checks
        let workers = max(1, min(coreCount, work.count))
        // Each worker takes every `workers`-th check and returns the first that fails.
        let failures = parallelMap(workers) { w -> Int? in
            var i = w
            while i < work.count {
                let check = work[i]
                let height = check.bottom == 0 ? Self.groupHeight : Self.chunkHeight - Self.groupHeight
                if SparseMerkleTree(leaves: check.leaves, height: height, bottom: check.bottom).root != check.expected { return i }
                i += workers
            }
            return nil
        }
        if let i = failures.compactMap({ $0 }).min() { throw Self.inconsistent(checks[i].what) }
        let root = try self.root(leaves: leaves)
        guard root == expectedRoot else {
            throw Self.inconsistent("tree \(tree) of \(leaves) leaves has root \(root.decimalString), not the batch's root \(expectedRoot.decimalString)")
        }
        try database.markNotesChecked(in: range)
    }

    /// Forgets what sync took in of this tree beyond its first `leaves` leaves (its last check):
    /// notes not yet checked, and leaf groups past it. Found again, checked, by the next sync,
    /// which pages the tree again from its cursor (set by the caller, in the same transaction).
    func rollBack(to leaves: Int) throws {
        try database.deleteUncheckedNotes(in: base + leaves..<base + capacity)
        let g = groupBase + leaves / Self.groupSize
        try database.deleteLeafGroups(in: g + 1..<groupBase + capacity / Self.groupSize)
        if leaves < capacity, let l = try group(g) {
            if leaves % Self.groupSize == 0 { try deleteGroup(g) } else { try setGroup(g, Array(l.prefix(leaves % Self.groupSize))) }
        }
    }

    // MARK: Paths

    /// The authentication path of position `index` in this tree when it holds `leaves` leaves,
    /// built here from what sync kept; no request names the leaf.
    public func path(_ index: Int, leaves: Int) throws -> [Fr] {
        guard index < leaves else { throw WalletError("leaf \(base + index) is beyond the synced tree; run `zkwallet sync`") }
        let g = index / Self.groupSize, c = index >> Self.chunkHeight
        guard let groupLeaves = try group(groupBase + g) else { throw WalletError("the wallet kept no leaves around note \(index); run `zkwallet sync`") }
        let inner = SparseMerkleTree(leaves: groupLeaves, height: Self.groupHeight).path(index % Self.groupSize)
        let middle = SparseMerkleTree(leaves: try groupNodes(ofChunk: c, leaves: leaves),
                                      height: Self.chunkHeight - Self.groupHeight, bottom: Self.groupHeight).path(g % Self.groupsPerChunk)
        let top = SparseMerkleTree(leaves: try chunkNodes(leaves: leaves), height: Self.topHeight, bottom: Self.chunkHeight).path(c)
        return inner + middle + top
    }
}
