import BN254
import Foundation
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

    /// Forgets the leaf groups after group `g`.
    func deleteLeafGroups(after g: Int) throws { try run("DELETE FROM leaf_groups WHERE grp > ?", [.int(Int64(g))]) }

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

    /// Forgets the notes from leaf `leaves` on that were never checked.
    func deleteUncheckedNotes(from leaves: Int) throws {
        try run("DELETE FROM notes WHERE verified = 0 AND leaf_index >= ?", [.int(Int64(leaves))])
    }
}
