import BN254
import Foundation
import Ledger
import Protocol
import SQLiteLedger
import Settlement
import TestSupport
import Testing

/// Issue 14, point 3: when a tree is full the next one starts. The sequencer closes a batch at
/// the end of a tree, the ledger numbers leaves across trees and stores each batch's tree, a
/// restart loads only the open tree, the audit rebuilds each tree, and a ledger keeps the
/// capacity it was created with. Real SQLite files; trees of 32 leaves.
@Suite struct TreeRolloverLedgerTests {
    static let capacity = 32

    static func emptySnapshot() -> LedgerSnapshot {
        LedgerSnapshot(treeCapacity: capacity, leaves: [], spentNullifiers: [], recentHeaders: [])
    }

    /// Three batches: 7 transfers (tree 0, 14 leaves), 12 transfers of which 9 fill tree 0 and
    /// 3 are deferred, and those 3 (tree 1, 6 leaves). Returns the path and the headers.
    static func rolledOverLedger(_ fx: inout LedgerFixture) throws -> (String, [BatchHeader]) {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path, treeCapacity: capacity)
        #expect(ledger.treeCapacity == capacity)
        try ledger.commit(fx.commitBatch(7))
        let items = (0..<12).map { _ in fx.transfer() }
        fx.clock += 1000
        let first = fx.state.apply(upToTreeEnd: items, now: fx.clock, key: fx.key)
        #expect(first.decided == 9, "9 transfers fill tree 0 (14 + 18 = 32 leaves); 3 wait for the next batch")
        #expect(first.decisions.allSatisfy { if case .settled = $0 { true } else { false } })
        try ledger.commit(first.commit!)
        fx.clock += 1000
        let second = fx.state.apply(upToTreeEnd: Array(items[first.decided...]), now: fx.clock, key: fx.key)
        #expect(second.decided == 3)
        try ledger.commit(second.commit!)
        return (path, try ledger.batchHeaders(from: 1, limit: 10))
    }

    @Test func aFullTreeClosesItsBatchAndTheNextBatchStartsTheNextTree() throws {
        var fx = try LedgerFixture(label: "rollover-ledger", snapshot: Self.emptySnapshot())
        let (path, headers) = try Self.rolledOverLedger(&fx)
        #expect(headers.map(\.tree) == [0, 0, 1])
        #expect(headers.map(\.leafCount) == [14, 32, 6], "leaf_count counts the leaves of the batch's own tree")
        let ledger = try SQLiteLedger(path: path)
        let third = try ledger.settledTransfer(headers[2].transferIDs[0])!
        #expect(third.leafIndices == [32, 33], "leaves are numbered across trees with no gap")
        #expect(third.receipt.tree == 1 && third.receipt.verify(publicKey: fx.key.publicKey), "the stored receipt names tree 1 and verifies")
        let second = try ledger.settledTransfer(headers[1].transferIDs[8])!
        #expect(second.leafIndices == [30, 31] && second.receipt.tree == 0)
        // Tree 0's last root is its full tree's root, and it stays an anchor.
        var full = MerkleTree()
        try full.append(contentsOf: try ledger.leaves(from: 0, limit: 32).map(\.commitment))
        #expect(headers[1].root == full.root)
        #expect(try ledger.batchNumber(ofRoot: full.root) == 2)

        // A restart loads the open tree only, and goes on from it.
        let snapshot = try ledger.loadSnapshot(recentRootWindow: 100)
        #expect(snapshot.tree == 1 && snapshot.leaves.count == 6 && snapshot.treeCapacity == 32)
        let state = try SequencerState(snapshot: snapshot)
        #expect(state.currentRoot == headers[2].root && state.totalLeaves == 38)
        #expect(state.isKnownRoot(headers[0].root) && state.isKnownRoot(headers[1].root), "roots of the closed tree stay anchors")
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    @Test func theNonDeferringApplyRefusesWhatDoesNotFitInsteadOfSpanningTrees() throws {
        var fx = try LedgerFixture(label: "rollover-treefull", snapshot: Self.emptySnapshot())
        let items = (0..<17).map { _ in fx.transfer() }
        let (commit, decisions) = fx.batch(items)
        #expect(commit!.header.tree == 0 && commit!.header.leafCount == 32)
        guard case .rejected(.treeFull) = decisions[16] else { Issue.record("the 17th transfer: \(decisions[16])"); return }
        // The next batch starts tree 1.
        let next = fx.batch([fx.transfer()])
        #expect(next.0!.header.tree == 1 && next.0!.header.leafCount == 2 && next.0!.leaves.map(\.index) == [32, 33])
    }

    @Test func aLedgerKeepsItsCapacityAndRefusesAnotherWithoutChangingAnything() throws {
        var fx = try LedgerFixture(label: "rollover-capacity", snapshot: Self.emptySnapshot())
        let (path, _) = try Self.rolledOverLedger(&fx)
        let before = try SQLiteLedger(path: path, readOnly: true).counts()
        #expect(throws: LedgerError.treeCapacity(stored: 32, requested: 64)) { try SQLiteLedger(path: path, treeCapacity: 64) }
        #expect(throws: LedgerError.treeCapacity(stored: nil, requested: 48)) { try SQLiteLedger(path: path, treeCapacity: 48) }
        #expect(throws: LedgerError.treeCapacity(stored: nil, requested: 16)) { try SQLiteLedger(path: path, treeCapacity: 16) }
        let reopened = try SQLiteLedger(path: path)  // no request: the stored capacity
        #expect(reopened.treeCapacity == 32)
        #expect(try reopened.counts() == before)
        #expect(try reopened.audit(receiptPublicKey: fx.key.publicKey) == [])
        #expect(LedgerError.treeCapacity(stored: 32, requested: 64).description.contains("created with a tree capacity of 32"))
    }

    /// A batch that starts the next tree before the open one is full (a sequencer that skipped
    /// ahead) is refused by the ledger, and nothing of it is written.
    @Test func aBatchThatSkipsToTheNextTreeEarlyIsRefusedAndWritesNothing() throws {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path, treeCapacity: Self.capacity)
        var fx = try LedgerFixture(label: "rollover-skip", snapshot: Self.emptySnapshot())
        try ledger.commit(fx.commitBatch(7))  // tree 0: 14 of 32 leaves
        let before = try ledger.counts()
        let stored = try ledger.loadSnapshot(recentRootWindow: 100)
        // The same history, but as if tree 0 were closed: the next batch names tree 1, leaf 32.
        var skipping = try LedgerFixture(label: "rollover-skip-2", snapshot: LedgerSnapshot(
            tree: 1, treeCapacity: Self.capacity, leaves: [], spentNullifiers: stored.spentNullifiers, recentHeaders: stored.recentHeaders))
        let commit = skipping.commitBatch(1)
        #expect(commit.header.tree == 1 && commit.leaves.first?.index == 32)
        do {
            try ledger.commit(commit)
            Issue.record("a batch of tree 1 after 14 of 32 leaves of tree 0 was committed")
        } catch let e as LedgerError {
            #expect(e.description.contains("batch of tree 1 after a batch of tree 0 with 14 of 32 leaves"), "\(e)")
        }
        #expect(try ledger.counts() == before)
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    @Test func theAuditChecksEachTree() throws {
        var fx = try LedgerFixture(label: "rollover-audit", snapshot: Self.emptySnapshot())
        let (path, _) = try Self.rolledOverLedger(&fx)
        // Batch 3 claims tree 2: it skips a tree.
        let skipped = try LedgerAuditTests.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET tree = 2 WHERE number = 3;
            """)
        #expect(Set(skipped.map(\.kind)).isSuperset(of: [.tree, .batchHash]), "\(skipped)")
        // A leaf of tree 1 changed: batch 3's root no longer matches tree 1, tree 0 is untouched.
        let other = fx.note().commitment.bigEndianBytes.map { String(format: "%02x", $0) }.joined()
        let changed = try LedgerAuditTests.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER leaves_no_update;
            UPDATE leaves SET commitment = x'\(other)' WHERE leaf_index = 33;
            """)
        #expect(changed.filter { $0.kind == .batchRoot }.compactMap(\.batch) == [3], "\(changed)")
    }

    /// A ledger of schema 2 (one tree of 2^20) migrates to trees: its batches are tree 0, its
    /// capacity 2^20, its hashes and receipts unchanged.
    @Test func aVersion2LedgerMigratesToTreeZeroOfCapacity2To20() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "rollover-migrate")
        do {
            let ledger = try SQLiteLedger(path: path)
            try ledger.commit(fx.commitBatch(3))
        }
        // Back to schema 2 as it shipped: no vouchers, no settings, no tree column.
        try downgradeLedger(path, toSchema: 2)
        let old = try SQLiteLedger(path: path, readOnly: true)
        #expect(try old.treeCapacity == 1 << 20 && old.batchHeader(1)?.tree == 0, "a read-only schema-2 file reads as tree 0")
        #expect(throws: LedgerError.treeCapacity(stored: 1 << 20, requested: 32)) { try SQLiteLedger(path: path, treeCapacity: 32) }
        let migrated = try SQLiteLedger(path: path)
        #expect(try migrated.schemaVersion() == 5 && migrated.treeCapacity == 1 << 20)
        #expect(try migrated.counts().leaves == 6)
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey) == [])
    }
}
