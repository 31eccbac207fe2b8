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

@Suite struct SequencerTests {
    @Test func aNullifierSpentEarlierInTheSameBatchRejectsTheLaterTransfer() throws {
        var fx = try LedgerFixture(label: "seq-same-batch")
        let a = fx.transfer()
        let b = fx.transfer(nullifiers: Pair(fx.fr(), a.request.publicInputs.nullifiers[0]))
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

    /// A batch built on a state and not written (another node extended the ledger first) is
    /// undone exactly: the tree, the spent set, the vouchers, the window and the header are the
    /// published state's again, and the next apply gives what it gives on the published state,
    /// across a tree rollover too.
    @Test(arguments: [1 << 20, 32]) func revertUndoesAnUnwrittenBatch(capacity: Int) throws {
        var fx = try LedgerFixture(label: "seq-revert", snapshot: LedgerSnapshot(treeCapacity: capacity, leaves: [], spentNullifiers: [], recentHeaders: []))
        _ = fx.batch((0..<(capacity == 32 ? 16 : 7)).map { _ in fx.transfer() })  // trees of 32: full, so the next batch starts tree 1
        let published = fx.state
        var working = published
        let items = (0..<5).map { _ in fx.transfer() } + [fx.transfer(extAmount: 9)]
        let (commit, _) = working.apply(items, now: 1, key: fx.key)
        let undone = try #require(commit)
        #expect(working.totalLeaves > published.totalLeaves)
        #expect(working.treeNumber == (capacity == 32 ? 1 : 0))
        working.revert(to: published, nullifiers: undone.nullifiers.map(\.nullifier), voucherNonces: undone.vouchers.map(\.voucher.nonce))
        #expect(working.currentRoot == published.currentRoot)
        #expect(working.totalLeaves == published.totalLeaves && working.treeNumber == published.treeNumber)
        #expect(working.spent == published.spent && working.usedVouchers == published.usedVouchers)
        #expect(working.rootWindow == published.rootWindow && working.lastHeader == published.lastHeader)
        #expect(try working.tree.path(13) == (try published.tree.path(13)))
        var fromPublished = published
        let again = working.apply(items, now: 2, key: fx.key).commit
        #expect(again?.header == fromPublished.apply(items, now: 2, key: fx.key).commit?.header)
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

@Suite struct LedgerConcurrencyTests {
    /// Reads from other threads while the writer commits: every read is one snapshot, so it
    /// sees whole batches only (2 nullifiers and 2 leaves per transfer, a header per batch).
    @Test func readersSeeWholeBatchesWhileTheWriterCommits() async throws {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path)
        let other = try SQLiteLedger(path: path, readOnly: true)
        var fx = try LedgerFixture(label: "ledger-concurrent")
        let batches = (0..<30).map { i in fx.commitBatch(1 + i % 5) }
        let expectedBatches = Int64(batches.count)
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for b in batches { try ledger.commit(b) }
                return 0
            }
            for reader in [ledger, other, ledger] {
                group.addTask {
                    var reads = 0
                    while true {
                        let c = try reader.counts()
                        #expect(c.nullifiers == 2 * c.transfers && c.leaves == 2 * c.transfers, "\(c)")
                        let snapshot = try reader.loadSnapshot(recentRootWindow: 100)
                        #expect(snapshot.leaves.count == Int(snapshot.recentHeaders.last?.leafCount ?? 0))
                        #expect(snapshot.spentNullifiers.count == snapshot.leaves.count)
                        reads += 1
                        if c.batches == expectedBatches { return reads }
                    }
                }
            }
            for try await _ in group {}
        }
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey) == [])
    }
}
