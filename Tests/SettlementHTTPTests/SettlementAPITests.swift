import BN254
import Foundation
import Groth16
import Hummingbird
import HummingbirdTesting
import Ledger
import Primitives
import Protocol
import Settlement
import SettlementHTTP
import TestSupport
import Testing
import Wallet

/// End to end: real proofs, a real server on loopback, a real SQLite file.
@Suite(.serialized, .offCooperativePool) struct SettlementAPITests {
    @Test func depositTransferAndWithdrawalSettleWithSignedReceipts() async throws {
        try await TestServer.run { client, server in
            let alice = Peer(), bob = Peer()
            // Deposit 100 to Alice.
            let (dep, depNotes) = try deposit(100, to: alice, root: try await client.root())
            let r1 = try await client.post(dep)
            #expect(r1.status == 200, "\(r1.json)")
            let receipt = try #require(r1.json["receipt"] as? [String: Any])
            #expect(receipt["batch"] as? Int == 1)
            let leaves = leafIndices(r1)
            #expect(leaves == [0, 1])
            // The receipt verifies under the key /v1/params publishes.
            let params = try await client.get("/v1/params").json
            #expect(params["receipt_public_key"] as? String == server.receiptKey.publicKey.map { String(format: "%02x", $0) }.joined())
            let stored = try #require(try server.ledger.settledTransfer(dep.id))
            #expect(stored.receipt.verify(publicKey: server.receiptKey.publicKey))
            #expect(receipt["signature"] as? String == stored.receipt.signature.map { String(format: "%02x", $0) }.joined())

            // Alice pays Bob 30 privately (change 70 back to her).
            let (spend, root) = try await client.spendable(depNotes[0], of: alice, at: leaves[0])
            let toBob = bob.note(30), change = alice.note(70)
            let pay = try Keys.prover.prove(inputs: [spend], outputs: [toBob, change],
                                            extData: ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts()), root: root)
            let r2 = try await client.post(pay)
            #expect(r2.status == 200, "\(r2.json)")
            let payLeaves = leafIndices(r2)

            // Bob withdraws his 30 to a bank account.
            let (bobSpend, root2) = try await client.spendable(toBob, of: bob, at: payLeaves[0])
            let out = try Keys.prover.prove(inputs: [bobSpend], outputs: [bob.note(0), bob.note(0)],
                                            extData: ExtData(recipient: "bank:bob", extAmount: -30, fee: 0, encryptedOutputs: ciphertexts()), root: root2)
            let r3 = try await client.post(out)
            #expect(r3.status == 200, "\(r3.json)")

            // Public effects: 100 in, 30 owed out; nullifiers of both spends are recorded.
            let payouts = try await client.admin("/v1/admin/payouts?pending=true").json["payouts"] as? [[String: Any]] ?? []
            #expect(payouts.count == 1)
            #expect(payouts.first?["amount"] as? Int == 30 && payouts.first?["recipient"] as? String == "bank:bob")
            let nf = spend.nullifier.decimalString
            let nfReply = try await client.get("/v1/nullifiers/\(nf)").json
            #expect(nfReply["spent"] as? Bool == true)
            #expect(nfReply["transfer_id"] as? String == pay.id.hex)
            let stats = try await client.admin("/v1/admin/stats").json
            #expect(stats["transfers"] as? Int == 3 && stats["leaves"] as? Int == 6 && stats["pending_payouts"] as? Int == 1)

            // The root the server reports equals the one recomputed from the leaves it serves.
            let notes = try await client.get("/v1/notes?from=0&limit=100").json["notes"] as? [[String: Any]] ?? []
            let commitments = try notes.map { try Fr(decimal: $0["commitment"] as! String) }
            #expect(commitments.count == 6)
            #expect(try MerkleTree(leaves: commitments).root == (try await client.root()))

            // Mark the payout paid; a second mark finds nothing pending.
            let id = payouts.first?["id"] as? Int ?? -1
            #expect(try await client.admin("/v1/admin/payouts/\(id)/paid", method: .post).status == 200)
            #expect(try await client.admin("/v1/admin/payouts/\(id)/paid", method: .post).status == 404)
        }
    }

    @Test func theSameTransferPostedTwentyTimesSettlesOnceWithIdenticalReceipts() async throws {
        try await TestServer.run { client, server in
            let (dep, _) = try deposit(5, to: Peer(), root: try await client.root())
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await client.post(dep) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == 200 })
            #expect(Set(replies.map(\.body)).count == 1, "every reply carries the same receipt")
            #expect(try server.ledger.counts().transfers == 1)
            // And once more after settlement.
            let again = try await client.post(dep)
            #expect(again.body == replies[0].body)
        }
    }

    @Test func twoTransfersSpendingOneNoteConcurrentlyExactlyOneSettles() async throws {
        try await TestServer.run { client, server in
            let alice = Peer()
            let (dep, notes) = try deposit(50, to: alice, root: try await client.root())
            let leaves = leafIndices(try await client.post(dep))
            let (spend, root) = try await client.spendable(notes[0], of: alice, at: leaves[0])
            let ext = ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts())
            let one = try Keys.prover.prove(inputs: [spend], outputs: [Peer().note(50), alice.note(0)], extData: ext, root: root)
            let two = try Keys.prover.prove(inputs: [spend], outputs: [Peer().note(20), alice.note(30)], extData: ext, root: root)
            async let a = client.post(one)
            async let b = client.post(two)
            let results = try await [a, b]
            #expect(results.filter { $0.status == 200 }.count == 1)
            let loser = try #require(results.first { $0.status != 200 })
            #expect(loser.status == 409 && loser.errorCode == "double_spend")
            #expect(try server.ledger.counts().transfers == 2)
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
        try await TestServer.run { client, server in
            let alice = Peer()
            let (good, _) = try deposit(10, to: alice, root: try await client.root())
            let body = try JSONSerialization.jsonObject(with: TransferBody.encode(good)) as! [String: Any]
            func variant(_ edit: (inout [String: Any]) -> Void) -> Data {
                var b = body
                edit(&b)
                return try! JSONSerialization.data(withJSONObject: b)
            }
            let r = Fr.modulusDecimalForTests
            // A point on the twist outside the order-r subgroup, from Tests/Vectors.
            let vectors = try SharedVectors.json("bn254.json") as! [String: Any]
            let notInSubgroup = (vectors["g2_not_in_subgroup"] as! [String: Any])["point"] as! [[String]]
            var headers = HTTPFields()
            headers[SettlementAPI.voucherHeader] = good.voucher!.text
            let cases: [(String, Data, Int, String)] = [
                ("not JSON", Data("{nope".utf8), 400, "malformed"),
                ("not an object", Data("[1,2]".utf8), 400, "malformed"),
                ("unknown field", variant { $0["extra"] = 1 }, 400, "malformed"),
                ("six public inputs", variant { $0["public_inputs"] = Array(($0["public_inputs"] as! [String]).prefix(6)) }, 400, "malformed"),
                ("public input ≥ r", variant { var p = $0["public_inputs"] as! [String]; p[1] = r; $0["public_inputs"] = p }, 400, "malformed"),
                ("point off the curve", variant { var p = $0["proof"] as! [String: Any]; var a = p["pi_a"] as! [String]; a[1] = "5"; p["pi_a"] = a; $0["proof"] = p }, 400, "malformed"),
                ("ext data changed", variant { var e = $0["ext_data"] as! [String: Any]; e["ext_amount"] = "11"; $0["ext_data"] = e }, 422, "bad_ext_data"),
                ("bad base64", variant { var e = $0["ext_data"] as! [String: Any]; e["encrypted_outputs"] = ["%%%", "AA=="]; $0["ext_data"] = e }, 400, "malformed"),
                ("missing proof", variant { $0["proof"] = nil }, 400, "malformed"),
                ("eight public inputs", variant { $0["public_inputs"] = ($0["public_inputs"] as! [String]) + ["1"] }, 400, "malformed"),
                ("public input not canonical", variant { var p = $0["public_inputs"] as! [String]; p[1] = "0" + p[1]; $0["public_inputs"] = p }, 400, "malformed"),
                ("coordinate ≥ p", variant { var p = $0["proof"] as! [String: Any]; var a = p["pi_a"] as! [String]; a[0] = FpParameters.modulusDecimal; p["pi_a"] = a; $0["proof"] = p }, 400, "malformed"),
                ("G2 point off the twist", variant { var p = $0["proof"] as! [String: Any]; var b = p["pi_b"] as! [[String]]; b[1][0] = "5"; p["pi_b"] = b; $0["proof"] = p }, 400, "malformed"),
                ("pi_b outside the subgroup", variant { var p = $0["proof"] as! [String: Any]; p["pi_b"] = notInSubgroup + [["1", "0"]]; $0["proof"] = p }, 400, "malformed"),
                ("ext_amount out of range", variant { var e = $0["ext_data"] as! [String: Any]; e["ext_amount"] = "9223372036854775808"; $0["ext_data"] = e }, 400, "malformed"),
                ("fee not an integer", variant { var e = $0["ext_data"] as! [String: Any]; e["fee"] = "1.5"; $0["ext_data"] = e }, 400, "malformed"),
                ("three ciphertexts", variant { var e = $0["ext_data"] as! [String: Any]; e["encrypted_outputs"] = ["AA==", "AA==", "AA=="]; $0["ext_data"] = e }, 422, "bad_ext_data"),
                ("oversized body", Data(repeating: 0x20, count: TransferBody.maxBytes + 1), 413, "payload_too_large"),
            ]
            for (name, data, status, code) in cases {
                let reply = try await client.call(.post, "/v1/transfers", body: data, headers: headers)
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.json)")
                #expect(reply.errorCode == code, "\(name): \(reply.json)")
            }
            // A deposit without a voucher or with a bad one, a proof that does not verify, an unknown root.
            var bare = good
            bare.voucher = nil
            #expect(try await client.post(bare).errorCode == "unauthorized")
            var garbled = HTTPFields()
            garbled[SettlementAPI.voucherHeader] = String(good.voucher!.text.dropLast()) + "x"
            #expect(try await client.call(.post, "/v1/transfers", body: TransferBody.encode(good), headers: garbled).errorCode == "unauthorized")
            var forged = good
            forged.proof = Proof(unchecked: good.proof.c, good.proof.b, good.proof.a)
            let forgedReply = try await client.post(forged)
            #expect(forgedReply.status == 422 && forgedReply.errorCode == "invalid_proof", "\(forgedReply.json)")
            let (stale, _) = try deposit(10, to: alice, root: Fr(12345))
            #expect(try await client.post(stale).errorCode == "unknown_root")
            // Unknown routes and ids answer in the same JSON shape.
            #expect(try await client.get("/v1/nope").errorCode == "not_found")
            #expect(try await client.get("/v1/transfers/\(String(repeating: "ab", count: 32))").errorCode == "not_found")
            #expect(try await client.get("/v1/batches/1").errorCode == "not_found")
            #expect(try await client.get("/v1/nullifiers/\(r)").errorCode == "malformed")
            #expect(try await client.get("/v1/admin/stats").errorCode == "unauthorized")
            #expect(try server.ledger.counts() == LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0, vouchersUsed: 0))
            // After all that, the honest deposit still settles.
            #expect(try await client.post(good).status == 200)
        }
    }

    @Test func aFullQueueAnswers503WithRetryAfterAndLosesNothingAdmitted() async throws {
        // One admitted transfer fills the queue; the batch waits 1.5 s for company before it flushes.
        try await TestServer.run(configure: { $0.queueCapacity = 1; $0.flushMilliseconds = 1500 }) { client, server in
            let root = try await client.root()
            let (first, _) = try deposit(3, to: Peer(), root: root)
            let (second, _) = try deposit(4, to: Peer(), root: root)
            let accepted = try await client.post(first, query: "?wait=false")
            #expect(accepted.status == 202, "\(accepted.json)")
            let refused = try await client.post(second)
            #expect(refused.status == 503 && refused.errorCode == "overloaded", "\(refused.json)")
            #expect(refused.headers[.retryAfter] != nil)
            // The admitted one settles; once the queue drains the refused one is welcome.
            #expect(try await client.post(first).status == 200)
            #expect(try await client.post(second).status == 200)
            #expect(try server.ledger.counts().transfers == 2)
        }
    }

    @Test func aRestartedServerKeepsItsLedgerAndStillRefusesSpentNullifiers() async throws {
        let dir = try TestServer.temporaryDirectory()
        let key = Ed25519Key.generate()
        let alice = Peer()
        struct Before: @unchecked Sendable {
            let receipt: Data, payID: String, root: Fr, notes: Data, acceptedRoots: [String]
            let spend: SpendableNote, spendRoot: Fr, spentNullifier: String, path3: Data
        }
        let before = try await TestServer.run(in: dir, receiptKey: key) { client, _ in
            let (dep, notes) = try deposit(7, to: alice, root: try await client.root())
            let reply = try await client.post(dep)
            #expect(reply.status == 200, "\(reply.json)")
            // Alice spends the deposited note: its nullifier is now spent.
            let (spend, spendRoot) = try await client.spendable(notes[0], of: alice, at: leafIndices(reply)[0])
            let pay = try Keys.prover.prove(inputs: [spend], outputs: [Peer().note(7), alice.note(0)],
                                            extData: ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts()), root: spendRoot)
            #expect(try await client.post(pay).status == 200)
            let tree = try await client.get("/v1/tree").json
            return Before(receipt: reply.body, payID: pay.id.hex, root: try await client.root(),
                          notes: try await client.get("/v1/notes?from=0&limit=100").body,
                          acceptedRoots: tree["accepted_roots"] as? [String] ?? [],
                          spend: spend, spendRoot: spendRoot, spentNullifier: spend.nullifier.decimalString,
                          path3: try await client.get("/v1/tree/path/3").body)
        }
        try await TestServer.run(in: dir, receiptKey: key) { client, server in
            // Every leaf, root and receipt is there.
            #expect(try await client.root() == before.root)
            #expect(try await client.get("/v1/notes?from=0&limit=100").body == before.notes)
            #expect(try await client.get("/v1/tree").json["accepted_roots"] as? [String] == before.acceptedRoots)
            let id = (try JSONSerialization.jsonObject(with: before.receipt) as! [String: Any])["transfer_id"] as! String
            #expect(try await client.get("/v1/transfers/\(id)").body == before.receipt)
            #expect(try await client.get("/v1/batches/1").json["transfer_ids"] as? [String] == [id])
            let nf = try await client.get("/v1/nullifiers/\(before.spentNullifier)").json
            #expect(nf["spent"] as? Bool == true && nf["transfer_id"] as? String == before.payID)
            // A new transfer spending the same note, with different outputs, is refused.
            let again = try Keys.prover.prove(inputs: [before.spend], outputs: [Peer().note(3), alice.note(4)],
                                              extData: ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts()),
                                              root: before.spendRoot)
            let reply = try await client.post(again)
            #expect(reply.status == 409 && reply.errorCode == "double_spend", "\(reply.json)")
            #expect(try server.ledger.counts().transfers == 2)
            // The restarted sequencer holds the open tree as the stored frontier (issue 16); paths
            // are served as before, and for leaves settled after the restart too.
            #expect(try await client.get("/v1/tree/path/3").body == before.path3)
            let (dep, _) = try deposit(5, to: alice, root: try await client.root())
            let settled = try await client.post(dep)
            #expect(settled.status == 200, "\(settled.json)")
            let newLeaf = try leafIndices(settled)[1]
            let path = try await client.get("/v1/tree/path/\(newLeaf)").json
            let root = try await client.get("/v1/tree").json["root"] as? String
            #expect(root != nil && path["root"] as? String == root, "\(path)")
        }
    }
}

extension Fr {
    static let modulusDecimalForTests = FrParameters.modulusDecimal
}
