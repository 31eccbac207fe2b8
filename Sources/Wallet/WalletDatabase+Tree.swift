import BN254
import Foundation
import Protocol
import SettlementClient

/// The tables behind `WalletTree`: leaf groups (the 32 commitments of a group, by global group
/// number), published subtree nodes (by height and global node number), and the checked mark
/// of notes.
extension WalletDatabase {
    /// The stored commitments of leaf group `g` (up to `size`), or nil if none are kept.
    func leafGroup(_ g: Int, size: Int) throws -> [Fr]? {
        guard let blob = try query("SELECT commitments FROM leaf_groups WHERE grp = ?", [.int(Int64(g))], { $0.blob(0) }).first else {
            return nil
        }
        guard blob.count % 32 == 0, blob.count <= 32 * size else { throw WalletError("the wallet database holds a damaged leaf group \(g)") }
        return try stride(from: 0, to: blob.count, by: 32).map { try Fr(bigEndian: blob[$0..<$0 + 32]) }
    }

    func setLeafGroup(_ g: Int, _ leaves: [Fr]) throws {
        try run("INSERT INTO leaf_groups(grp, commitments) VALUES (?, ?) ON CONFLICT(grp) DO UPDATE SET commitments = excluded.commitments",
                [.int(Int64(g)), .blob(leaves.flatMap(\.bigEndianBytes))])
    }

    func deleteLeafGroup(_ g: Int) throws { try run("DELETE FROM leaf_groups WHERE grp = ?", [.int(Int64(g))]) }

    /// The numbers of the leaf groups kept (those holding a note of this wallet, and the tip's).
    public func keptLeafGroups() throws -> [Int] {
        try query("SELECT grp FROM leaf_groups ORDER BY grp") { Int($0.int(0)) }
    }

    /// Forgets the leaf groups numbered `range`.
    func deleteLeafGroups(in range: Range<Int>) throws {
        try run("DELETE FROM leaf_groups WHERE grp >= ? AND grp < ?", [.int(Int64(range.lowerBound)), .int(Int64(range.upperBound))])
    }

    /// How many published nodes at `height` are stored among node numbers `range`.
    func publishedNodeCount(height: Int, in range: Range<Int>) throws -> Int {
        Int(try query("SELECT count(*) FROM tree_nodes WHERE height = ? AND idx >= ? AND idx < ?",
                      [.int(Int64(height)), .int(Int64(range.lowerBound)), .int(Int64(range.upperBound))]) { $0.int(0) }.first ?? 0)
    }

    /// The published nodes at `height` numbered `range`, all of them or an error.
    func publishedNodes(height: Int, in range: Range<Int>) throws -> [Fr] {
        let rows = try query("SELECT node FROM tree_nodes WHERE height = ? AND idx >= ? AND idx < ? ORDER BY idx",
                             [.int(Int64(height)), .int(Int64(range.lowerBound)), .int(Int64(range.upperBound))]) { $0.blob(0) }
        guard rows.count == range.count else { throw WalletError("the wallet database lacks published tree nodes; run `zkwallet sync`") }
        return try rows.map { try Fr(bigEndian: $0) }
    }

    /// Stores published nodes at `height` numbered from `from`.
    func storePublishedNodes(height: Int, from: Int, _ nodes: [Fr]) throws {
        for (k, v) in nodes.enumerated() {
            try run("INSERT OR REPLACE INTO tree_nodes(height, idx, node) VALUES (?, ?, ?)",
                    [.int(Int64(height)), .int(Int64(from + k)), .blob(v.bigEndianBytes)])
        }
    }

    /// The leaves among `range` that hold a note of this wallet (checked or not).
    func noteLeaves(in range: Range<Int>) throws -> Set<Int> {
        Set(try query("SELECT leaf_index FROM notes WHERE leaf_index >= ? AND leaf_index < ?",
                      [.int(Int64(range.lowerBound)), .int(Int64(range.upperBound))]) { Int($0.int(0)) })
    }

    /// Marks the notes at leaves `range` checked against the published tree.
    func markNotesChecked(in range: Range<Int>) throws {
        try run("UPDATE notes SET verified = 1 WHERE verified = 0 AND leaf_index >= ? AND leaf_index < ?",
                [.int(Int64(range.lowerBound)), .int(Int64(range.upperBound))])
    }

    /// Marks every note unchecked: the next check of the tree checks them all again.
    public func markAllNotesUnchecked() throws { try run("UPDATE notes SET verified = 0") }

    /// Forgets the notes at leaves `range` that were never checked.
    func deleteUncheckedNotes(in range: Range<Int>) throws {
        try run("DELETE FROM notes WHERE verified = 0 AND leaf_index >= ? AND leaf_index < ?",
                [.int(Int64(range.lowerBound)), .int(Int64(range.upperBound))])
    }
}

