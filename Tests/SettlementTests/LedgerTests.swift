import BN254
import CSQLite
import Foundation
import Groth16
import Protocol
import Settlement
import Testing
import TestSupport

/// Ledger batches made the way the sequencer makes them (real Poseidon tree, real receipts),
/// with proofs marked verified: the ledger and the sequencer never look at proofs.
struct LedgerFixture {
    var state: SequencerState
    let key = Ed25519Key.generate()
    var rng: SeededGenerator
    var clock: Int64 = 1_700_000_000_000

    init(label: String, snapshot: LedgerSnapshot = LedgerSnapshot(leaves: [], spentNullifiers: [], recentHeaders: [])) throws {
        state = try SequencerState(snapshot: snapshot)
        rng = SeededGenerator(label: label)
    }

    mutating func fr() -> Fr { Fr(reducingBigEndian: (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }) }

    /// A transfer whose public inputs are consistent with its external data and the current root.
    mutating func transfer(nullifiers: [Fr]? = nil, extAmount: Int64 = 0, recipient: String = "") -> VerifiedTransfer {
        let ext = ExtData(recipient: recipient, extAmount: extAmount, fee: 0, encryptedOutputs: [[1, 2, 3], [4, 5]])
        let inputs = TransferPublicInputs(root: state.currentRoot, publicAmount: ext.publicAmount, extDataHash: ext.hash,
                                          nullifiers: nullifiers ?? [fr(), fr()], commitments: [fr(), fr()])
        let proof = Proof(unchecked: G1Affine.generator, G2Affine.generator, G1Affine.generator)
        return VerifiedTransfer(request: TransferRequest(proof: proof, publicInputs: inputs, extData: ext),
                                proofJSON: Array("{\"pi_a\":[]}".utf8), proofValid: true)
    }

    /// Applies `items` as the sequencer would and returns the batch to commit.
    mutating func batch(_ items: [VerifiedTransfer]) -> (BatchCommit?, [Decision]) {
        clock += 1000
        let (commit, decisions) = state.apply(items, now: clock, key: key)
        return (commit, decisions)
    }
}

func temporaryLedgerPath() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-ledger-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("ledger.sqlite").path
}

@Suite struct LedgerTests {
    @Test func freshFileIsMigratedAndReopensWithItsData() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-reopen")
        do {
            let ledger = try SQLiteLedger(path: path)
            #expect(try ledger.counts() == LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0))
            let (commit, _) = fx.batch([fx.transfer(), fx.transfer()])
            try ledger.commit(commit!)
        }
        let reopened = try SQLiteLedger(path: path)
        #expect(try reopened.counts() == LedgerCounts(batches: 1, transfers: 2, nullifiers: 4, leaves: 4, pendingPayouts: 0))
        let snapshot = try reopened.loadSnapshot(recentRootWindow: 100)
        #expect(try MerkleTree(leaves: snapshot.leaves).root == fx.state.currentRoot)
        #expect(snapshot.recentHeaders.last?.root == fx.state.currentRoot)
        // The file says which schema it holds.
        let raw = try SQLiteLedger(path: path, readOnly: true)
        _ = raw
    }

    @Test func everyRecordRoundTrips() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-roundtrip")
        let items = [fx.transfer(), fx.transfer(extAmount: -250, recipient: "iban:DE00 1234"), fx.transfer(extAmount: 900)]
        let (commit, decisions) = fx.batch(items)
        let batch = try #require(commit)
        try ledger.commit(batch)

        for settled in batch.transfers {
            #expect(try ledger.settledTransfer(settled.id) == settled)
            #expect(settled.receipt.verify(publicKey: fx.key.publicKey))
        }
        #expect(decisions.count == 3)
        #expect(try ledger.batchHeader(1) == batch.header)
        #expect(try ledger.storedBatchHash(1) == batch.header.hash)
        #expect(try ledger.batchHeader(2) == nil)
        for n in batch.nullifiers { #expect(try ledger.nullifier(n.nullifier) == n) }
        #expect(try ledger.nullifier(fx.fr()) == nil)
        #expect(try ledger.leaves(from: 0, limit: 100) == batch.leaves)
        #expect(try ledger.leaves(from: 4, limit: 1) == [batch.leaves[4]])
        #expect(try ledger.nullifiers(batch: 1, limit: 100).count == 6)
        #expect(try ledger.nullifiers(batch: 2, limit: 100).isEmpty)

        let payouts = try ledger.payouts(pendingOnly: true)
        #expect(payouts.count == 1)
        #expect(payouts[0].amount == 250 && payouts[0].recipient == "iban:DE00 1234" && payouts[0].status == .pending)
        #expect(try ledger.markPayoutPaid(payouts[0].id, at: 42))
        #expect(try !ledger.markPayoutPaid(payouts[0].id, at: 43), "a payout is paid once")
        #expect(try ledger.payouts(pendingOnly: true).isEmpty)
        #expect(try ledger.payouts(pendingOnly: false).first?.paidAt == 42)
        #expect(try ledger.integrityCheck().isEmpty)
    }

    @Test func aSpentNullifierIsRefusedAndNothingOfTheBatchIsWritten() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-double")
        let first = fx.transfer()
        try ledger.commit(fx.batch([first]).0!)
        let before = try ledger.counts()

        // A second batch, made from a state that did not know the nullifier was spent (as if the
        // sequencer were wrong): the ledger's primary key refuses it, and writes nothing.
        let snap = try ledger.loadSnapshot(recentRootWindow: 100)
        var stale = try LedgerFixture(label: "ledger-double-stale",
                                      snapshot: LedgerSnapshot(leaves: snap.leaves, spentNullifiers: [], recentHeaders: snap.recentHeaders))
        let conflicting = stale.transfer(nullifiers: [first.request.publicInputs.nullifiers[1], stale.fr()])
        let (commit, _) = stale.batch([stale.transfer(), conflicting])
        #expect(throws: LedgerError.self) { try ledger.commit(commit!) }
        #expect(try ledger.counts() == before)
        #expect(try ledger.batchHeader(2) == nil)
    }

    @Test func aBatchThatDoesNotExtendTheChainIsRefused() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-chain")
        let (b1, _) = fx.batch([fx.transfer()])
        try ledger.commit(b1!)
        #expect(throws: LedgerError.self) { try ledger.commit(b1!) }  // same number again
        var (b2, _) = fx.batch([fx.transfer()])
        b2!.header.previousHash = BatchHeader.genesisHash
        #expect(throws: LedgerError.self) { try ledger.commit(b2!) }
        var (b3, _) = fx.batch([fx.transfer()])
        b3!.header.number = 5
        #expect(throws: LedgerError.self) { try ledger.commit(b3!) }
        #expect(try ledger.counts().batches == 1)
    }

    @Test func readOnlyOpenReadsBesideAWriterAndCannotWrite() throws {
        let path = try temporaryLedgerPath()
        #expect(throws: LedgerError.self) { try SQLiteLedger(path: path, readOnly: true) }  // no file yet
        let writer = try SQLiteLedger(path: path)
        var fx = try LedgerFixture(label: "ledger-ro")
        try writer.commit(fx.batch([fx.transfer()]).0!)
        let reader = try SQLiteLedger(path: path, readOnly: true)
        #expect(try reader.counts().transfers == 1)
        try writer.commit(fx.batch([fx.transfer(), fx.transfer()]).0!)
        #expect(try reader.counts().transfers == 3, "a reader sees later commits (WAL)")
        let (b, _) = fx.batch([fx.transfer()])
        #expect(throws: (any Error).self) { try reader.commit(b!) }
        #expect(throws: (any Error).self) { _ = try reader.markPayoutPaid(1, at: 1) }
    }

    @Test func manyBatchesRebuildTheSameTreeAndRootWindow() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-many")
        let ledger = try SQLiteLedger(path: path)
        for _ in 0..<120 { try ledger.commit(fx.batch([fx.transfer()]).0!) }
        let reopened = try SQLiteLedger(path: path)
        let state = try SequencerState(snapshot: try reopened.loadSnapshot(recentRootWindow: 100))
        #expect(state.currentRoot == fx.state.currentRoot)
        #expect(state.rootWindow == fx.state.rootWindow)
        #expect(state.rootWindow.count == 100)
        let stored = try reopened.storedRoots()
        #expect(stored.count == Int(SQLiteLedger.rootsKept))
        #expect(stored.map(\.root) == fx.state.rootWindow)
        #expect(stored.first?.batch == 21)
    }
}

