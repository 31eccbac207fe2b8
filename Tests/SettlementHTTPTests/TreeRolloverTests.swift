import BN254
import Foundation
import Groth16
import HummingbirdTesting
import Ledger
import Primitives
import Protocol
import SQLiteLedger
import Settlement
import SettlementHTTP
import TestSupport
import Testing
import Wallet

/// Issue 14, point 3, "the tree never runs out": a real server on loopback over a real SQLite
/// file with trees of 32 leaves. Deposits fill tree 0 and start tree 1 (no batch spans two
/// trees); a note of tree 0 is withdrawn against tree 0's last root and a note of tree 1 is
/// paid against tree 1's root; refused input changes nothing; a restart keeps the trees and a
/// restart with another capacity is refused.
@Suite(.serialized, .offCooperativePool) struct TreeRolloverTests {
    static let capacity = 32

    struct Settled { var request: TransferRequest; var notes: [Note]; var leaves: [Int64]; var tree: Int64; var batch: Int64 }

    /// What must not change when input is refused.
    static func fingerprint(_ client: any TestClientProtocol, _ server: TestServer) async throws -> [String] {
        let t = try await client.get("/v1/tree").json
        let c = try server.ledger.counts()
        return ["\(t["root"] ?? "")", "\(t["leaf_count"] ?? "")", "\(t["tree"] ?? "")", "\(t["last_batch"] ?? "")",
                "\(c.batches)/\(c.transfers)/\(c.nullifiers)/\(c.leaves)/\(c.pendingPayouts)"]
    }