/// Where sync stands in one tree (`sync_trees`), in positions of that tree: leaves paged
/// (`next`, the last of them in batch `tipBatch`), leaves checked against `root` (the root of
/// batch `rootBatch`), and positions of the tree's nullifier list read (`spendNext`).
public struct TreeCursor: Sendable, Equatable {
    public var tree: Int
    public var next = 0
    public var tipBatch: Int64 = 0
    public var checked = 0
    public var root: Fr?
    public var rootBatch: Int64 = 0
    public var spendNext = 0

    public init(tree: Int) { self.tree = tree }
}

extension WalletDatabase {
    /// Tree `t`'s cursor (all zero for a tree never synced).
    public func treeCursor(_ t: Int) throws -> TreeCursor {
        try treeCursors(where: "WHERE tree = ?", [.int(Int64(t))]).first ?? TreeCursor(tree: t)
    }

    /// Every tree's cursor, by tree.
    public func treeCursors() throws -> [TreeCursor] { try treeCursors(where: "", []) }

    private func treeCursors(where clause: String, _ values: [Value]) throws -> [TreeCursor] {
        try query("SELECT tree, next, tip_batch, checked, root, root_batch, spend_next FROM sync_trees \(clause) ORDER BY tree", values) { r in
            var c = TreeCursor(tree: Int(r.int(0)))
            c.next = Int(r.int(1)); c.tipBatch = r.int(2); c.checked = Int(r.int(3))
            c.root = r.isNull(4) ? nil : try Fr(decimal: r.text(4))
            c.rootBatch = r.int(5); c.spendNext = Int(r.int(6))
            return c
        }
    }

    func setTreeCursor(_ c: TreeCursor) throws {
        try run("""
            INSERT INTO sync_trees(tree, next, tip_batch, checked, root, root_batch, spend_next) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(tree) DO UPDATE SET next = excluded.next, tip_batch = excluded.tip_batch, checked = excluded.checked,
                root = excluded.root, root_batch = excluded.root_batch, spend_next = excluded.spend_next
            """, [.int(Int64(c.tree)), .int(Int64(c.next)), .int(c.tipBatch), .int(Int64(c.checked)), c.root.map { .text($0.decimalString) } ?? .null,
                  .int(c.rootBatch), .int(Int64(c.spendNext))])
    }

    /// Leaves checked in all trees (what `zkwallet status` reports as synced).
    public func checkedLeaves() throws -> Int { try treeCursors().reduce(0) { $0 + $1.checked } }

    /// Whether global leaf `index` lies among its tree's checked leaves.
    func isChecked(leaf index: Int, capacity: Int) throws -> Bool { try treeCursor(index / capacity).checked > index % capacity }

    /// Version 4 kept one global cursor per kind (one tree grew at a time, trees filled in
    /// order): `next_leaf` paged, `tree_leaves` checked under `tree_root`, `next_spend`, with
    /// `tip_batch`, `tree_batch`, and per closed tree `tree_end_batch:t` and `tree_root:t`.
    /// Each becomes the cursor of its tree; a tree whose checked root is missing is checked
    /// again by the next sync. Runs inside the migration's transaction.
    func carryGlobalCursors() throws {
        func int(_ key: String) throws -> Int? { try meta(key).flatMap { Int($0) } }
        let keys = ["next_leaf", "tree_leaves", "tree_root", "tip_batch", "tree_batch", "next_spend"]
        do {
            if let paged = try int("next_leaf"), paged > 0 {
                let capacity = try int("tree_capacity") ?? MerkleTree.capacity
                let checked = try int("tree_leaves") ?? 0, spent = try int("next_spend") ?? 0
                let tip = Int64(try int("tip_batch") ?? 0), checkedBatch = Int64(try int("tree_batch") ?? 0)
                func within(_ n: Int, _ t: Int) -> Int { min(capacity, max(0, n - t * capacity)) }
                for t in 0...(paged - 1) / capacity {
                    var c = TreeCursor(tree: t)
                    let endBatch = Int64(try int("tree_end_batch:\(t)") ?? 0)
                    c.next = within(paged, t)
                    c.tipBatch = c.next == capacity ? endBatch : tip
                    c.checked = within(checked, t)
                    c.root = try (meta("tree_root:\(t)") ?? (c.checked < capacity ? meta("tree_root") : nil)).flatMap { try? Fr(decimal: $0) }
                    c.rootBatch = c.checked == capacity ? endBatch : checkedBatch
                    if c.root == nil || (c.checked == capacity && endBatch == 0) { c.checked = 0; c.root = nil; c.rootBatch = 0 }
                    c.spendNext = within(spent, t)
                    try setTreeCursor(c)
                }
                try setMeta("open_trees", "1")
            }
            for k in keys { try run("DELETE FROM meta WHERE key = ?", [.text(k)]) }
            try run("DELETE FROM meta WHERE key LIKE 'tree_end_batch:%' OR key LIKE 'tree_root:%'")
        }
    }
}
