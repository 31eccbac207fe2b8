import BN254
import Foundation
import Groth16
import Ledger
import Primitives
import Protocol
import SQLiteLedger
import Settlement
import TestSupport
import Testing

/// Ledger batches made the way the sequencer makes them: real Poseidon note commitments and
/// nullifiers (DESIGN.md section 4), the real incremental tree, receipts signed with a real
/// Ed25519 key, proofs in snarkjs JSON. Proofs are marked verified: the ledger and the
/// sequencer never look at proofs.
struct LedgerFixture {
    var state: SequencerState
    let key = Ed25519Key.generate()
    /// Signs the vouchers of the fixture's deposits.
    let depositKey = Ed25519Key.generate()
    var rng: SeededGenerator
    let spender: SpendingKey
    var clock: Int64 = 1_700_000_000_000

    init(label: String, snapshot: LedgerSnapshot = LedgerSnapshot(leaves: [], spentNullifiers: [], recentHeaders: []), lane: Int = 0,
         openTrees: Int = 1) throws {
        state = try SequencerState(snapshot: snapshot, lane: lane, openTrees: openTrees)
        rng = SeededGenerator(label: label)
        spender = SpendingKey(Self.randomFr(&rng))
    }

    static func randomFr(_ rng: inout SeededGenerator) -> Fr {
        Fr(reducingBigEndian: (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } })
    }

    mutating func fr() -> Fr { Self.randomFr(&rng) }

    /// A note of the fixture's spender: cm = H3(value, pk, blinding).
    mutating func note() -> Note { Note(value: rng.next() % 1_000_000, owner: spender.ownerKey, blinding: fr()) }

    /// A real nullifier nf = H3(nk, cm, leafIndex) of a fresh note at some leaf index.
    mutating func nullifier() -> Fr { note().nullifier(nullifierKey: spender.nullifierKey, leafIndex: Int(rng.next() % 1_000_000)) }

    /// Stand-in ciphertext of an encrypted output (random bytes of the note-encryption size).
    mutating func ciphertext() -> [UInt8] { (0..<120).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }

    /// A transfer whose public inputs are consistent with its external data and the current root.
    mutating func transfer(nullifiers: Pair<Fr>? = nil, extAmount: Int64 = 0, fee: UInt64 = 0, recipient: String = "") -> VerifiedTransfer {
        let ext = ExtData(recipient: recipient, extAmount: extAmount, fee: fee, encryptedOutputs: [ciphertext(), ciphertext()])
        let inputs = TransferPublicInputs(root: state.currentRoot, publicAmount: ext.publicAmount, extDataHash: ext.hash,
                                          nullifiers: nullifiers ?? Pair(nullifier(), nullifier()),
                                          commitments: Pair(note().commitment, note().commitment))
        let proof = Proof(unchecked: G1Affine.generator, G2Affine.generator, G1Affine.generator)
        let voucher = extAmount > 0 ? DepositVoucher.issue(amount: UInt64(extAmount), expiresAt: clock / 1000 + 3600, key: depositKey) : nil
        return VerifiedTransfer(request: TransferRequest(proof: proof, publicInputs: inputs, extData: ext, voucher: voucher),
                                proofJSON: Array(SnarkJS.encode(proof)), proofValid: true)
    }

    /// Applies `items` as the sequencer would and returns the batch to commit.
    mutating func batch(_ items: [VerifiedTransfer]) -> (BatchCommit?, [Decision]) {
        clock += 1000
        let (commit, decisions) = state.apply(items, now: clock, key: key)
        return (commit, decisions)
    }

    /// A batch of `n` plain transfers, every `withdrawalEvery`-th one a withdrawal.
    mutating func commitBatch(_ n: Int, withdrawalEvery: Int = 0) -> BatchCommit {
        let items = (0..<n).map { i in
            withdrawalEvery > 0 && i % withdrawalEvery == 0
                ? transfer(extAmount: -Int64(100 + i), fee: 3, recipient: "acct:\(i)") : transfer()
        }
        return batch(items).0!
    }
}

/// Takes a SQLite ledger back to an older schema as it shipped, undoing each later migration
/// step (the migration tests' starting points): 5 added `batches.frontier`; 4 `settings` and
/// `batches.tree`; 3 the voucher tables; 2 the index of batch roots.
func downgradeLedger(_ path: String, toSchema version: Int) throws {
    let undo: [Int: String] = [
        5: "ALTER TABLE batches DROP COLUMN frontier;",
        4: "DROP TABLE settings; ALTER TABLE batches DROP COLUMN tree;",
        3: "DROP TABLE vouchers; DROP TABLE voucher_era;",
        2: "DROP INDEX batches_by_root;",
    ]
    let steps = stride(from: 5, to: version, by: -1).map { undo[$0]! }
    try rawSQL(path, (steps + ["PRAGMA user_version = \(version)"]).joined(separator: " "))
}