    @Test func depositsFillTreeZeroStartTreeOneAndNotesOfBothTreesAreSpent() async throws {
        let alice = Peer(), bob = Peer()
        // 18 deposits against the empty root (an anchor of every ledger), posted at once: 16
        // fill tree 0's 32 leaves, 2 go to tree 1, whatever batches the sequencer makes.
        let deposits = try (0..<18).map { i in try deposit(UInt64(100 + i), to: alice, root: SequencerState.emptyRoot) }
        let dir = try TestServer.temporaryDirectory()
        try await TestServer.run(in: dir, treeCapacity: Self.capacity) { client, server in
            let settled = try await withThrowingTaskGroup(of: Settled.self) { group in
                for (request, notes) in deposits {
                    group.addTask {
                        let r = try await client.post(request)
                        #expect(r.status == 200, "\(r.json)")
                        let receipt = r.json["receipt"] as? [String: Any] ?? [:]
                        return Settled(request: request, notes: notes, leaves: leafIndices(r),
                                       tree: (receipt["tree"] as? NSNumber)?.int64Value ?? -1, batch: (receipt["batch"] as? NSNumber)?.int64Value ?? -1)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }.sorted { $0.leaves.first ?? 0 < $1.leaves.first ?? 0 }
            #expect(settled.flatMap(\.leaves) == Array(0..<36), "leaves numbered across trees with no gap")
            for s in settled { #expect(s.tree == s.leaves[0] / 32, "the receipt names the leaves' tree: \(s.leaves) in \(s.tree)") }
            // No batch spans two trees; each batch header names its tree.
            for (batch, members) in Dictionary(grouping: settled, by: \.batch) {
                #expect(Set(members.map(\.tree)).count == 1, "batch \(batch) spans trees")
                let header = try await client.get("/v1/batches/\(batch)").json
                #expect((header["tree"] as? Int).map(Int64.init) == members[0].tree)
            }
            let tree = try await client.get("/v1/tree").json
            #expect(tree["tree"] as? Int == 1 && tree["tree_leaf_count"] as? Int == 4 && tree["leaf_count"] as? Int == 36
                    && tree["tree_capacity"] as? Int == 32, "\(tree)")
            #expect(try await client.get("/v1/params").json["tree_capacity"] as? Int == 32)
            let notes = try await client.get("/v1/notes?from=30&limit=4").json["notes"] as? [[String: Any]] ?? []
            #expect(notes.map { $0["tree"] as? Int } == [0, 0, 1, 1])
            // Issue 16: the same leaves paged per tree, by position, never past a tree's end.
            let end0 = try await client.get("/v1/notes?tree=0&from=30&limit=4").json
            #expect((end0["notes"] as? [[String: Any]])?.map { $0["leaf_index"] as? Int } == [30, 31] && end0["next"] as? Int == 32
                    && end0["tree"] as? Int == 0 && end0["open_trees"] as? Int == 1, "\(end0)")
            let start1 = try await client.get("/v1/notes?tree=1&from=0&limit=10").json
            #expect((start1["notes"] as? [[String: Any]])?.map { $0["leaf_index"] as? Int } == [32, 33, 34, 35] && start1["next"] as? Int == 4, "\(start1)")
            let spends1 = try await client.get("/v1/nullifiers?tree=1&from=2&limit=10").json
            #expect(spends1["tree"] as? Int == 1 && spends1["from"] as? Int == 2 && (spends1["nullifiers"] as? [String])?.count == 2, "\(spends1)")
            for bad in ["/v1/notes?tree=-1", "/v1/notes?tree=2000000000000", "/v1/nullifiers?tree=0&from=1", "/v1/nullifiers?tree=x"] {
                #expect(try await client.get(bad).status == 400, "\(bad)")
            }
            for empty in ["/v1/notes?tree=0&from=33", "/v1/notes?tree=7", "/v1/nullifiers?tree=0&from=40"] {
                let page = try await client.get(empty)
                #expect(page.status == 200 && ((page.json["notes"] ?? page.json["nullifiers"]) as? [Any])?.isEmpty == true, "\(empty)")
            }

            // Tree 0's last root: the root of the batch that took leaf 31, and of the tree rebuilt
            // from the 32 leaves the server serves.
            let lastOfTree0 = settled.first { $0.leaves.contains(31) }!
            let root0 = try Fr(decimal: try await client.get("/v1/batches/\(lastOfTree0.batch)").json["root"] as! String)
            var rebuilt = MerkleTree()
            try rebuilt.append(contentsOf: try server.ledger.leaves(from: 0, limit: 32).map(\.commitment))
            #expect(rebuilt.root == root0)
            let sub0 = try await client.get("/v1/tree/subtrees?height=5&tree=0").json
            #expect(sub0["tree"] as? Int == 0 && sub0["complete"] as? Int == 1 && sub0["leaf_count"] as? Int == 32)
            #expect((sub0["roots"] as? [String]) == [rebuilt.node(height: 5, index: 0).decimalString])
            let sub1 = try await client.get("/v1/tree/subtrees?height=5").json
            #expect(sub1["tree"] as? Int == 1 && sub1["complete"] as? Int == 0 && sub1["leaf_count"] as? Int == 4)

            // Refused input changes nothing: a tree that does not exist, a leaf beyond the last,
            // a negative tree, and a transfer against a root no tree ever had.
            let before = try await Self.fingerprint(client, server)
            #expect(try await client.get("/v1/tree/subtrees?height=5&tree=2").status == 404)
            #expect(try await client.get("/v1/tree/subtrees?height=5&tree=-1").errorCode == "malformed")
            #expect(try await client.get("/v1/tree/path/36").status == 404)
            let stray = try deposit(5, to: alice, root: SecureRandom.scalar()).0
            #expect(try await client.post(stray).errorCode == "unknown_root")
            #expect(try await Self.fingerprint(client, server) == before)

            // Alice withdraws a note of the closed tree 0 against its last root.
            let (spend0, anchor0) = try await client.spendable(settled[0].notes[0], of: alice, at: settled[0].leaves[0])
            #expect(anchor0 == root0, "the path of a tree-0 leaf is in tree 0, under its last root")
            #expect(spend0.leafIndex == 0)
            let amount0 = Int64(settled[0].notes[0].value)
            let withdrawal = try Keys.prover.prove(inputs: [spend0], outputs: [alice.note(0), alice.note(0)],
                                                   extData: ExtData(recipient: "bank:alice", extAmount: -amount0, fee: 0, encryptedOutputs: ciphertexts()), root: root0)
            let w = try await client.post(withdrawal)
            #expect(w.status == 200, "\(w.json)")
            #expect(leafIndices(w) == [36, 37])

            // She pays Bob from a note of tree 1 (leaf 32, position 0) against tree 1's root.
            let inTree1 = settled.first { $0.leaves[0] == 32 }!
            let (spend1, root1) = try await client.spendable(inTree1.notes[0], of: alice, at: 32)
            #expect(spend1.leafIndex == 0, "leaf 32 is position 0 of tree 1")
            let value1 = inTree1.notes[0].value
            let pay = try Keys.prover.prove(inputs: [spend1], outputs: [bob.note(value1 - 10), alice.note(10)],
                                            extData: ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts()), root: root1)
            let p = try await client.post(pay)
            #expect(p.status == 200, "\(p.json)")
            #expect(((p.json["receipt"] as? [String: Any])?["tree"] as? Int) == 1)

            // The tree-0 note is spent for good: the same withdrawal with other outputs is a double spend.
            let before2 = try await Self.fingerprint(client, server)
            let again = try Keys.prover.prove(inputs: [spend0], outputs: [alice.note(0), alice.note(0)],
                                              extData: ExtData(recipient: "bank:mallory", extAmount: -amount0, fee: 0, encryptedOutputs: ciphertexts()), root: root0)
            #expect(try await client.post(again).errorCode == "double_spend")
            #expect(try await Self.fingerprint(client, server) == before2)
            #expect(try server.ledger.audit(receiptPublicKey: server.receiptKey.publicKey) == [])
            let payouts = try await client.admin("/v1/admin/payouts?pending=true").json["payouts"] as? [[String: Any]] ?? []
            #expect(payouts.map { $0["recipient"] as? String } == ["bank:alice"])
        }

        // A restart keeps tree 1 open and tree 0's roots as anchors.
        try await TestServer.run(in: dir, treeCapacity: Self.capacity) { client, server in
            let tree = try await client.get("/v1/tree").json
            #expect(tree["tree"] as? Int == 1 && tree["leaf_count"] as? Int == 40, "\(tree)")
            let path = try await client.get("/v1/tree/path/3").json
            #expect(path["tree"] as? Int == 0 && path["position"] as? Int == 3)
            #expect(server.service.isKnownRoot(try Fr(decimal: path["root"] as! String)))
        }
        // Another capacity is refused, naming the ledger's, and the file is untouched.
        let file = dir.appendingPathComponent("ledger.sqlite").path
        let counts = try SQLiteLedger(path: file, readOnly: true).counts()
        #expect(throws: LedgerError.treeCapacity(stored: 32, requested: 1 << 20)) { try SQLiteLedger(path: file, treeCapacity: 1 << 20) }
        #expect(try SQLiteLedger(path: file, readOnly: true).counts() == counts)
    }
}
