import BN254
import Foundation
import Protocol
import Testing

/// Issue 16: the pages of one tree (`GET /v1/notes?tree=` and `/v1/nullifiers?tree=`), as the
/// wallet decodes them. What the server encodes decodes back; every check refuses something.
@Suite struct TreePageTests {
    static func leaf(_ index: Int) -> ServerAnswer.EncryptedLeaf {
        .init(leafIndex: index, commitment: Fr(UInt64(index + 1)), ciphertext: [1, 2, 3], batch: 3, settledAt: 1_700_000_000_000)
    }

    static func notes(_ mutate: (inout [String: Any], inout [[String: Any]]) -> Void) -> Data {
        var entries: [[String: Any]] = (36..<38).map { ["leaf_index": $0, "tree": 1, "commitment": "\($0 + 1)", "encrypted_output": "AQID", "batch": 3] }
        var body: [String: Any] = ["tree": 1, "from": 4, "next": 6, "leaf_count": 40, "tree_capacity": 32, "open_trees": 2]
        mutate(&body, &entries)
        body["notes"] = entries
        return try! JSONSerialization.data(withJSONObject: body)
    }

    @Test func aPageOfOneTreeRoundTripsAndNamesGlobalIndices() throws {
        let page = ServerAnswer.NotesPage(notes: [Self.leaf(36), Self.leaf(37)], next: 6, leafCount: 40, treeCapacity: 32, openTrees: 2)
        let data = ServerAnswer.encode(page, tree: 1, from: 4)
        #expect(try ServerAnswer.treeNotesPage(data, tree: 1, from: 4, limit: 2) == page)
        let decoded = try ServerAnswer.treeNotesPage(Self.notes { _, _ in }, tree: 1, from: 4, limit: 10)
        #expect(decoded.notes.map(\.leafIndex) == [36, 37] && decoded.next == 6 && decoded.openTrees == 2)
    }

    @Test func pagesOfOneTreeRefuseWhatTheWalletCannotTrust() {
        let refused: [(String, Data)] = [
            ("another tree", Self.notes { b, _ in b["tree"] = 0 }),
            ("another position", Self.notes { b, _ in b["from"] = 2 }),
            ("a gap", Self.notes { _, e in e[1]["leaf_index"] = 38 }),
            ("an entry of another tree", Self.notes { _, e in e[0]["tree"] = 0 }),
            ("next out of step", Self.notes { b, _ in b["next"] = 7 }),
            ("past the tree's end", Self.notes { b, e in b["from"] = 31; b["next"] = 33; e[0]["leaf_index"] = 63; e[1]["leaf_index"] = 64 }),
            ("no open_trees", Self.notes { b, _ in b["open_trees"] = nil }),
            ("no open tree", Self.notes { b, _ in b["open_trees"] = 0 }),
            ("more open trees than a ledger may have", Self.notes { b, _ in b["open_trees"] = 65 }),
            ("no tree capacity", Self.notes { b, _ in b["tree_capacity"] = nil }),
        ]
        for (what, data) in refused {
            let from = what == "past the tree's end" ? 31 : 4
            #expect(throws: ServerAnswer.Malformed.self, "\(what)") { try ServerAnswer.treeNotesPage(data, tree: 1, from: from, limit: 10) }
        }
        let global = ServerAnswer.encode(ServerAnswer.NotesPage(notes: [Self.leaf(4)], next: 5, leafCount: 40, treeCapacity: 32))
        let older = #expect(throws: ServerAnswer.Malformed.self, "a server older than the wallet") { try ServerAnswer.treeNotesPage(global, tree: 0, from: 4, limit: 10) }
        #expect(older?.description.contains("older than this wallet") == true, "\(String(describing: older))")
        #expect(throws: ServerAnswer.Malformed.self, "more than the limit") { try ServerAnswer.treeNotesPage(Self.notes { _, _ in }, tree: 1, from: 4, limit: 1) }
    }

    @Test func aNullifierPageOfOneTreeIsNumberedInThatTree() throws {
        let id = String(repeating: "ab", count: 32)
        let body: [String: Any] = ["tree": 1, "from": 4, "next": 6, "count": 40, "nullifiers": ["5", "6"], "transfer_ids": [id], "batches": [3], "ext_amounts": ["0"]]
        let data = try JSONSerialization.data(withJSONObject: body)
        let page = try ServerAnswer.spendsPage(data, from: 4, limit: 10, tree: 1, capacity: 32)
        #expect(page.spends.map(\.index) == [36, 37])
        #expect(try ServerAnswer.spendsPage(ServerAnswer.encode(page, from: 4, tree: 1), from: 4, limit: 10, tree: 1, capacity: 32) == page)
        var other = body; other["tree"] = 0
        #expect(throws: ServerAnswer.Malformed.self) { try ServerAnswer.spendsPage(try JSONSerialization.data(withJSONObject: other), from: 4, limit: 10, tree: 1, capacity: 32) }
        var past = body; past["from"] = 30; past["next"] = 34
        #expect(throws: ServerAnswer.Malformed.self) { try ServerAnswer.spendsPage(try JSONSerialization.data(withJSONObject: past), from: 30, limit: 10, tree: 1, capacity: 32) }
    }
}
