import BN254
import Foundation
import Groth16
import Protocol
import SettlementClient
import Testing
import Wallet

/// The wallet's tree on a real wallet database, without a server: pages that cut groups in
/// two, notes on either side of the cut, and paths built from what was kept.
@Suite struct WalletTreeTests {
    static func commitment(_ i: Int) -> Fr { Fr(UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1) }

    @Test func groupsCutByPagesKeepTheirNotesAndPathsLeadToTheRoot() throws {
        let dir = try KeyFileTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try WalletDatabase(path: dir.appendingPathComponent("wallet.sqlite").path)
        let tree = WalletTree(database: database)
        let leaves = 2_100  // two chunks and a partial third; the tip's group partial too
        var reference = MerkleTree()
        try reference.append(contentsOf: (0..<leaves).map(Self.commitment))
        // Own notes: one just before a page cut inside a group, one just after, one at the tip.
        let own = [995, 1_001, 2_099]
        let page = 7 * 143  // 1001: not a multiple of 32, so pages cut groups
        var from = 0
        while from < leaves {
            let n = min(page, leaves - from)
            try database.transaction {
                for i in own where i >= from && i < from + n {
                    try database.insertNote(leafIndex: i, commitment: Self.commitment(i),
                                            plaintext: NotePlaintext(value: 1, blinding: .zero, memo: []), nullifier: Fr(UInt64(i) + 5), batch: 1)
                }
                try tree.absorb((from..<from + n).map(Self.commitment), from: from)
            }
            from += n
        }
        try tree.storePublished(height: MerkleTree.groupHeight, from: 0,
                                (0..<leaves >> MerkleTree.groupHeight).map { reference.node(height: MerkleTree.groupHeight, index: $0) })
        try tree.storePublished(height: MerkleTree.chunkHeight, from: 0,
                                (0..<leaves >> MerkleTree.chunkHeight).map { reference.node(height: MerkleTree.chunkHeight, index: $0) })
        #expect(try tree.root(leaves: leaves) == reference.root)
        try database.transaction { try tree.verify(leaves: leaves, expectedRoot: reference.root) }
        #expect(try database.notes().map(\.leafIndex) == own)
        for i in own {
            let path = try tree.path(i, leaves: leaves)
            #expect(path == (try reference.path(i)), "leaf \(i)")
        }
        // Only the groups of the notes and the tip's were kept.
        let kept = try database.keptLeafGroups()
        #expect(kept == Array(Set(own.map { $0 / 32 } + [leaves / 32])).sorted())
        // A false root is refused, and then nothing more counts.
        try database.markAllNotesUnchecked()
        #expect(throws: WalletError.self) { try tree.verify(leaves: leaves, expectedRoot: Fr(7)) }
        // A published group node that the note's leaves do not hash to is refused, by name.
        try tree.storePublished(height: MerkleTree.groupHeight, from: 995 / 32, [Fr(11)])
        do {
            try tree.verify(leaves: leaves, expectedRoot: reference.root)
            Issue.record("a false group node was accepted")
        } catch let e as WalletError {
            #expect(e.description.contains("leaves 992…1023"), "\(e.description)")
        }
        #expect(try database.notes().isEmpty)
    }
}
