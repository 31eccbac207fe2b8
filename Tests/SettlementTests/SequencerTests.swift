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

    /// A writer learns another's batches from the frontier stored with the last one (issue 16):
    /// no leaf replayed, the same root and tree, and its next batch is the other writer's own;
    /// across a tree rollover too. A frontier that does not give the batch's root, or a batch
    /// behind the state, is refused (the service then reloads from the ledger).
    @Test func catchingUpFromAStoredFrontierEqualsReplayingTheLeaves() throws {
        let empty = LedgerSnapshot(treeCapacity: 32, leaves: [], spentNullifiers: [], recentHeaders: [])
        var writer = try LedgerFixture(label: "seq-frontier", snapshot: empty)
        var replay = try SequencerState(snapshot: empty)
        var learner = try SequencerState(snapshot: empty)
        var headers: [BatchHeader] = [], leaves: [(index: Int64, commitment: Fr)] = [], nullifiers: [Fr] = []
        for n in [3, 5, 4, 4, 6, 10, 3] {  // 70 leaves in batches that fill trees 0 and 1 exactly; tree 2 open
            let batch = writer.commitBatch(n)
            #expect(batch.frontier == writer.state.tree.frontier)
            headers.append(batch.header)
            leaves += batch.leaves.map { ($0.index, $0.commitment) }
            nullifiers += batch.nullifiers.map(\.nullifier)
            if headers.count == 2 && learner.lastHeader == nil {
                // Part way: one catch-up by frontier, one by leaves, from the same start.
                try learner.catchUp(LedgerChanges(headers: headers, frontier: batch.frontier, nullifiers: nullifiers))
                try replay.catchUp(LedgerChanges(headers: headers, leaves: leaves, nullifiers: nullifiers))
                headers = []; leaves = []; nullifiers = []
                #expect(learner.currentRoot == replay.currentRoot && learner.totalLeaves == replay.totalLeaves)
            }
        }
        let last = try #require(headers.last)
        var wrong = try #require(writer.state.tree.frontier)
        wrong[0] = wrong[0] + .one
        var refused = learner
        #expect(throws: LedgerError.self) { try refused.catchUp(LedgerChanges(headers: headers, frontier: wrong, nullifiers: nullifiers)) }
        #expect(throws: LedgerError.self) { try refused.catchUp(LedgerChanges(headers: headers, frontier: Array(wrong.dropFirst()), nullifiers: nullifiers)) }
        try learner.catchUp(LedgerChanges(headers: headers, frontier: writer.state.tree.frontier, nullifiers: nullifiers))
        try replay.catchUp(LedgerChanges(headers: headers, leaves: leaves, nullifiers: nullifiers))
        #expect(learner.treeNumber == 2 && learner.treeNumber == writer.state.treeNumber)
        #expect(learner.currentRoot == last.root && replay.currentRoot == last.root)
        #expect(learner.spent == writer.state.spent && learner.rootWindow == writer.state.rootWindow)
        #expect(!learner.tree.holdsAllNodes, "learned from the frontier, not the leaves")
        // Its next batch is the one the writer would make.
        let items = (0..<3).map { _ in writer.transfer() }
        var fromWriter = writer.state
        #expect(learner.apply(items, now: 9, key: writer.key).commit?.header == fromWriter.apply(items, now: 9, key: writer.key).commit?.header)
        // A batch behind this state is refused.
        var ahead = learner
        let stale = LedgerChanges(headers: [BatchHeader(number: 99, previousHash: BatchHeader.genesisHash, tree: 2, root: .zero, leafCount: 2, transferIDs: [], createdAt: 0)],
                                  frontier: [.zero], nullifiers: [])
        #expect(throws: LedgerError.self) { try ahead.catchUp(stale) }
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
