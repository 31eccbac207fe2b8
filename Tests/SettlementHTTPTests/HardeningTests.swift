import BN254
import Foundation
import Groth16
import Hummingbird
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

/// Issue 14 ("a server no one can stall, fill or mint from"), the points that an in-process
/// server on loopback over a real SQLite file can show. Each also checks that what was
/// refused changed nothing. (`ServerProcessTests` has the points that need the real binary.)
@Suite(.serialized, .offCooperativePool) struct HardeningTests {
    static let empty = LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0, vouchersUsed: 0)

    /// Commits `count` batches of one stand-in transfer each straight into the ledger, as the
    /// sequencer would (real tree, real receipts; the proofs are placeholders: the ledger never
    /// reads them). Returns the root after each batch.
    static func commitStandInBatches(_ count: Int, to ledger: SQLiteLedger, key: Ed25519Key) throws -> [Fr] {
        var state = try SequencerState(snapshot: ledger.loadSnapshot(recentRootWindow: SequencerState.defaultRootWindow))
        let proof = Proof(unchecked: G1Affine.generator, G2Affine.generator, G1Affine.generator)
        var roots: [Fr] = []
        for i in 0..<count {
            let ext = ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts())
            let inputs = TransferPublicInputs(root: state.currentRoot, publicAmount: ext.publicAmount, extDataHash: ext.hash,
                                              nullifiers: Pair(SecureRandom.scalar(), SecureRandom.scalar()),
                                              commitments: Pair(SecureRandom.scalar(), SecureRandom.scalar()))
            let item = VerifiedTransfer(request: TransferRequest(proof: proof, publicInputs: inputs, extData: ext),
                                        proofJSON: Array(SnarkJS.encode(proof)), proofValid: true)
            let (commit, _) = state.apply([item], now: 1_700_000_000_000 + Int64(i), key: key)
            try ledger.commit(try #require(commit))
            roots.append(commit!.header.root)
        }
        return roots
    }

    /// Point 2: every root the tree ever had is an anchor, found through the ledger's index
    /// once it has left the recent window; a root the tree never had is `unknown_root`.
    @Test func aRootOlderThanTheWindowIsStillAnAnchorAndANeverSeenRootIsNot() async throws {
        let dir = try TestServer.temporaryDirectory()
        let key = Ed25519Key.generate()
        let roots = try Self.commitStandInBatches(120, to: SQLiteLedger(path: dir.appendingPathComponent("ledger.sqlite").path), key: key)
        try await TestServer.run(in: dir, receiptKey: key) { client, server in
            let listed = try await client.get("/v1/tree").json["accepted_roots"] as? [String] ?? []
            #expect(listed.count == SequencerState.defaultRootWindow)
            #expect(!listed.contains(roots[0].decimalString), "batch 1's root has left the recent window")
            let before = try server.ledger.counts()
            #expect(before.batches == 120)

            // A root the tree never had: refused, nothing changes.
            let (stranger, _) = try deposit(3, to: Peer(), root: SecureRandom.scalar())
            let refused = try await client.post(stranger)
            #expect(refused.status == 409 && refused.errorCode == "unknown_root", "\(refused.json)")
            #expect(try server.ledger.counts() == before)
            #expect(!server.service.isKnownRoot(stranger.publicInputs.root))

            // Batch 1's root, 120 batches old, and the empty tree's root still settle.
            let (old, _) = try deposit(4, to: Peer(), root: roots[0])
            let r1 = try await client.post(old)
            #expect(r1.status == 200, "\(r1.json)")
            let (genesis, _) = try deposit(5, to: Peer(), root: MerkleTree().root)
            let r2 = try await client.post(genesis)
            #expect(r2.status == 200, "\(r2.json)")
            #expect(try server.ledger.counts().transfers == before.transfers + 2)
            #expect(try server.ledger.audit(receiptPublicKey: key.publicKey) == [])
        }
    }

    /// Point 4a: the transfer id is the hash of the public inputs, not of the proof, so a
    /// submission with a proof that does not verify and a later one with a valid proof are the
    /// same transfer. The later one must not share the first one's fate: it waits beside it
    /// and is verified on its own when the first fails.
    @Test func anInvalidProofDoesNotSinkAValidProofOfTheSameTransfer() async throws {
        // The forged submission waits 4 s in the verifier queue for company, so the valid one
        // arrives while it is in flight (with room for a machine loaded by the whole test run).
        try await TestServer.run(configure: { $0.flushMilliseconds = 4000 }) { client, server in
            let (good, _) = try deposit(6, to: Peer(), root: try await client.root())
            var forged = good
            forged.proof = Proof(unchecked: good.proof.c, good.proof.b, good.proof.a)
            #expect(forged.id == good.id)
            let first = try await client.post(forged, query: "?wait=false")
            #expect(first.status == 202, "\(first.json)")
            #expect(try await client.get("/v1/transfers/\(good.id.hex)").json["status"] as? String == "pending")
            // Posted while the forged proof is in flight: it must not hear `invalid_proof`.
            let valid = try await client.post(good)
            #expect(valid.status == 200, "the valid proof settles: \(valid.json)")
            #expect(try server.ledger.counts().transfers == 1)
            #expect(try server.ledger.settledTransfer(good.id)?.proofJSON == Array(SnarkJS.encode(good.proof)))
        }
    }

    /// Point 4b: a JSON number of 2^63 or more in `ext_amount` is refused as `malformed`; it was
    /// read through a signed 64-bit value and wrapped (2^63 to -2^63, 2^64 - 1 to -1).
    @Test func anExtAmountOf2To63OrMoreAsAJSONNumberIsMalformedNeverWrapped() async throws {
        try await TestServer.run { client, server in
            let (good, _) = try deposit(10, to: Peer(), root: try await client.root())
            let text = String(decoding: TransferBody.encode(good), as: UTF8.self)
            #expect(text.contains(#""ext_amount":"10""#))
            func withExtAmount(_ number: String) -> Data {
                Data(text.replacingOccurrences(of: #""ext_amount":"10""#, with: #""ext_amount":\#(number)"#).utf8)
            }
            var headers = HTTPFields()
            headers[SettlementAPI.voucherHeader] = good.voucher!.text
            for number in ["9223372036854775808", "18446744073709551615", "18446744073709551616", "1e19", "-9223372036854775809"] {
                let reply = try await client.call(.post, "/v1/transfers", body: withExtAmount(number), headers: headers)
                #expect(reply.status == 400 && reply.errorCode == "malformed", "\(number): \(reply.status) \(reply.json)")
            }
            #expect(try server.ledger.counts() == Self.empty)
            // A JSON number in range is still read (the same deposit, amount 10, settles).
            let reply = try await client.call(.post, "/v1/transfers", body: withExtAmount("10"), headers: headers)
            #expect(reply.status == 200, "\(reply.json)")
        }
    }

    /// Point 4c: `wait=false` answers 202 only once the transfer is admitted; a refusal at
    /// admission is answered as such, not lost behind a 202.
    @Test func waitFalseAnswersRefusalsInsteadOf202() async throws {
        try await TestServer.run(configure: { $0.queueCapacity = 1; $0.flushMilliseconds = 1500 }) { client, server in
            func postNoWait(_ r: TransferRequest) async throws -> Reply { try await client.post(r, query: "?wait=false") }
            let root = try await client.root()
            let (stale, _) = try deposit(1, to: Peer(), root: SecureRandom.scalar())
            let unknown = try await postNoWait(stale)
            #expect(unknown.status == 409 && unknown.errorCode == "unknown_root", "\(unknown.json)")

            // Both proved first: the admitted one must still be in the queue for the others.
            let (first, _) = try deposit(2, to: Peer(), root: root)
            let (second, _) = try deposit(3, to: Peer(), root: root)
            let accepted = try await postNoWait(first)
            #expect(accepted.status == 202 && accepted.json["status"] as? String == "pending", "\(accepted.json)")
            // The queue (capacity 1) is full: the next one hears 503, not 202.
            let full = try await postNoWait(second)
            #expect(full.status == 503 && full.errorCode == "overloaded" && full.headers[.retryAfter] != nil, "\(full.json)")
            // A transfer spending a nullifier in flight: 409 at once.
            var conflicting = second
            conflicting.publicInputs.nullifiers[0] = first.publicInputs.nullifiers[0]
            let conflict = try await postNoWait(conflicting)
            #expect(conflict.status == 409 && conflict.errorCode == "double_spend", "\(conflict.json)")

            // The admitted one settles; nothing refused reached the ledger.
            #expect(try await client.post(first).status == 200)
            #expect(try server.ledger.counts().transfers == 1)
            #expect(try server.ledger.settledTransfer(second.id) == nil)
            // A settled transfer posted again with wait=false gets its settlement, not 202.
            let settled = try await postNoWait(first)
            #expect(settled.status == 200 && settled.json["status"] as? String == "settled", "\(settled.json)")
        }
    }

    /// Point 4f: the proving key is read once, when the API is made, and served from memory:
    /// changing or removing the file afterwards changes no download.
    @Test func theProvingKeyIsServedFromMemory() async throws {
        let dir = try TestServer.temporaryDirectory()
        let file = dir.appendingPathComponent("transfer.zkspk")
        let original = Data(SecureRandom.bytes(100_000))
        try original.write(to: file)
        try await TestServer.run(in: dir, provingKeyPath: file.path) { client, _ in
            #expect(try await client.get("/v1/params").json["proving_key_available"] as? Bool == true)
            #expect(try await client.get("/v1/params/proving-key").body == original)
            try Data(SecureRandom.bytes(10)).write(to: file)
            #expect(try await client.get("/v1/params/proving-key").body == original)
            try FileManager.default.removeItem(at: file)
            let reply = try await client.get("/v1/params/proving-key")
            #expect(reply.status == 200 && reply.body == original)
        }
    }

    /// Point 4e: ledger reads asked from async code run on the service's reader threads, not
    /// on a thread of Swift's cooperative pool; and the routes that read the ledger answer.
    @Test func ledgerReadsRunOnTheReaderThreads() async throws {
        try await TestServer.run { client, server in
            let name = try await server.service.read { _ in Thread.current.name ?? "" }
            #expect(name.hasPrefix("zksettle-read-"), "\(name)")
            #expect(try await client.get("/v1/notes?from=0&limit=10").status == 200)
            #expect(try await client.get("/v1/batches/1").errorCode == "not_found")
            #expect(try await client.admin("/v1/admin/stats").json["transfers"] as? Int == 0)
            #expect(try await client.admin("/v1/admin/verify").json["ok"] as? Bool == true)
        }
    }
}
