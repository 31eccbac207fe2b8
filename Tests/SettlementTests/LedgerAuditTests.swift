import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLiteLedger
import Settlement
import TestSupport
import Testing

/// The audit on a sound ledger, then on copies corrupted on purpose through plain SQL (each
/// corruption first removes the schema guard that would refuse it, as a tamperer would).
@Suite struct LedgerAuditTests {
    /// A sound ledger of 6 batches with withdrawals and one paid payout; returns its path.
    static func soundLedger(_ fx: inout LedgerFixture) throws -> String {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path)
        for i in 0..<6 { try ledger.commit(fx.commitBatch(2 + i % 3, withdrawalEvery: 2)) }
        _ = try ledger.markPayoutPaid(1, at: fx.clock + 5)
        return path
    }

    /// A consistent copy of the ledger (`VACUUM INTO`), changed by `sql`, then audited.
    static func auditCopy(of path: String, key: Ed25519Key, _ sql: String) throws -> [LedgerFault] {
        let copy = try temporaryLedgerPath()
        try rawSQL(path, "VACUUM INTO '\(copy)'")
        try rawSQL(copy, sql)
        return try SQLiteLedger(path: copy, readOnly: true).audit(receiptPublicKey: key.publicKey)
    }

    @Test func aSoundLedgerHasNoFaults() throws {
        var fx = try LedgerFixture(label: "audit-sound")
        let path = try Self.soundLedger(&fx)
        #expect(try SQLiteLedger(path: path, readOnly: true).audit(receiptPublicKey: fx.key.publicKey) == [])
        #expect(try Self.auditCopy(of: path, key: fx.key, "SELECT 1") == [], "a copy is as sound")
    }

    @Test func aChangedLeafBreaksTheBatchRoots() throws {
        var fx = try LedgerFixture(label: "audit-leaf")
        let path = try Self.soundLedger(&fx)
        let other = fx.note().commitment.bigEndianBytes.map { String(format: "%02x", $0) }.joined()
        let faults = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER leaves_no_update;
            UPDATE leaves SET commitment = x'\(other)' WHERE leaf_index = 5;
            """)
        let kinds = Set(faults.map(\.kind))
        #expect(kinds.contains(.batchRoot), "\(faults)")
        #expect(kinds.contains(.transferLeaves), "\(faults)")
        // Leaf 5 is in batch 2 (batch 1 holds leaves 0…3, batch 2 leaves 4…9): batches 2… are wrong.
        let header = try SQLiteLedger(path: path, readOnly: true).batchHeader(2)!
        #expect(header.leafCount > 5)
        #expect(faults.filter { $0.kind == .batchRoot }.compactMap(\.batch).min() == 2, "\(faults)")
    }

    /// A stored frontier (issue 16: what other writers append from) that is not the leaves' own
    /// is named, and only it: the frontier is outside the header's hash.
    @Test func aChangedFrontierIsNamed() throws {
        var fx = try LedgerFixture(label: "audit-frontier")
        let path = try Self.soundLedger(&fx)
        let faults = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET frontier = (SELECT frontier FROM batches WHERE number = 2) WHERE number = 4;
            """)
        #expect(faults.map(\.kind) == [.frontier] && faults.first?.batch == 4, "\(faults)")
        let dropped = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET frontier = NULL WHERE number = 4;
            """)
        #expect(dropped == [], "a batch without a stored frontier (written before schema 5) is sound")
    }

    @Test func aChangedHeaderBreaksItsHash() throws {
        var fx = try LedgerFixture(label: "audit-header")
        let path = try Self.soundLedger(&fx)
        let faults = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET created_at = created_at - 60000 WHERE number = 3;
            """)
        #expect(faults.map(\.kind) == [.batchHash], "\(faults)")
        #expect(faults.first?.batch == 3)

        // Rewriting the hash too (to hide the change) breaks the chain at the next batch.
        let rewritten = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET hash = randomblob(32) WHERE number = 3;
            """)
        #expect(rewritten.contains { $0.kind == .chain && $0.batch == 4 }, "\(rewritten)")
        #expect(rewritten.contains { $0.kind == .batchHash && $0.batch == 3 }, "\(rewritten)")

        // A changed root: the tree no longer agrees, and neither do receipts or the window.
        let root = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET root = (SELECT root FROM batches WHERE number = 1) WHERE number = 6;
            """)
        let kinds = Set(root.map(\.kind))
        #expect(kinds.isSuperset(of: [.batchRoot, .batchHash, .rootWindow, .receiptSignature]), "\(root)")
    }

    /// Every past root is an accepted anchor, and no other: a transfer whose root is a later
    /// batch's root (or one the tree never had) is named.
    @Test func aTransferAnchoredToALaterRootIsNamed() throws {
        var fx = try LedgerFixture(label: "audit-anchor")
        let path = try Self.soundLedger(&fx)
        let faults = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER transfers_no_update;
            UPDATE transfers SET root = (SELECT root FROM batches WHERE number = 5) WHERE batch = 3 AND position = 0;
            """)
        #expect(faults.contains { $0.kind == .anchor && $0.batch == 3 }, "\(faults)")
        #expect(Set(faults.map(\.kind)) == [.anchor, .transferID], "the id hashes the root too: \(faults)")
    }

    @Test func aDeletedRootRowIsMissingFromTheWindow() throws {
        var fx = try LedgerFixture(label: "audit-root")
        let path = try Self.soundLedger(&fx)
        let faults = try Self.auditCopy(of: path, key: fx.key, "DELETE FROM roots WHERE batch = 4")
        #expect(faults == [LedgerFault(.rootWindow, batch: 4, "the root of batch 4 is missing from the window")])
    }

    @Test func aDuplicatedNullifierIsNamed() throws {
        var fx = try LedgerFixture(label: "audit-nullifier")
        let path = try Self.soundLedger(&fx)
        // The primary key refuses a second row, so the tamperer rebuilds the table without it,
        // then inserts the copy.
        let copy = try temporaryLedgerPath()
        try rawSQL(path, "VACUUM INTO '\(copy)'")
        try rawSQL(copy, """
            PRAGMA foreign_keys = OFF;
            CREATE TABLE keyless (nullifier BLOB NOT NULL, transfer_id BLOB NOT NULL, batch INTEGER NOT NULL, spent_at INTEGER NOT NULL);
            INSERT INTO keyless SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers;
            DROP TABLE nullifiers;
            ALTER TABLE keyless RENAME TO nullifiers;
            INSERT INTO nullifiers (nullifier, transfer_id, batch, spent_at)
              SELECT nullifier, transfer_id, batch, spent_at + 1 FROM nullifiers WHERE batch = 2 LIMIT 1;
            """)
        let faults = try SQLiteLedger(path: copy, readOnly: true).audit(receiptPublicKey: fx.key.publicKey)
        #expect(faults.map(\.kind) == [.nullifierDuplicate], "\(faults)")
    }

    @Test func aNullifierSpentByTwoTransfersIsNamed() throws {
        var fx = try LedgerFixture(label: "audit-two-spenders")
        let path = try Self.soundLedger(&fx)
        let faults = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER transfers_no_update;
            UPDATE transfers SET nullifier1 = (SELECT nullifier0 FROM transfers WHERE batch = 1 AND position = 0)
             WHERE batch = 5 AND position = 1;
            """)
        let kinds = Set(faults.map(\.kind))
        #expect(kinds.isSuperset(of: [.nullifierDuplicate, .transferID, .transferNullifiers]), "\(faults)")
    }

    @Test func tamperedTransfersAndPayoutsAreNamed() throws {
        var fx = try LedgerFixture(label: "audit-transfers")
        let path = try Self.soundLedger(&fx)
        let ext = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER transfers_no_update;
            UPDATE transfers SET ext_data = CAST(ext_data || x'00000001ff' AS BLOB) WHERE batch = 2 AND position = 0;
            """)
        #expect(ext.map(\.kind) == [.extData], "\(ext)")

        let payout = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER payouts_terms_fixed;
            UPDATE payouts SET recipient = 'attacker' WHERE id = 2;
            """)
        #expect(payout.map(\.kind) == [.payout], "\(payout)")

        let moved = try Self.auditCopy(of: path, key: fx.key, """
            PRAGMA foreign_keys = OFF;
            DROP TRIGGER leaves_no_update;
            UPDATE leaves SET batch = 1 WHERE leaf_index = 6;
            """)
        let kinds = Set(moved.map(\.kind))
        #expect(kinds == [.leafBatch, .transferLeaves], "\(moved)")

        let count = try Self.auditCopy(of: path, key: fx.key, """
            DROP TRIGGER batches_no_update;
            UPDATE batches SET transfer_count = transfer_count + 1 WHERE number = 2;
            """)
        #expect(count.map(\.kind) == [.transferCount], "\(count)")
    }

    @Test func receiptsAreCheckedAgainstTheServerKey() throws {
        var fx = try LedgerFixture(label: "audit-receipts")
        let path = try Self.soundLedger(&fx)
        let ledger = try SQLiteLedger(path: path, readOnly: true)
        let faults = try ledger.audit(receiptPublicKey: Ed25519Key.generate().publicKey)
        #expect(!faults.isEmpty && faults.allSatisfy { $0.kind == .receiptSignature })
        #expect(faults.count == Int(try ledger.counts().transfers))
    }
}