@Suite struct SequencerTests {
    @Test func aNullifierSpentEarlierInTheSameBatchRejectsTheLaterTransfer() throws {
        var fx = try LedgerFixture(label: "seq-same-batch")
        let a = fx.transfer()
        let b = fx.transfer(nullifiers: [fx.fr(), a.request.publicInputs.nullifiers[0]])
        let c = fx.transfer()
        let (commit, decisions) = fx.batch([a, b, c])
        guard case .settled = decisions[0], case .rejected(.doubleSpend) = decisions[1], case .settled = decisions[2] else {
            Issue.record("expected settled, double_spend, settled; got \(decisions)"); return
        }
        #expect(commit?.transfers.map(\.id) == [a.request.id, c.request.id])
        #expect(commit?.leaves.map(\.index) == [0, 1, 2, 3])
    }

    @Test func invalidProofsUnknownRootsAndSpentNullifiersAreRejected() throws {
        var fx = try LedgerFixture(label: "seq-reject")
        var bad = fx.transfer()
        bad.proofValid = false
        let first = fx.transfer()
        _ = fx.batch([first])
        var stale = fx.transfer()
        stale.request.publicInputs.root = fx.fr()
        let replay = fx.transfer(nullifiers: first.request.publicInputs.nullifiers)
        let (commit, decisions) = fx.batch([bad, stale, replay])
        #expect(commit == nil)
        let codes = decisions.map { d -> String in if case .rejected(let r) = d { return r.code } else { return "settled" } }
        #expect(codes == ["invalid_proof", "unknown_root", "double_spend"])
    }

    @Test func applyInPlaceEqualsApplyingOnACopy() throws {
        var fx = try LedgerFixture(label: "seq-inplace")
        let items = [fx.transfer(), fx.transfer(), fx.transfer()]
        let before = fx.state
        let (next, commitA, _) = before.applying(items, now: 5, key: fx.key)
        var inPlace = before
        let (commitB, _) = inPlace.apply(items, now: 5, key: fx.key)
        #expect(next.currentRoot == inPlace.currentRoot)
        #expect(commitA?.header == commitB?.header)
        #expect(before.currentRoot == MerkleTree().root, "applying leaves the original untouched")
        var follower = before
        follower.adopt(committed: inPlace, nullifiers: commitB!.nullifiers.map(\.nullifier))
        #expect(follower.currentRoot == inPlace.currentRoot)
        #expect(follower.rootWindow == inPlace.rootWindow)
        #expect(items.allSatisfy { $0.request.publicInputs.nullifiers.allSatisfy(follower.isSpent) })
    }
}
