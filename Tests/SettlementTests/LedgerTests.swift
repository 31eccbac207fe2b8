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

@Suite struct LedgerTests {
    @Test func freshFileIsMigratedAndReopensWithItsData() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-reopen")
        do {
            let ledger = try SQLiteLedger(path: path)
            #expect(try ledger.schemaVersion() == SQLiteLedger.supportedSchemaVersion)
            #expect(try ledger.counts() == LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0, vouchersUsed: 0))
            let (commit, _) = fx.batch([fx.transfer(), fx.transfer()])
            try ledger.commit(commit!)
        }
        // The file says which schema it holds, and runs in WAL mode.
        #expect(try rawQuery(path, "PRAGMA user_version") == ["5"])
        #expect(try rawQuery(path, "PRAGMA journal_mode") == ["wal"])
        #expect(try rawQuery(path, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'batches'").contains("batches_by_root"))
        #expect(Set(try rawQuery(path, "SELECT name FROM sqlite_schema WHERE type = 'table'"))
                    .isSuperset(of: ["batches", "transfers", "nullifiers", "leaves", "roots", "payouts", "settings"]))

        let reopened = try SQLiteLedger(path: path)
        #expect(try reopened.schemaVersion() == 5, "reopening runs no migration again")
        #expect(try reopened.batchNumber(ofRoot: fx.state.currentRoot) == 1)
        #expect(try reopened.batchNumber(ofRoot: fx.fr()) == nil)
        #expect(try reopened.counts() == LedgerCounts(batches: 1, transfers: 2, nullifiers: 4, leaves: 4, pendingPayouts: 0))
        let snapshot = try reopened.loadSnapshot(recentRootWindow: 100)
        #expect(try MerkleTree(leaves: snapshot.leaves).root == fx.state.currentRoot)
        #expect(snapshot.recentHeaders.last?.root == fx.state.currentRoot)
        #expect(try reopened.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    @Test func aFileFromANewerBuildIsRefused() throws {
        let path = try temporaryLedgerPath()
        _ = try SQLiteLedger(path: path)
        try rawSQL(path, "PRAGMA user_version = 7")
        #expect(throws: LedgerError.schemaTooNew(found: 7, supported: 5)) { try SQLiteLedger(path: path) }
        #expect(throws: LedgerError.schemaTooNew(found: 7, supported: 5)) { try SQLiteLedger(path: path, readOnly: true) }
    }

    /// A file of schema version 4 (before stored frontiers, issue 16) migrates: its batches keep
    /// no frontier, so a writer catching up over them replays their leaves; each new batch
    /// stores one, and a writer catching up over it takes the frontier instead.
    @Test func aVersion4FileGainsFrontiersForItsNewBatchesOnly() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-v4")
        do {
            let ledger = try SQLiteLedger(path: path)
            try ledger.commit(fx.commitBatch(3))
        }
        try downgradeLedger(path, toSchema: 4)
        let old = try SQLiteLedger(path: path, readOnly: true)
        #expect(try old.changes(after: 0).frontier == nil && (try old.changes(after: 0).leaves.count) == 6, "a read-only v4 file answers with leaves")
        let migrated = try SQLiteLedger(path: path)
        #expect(try migrated.schemaVersion() == 5)
        #expect(try rawQuery(path, "SELECT frontier IS NULL FROM batches") == ["1"])
        let before = try migrated.changes(after: 0)
        #expect(before.frontier == nil && before.leaves.map(\.index) == Array(0..<6))
        let next = fx.commitBatch(2)
        try migrated.commit(next)
        let after = try migrated.changes(after: 0)
        #expect(after.frontier == fx.state.tree.frontier && after.leaves.isEmpty)
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    /// A file of schema version 1 (before the index of batch roots) gains the index when the
    /// server opens it, and keeps its data.
    @Test func aVersion1FileIsMigratedToTheRootIndex() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-v1")
        do {
            let ledger = try SQLiteLedger(path: path)
            try ledger.commit(fx.batch([fx.transfer()]).0!)
        }
        try downgradeLedger(path, toSchema: 1)
        let old = try SQLiteLedger(path: path, readOnly: true)
        #expect(try old.schemaVersion() == 1)
        #expect(try old.batchNumber(ofRoot: fx.state.currentRoot) == 1, "a read-only v1 file answers, without the index")
        let migrated = try SQLiteLedger(path: path)
        #expect(try migrated.schemaVersion() == 5)
        #expect(try rawQuery(path, "SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'batches_by_root'") == ["batches_by_root"])
        #expect(try migrated.counts().transfers == 1)
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    /// A file of schema version 2 settled deposits under the retired deposit token, with no
    /// voucher: it migrates, its old deposits stay sound, and every later deposit needs one.
    @Test func aVersion2FileIsMigratedToVouchersAndKeepsItsTokenEraDeposits() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-v2")
        do {
            let ledger = try SQLiteLedger(path: path)
            try ledger.commit(fx.batch([fx.transfer(extAmount: 70), fx.transfer()]).0!)
        }
        // What a version-2 file holds: the deposit, no voucher tables.
        try downgradeLedger(path, toSchema: 2)
        let old = try SQLiteLedger(path: path, readOnly: true)
        #expect(try old.counts().vouchersUsed == 0 && old.usedVoucher(nonce: [UInt8](repeating: 0, count: 16)) == nil,
                "a read-only schema-2 file reads without voucher tables")
        #expect(try old.audit(receiptPublicKey: fx.key.publicKey) == [])
        let migrated = try SQLiteLedger(path: path)
        #expect(try migrated.schemaVersion() == 5)
        #expect(try rawQuery(path, "SELECT first_batch FROM voucher_era") == ["2"])
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: fx.depositKey.publicKey) == [])
        // A later deposit carries its voucher, recorded in its batch, signed by the deposit key.
        let (batch, _) = fx.batch([fx.transfer(extAmount: 30)])
        let voucher = try #require(batch?.vouchers.first?.voucher)
        try migrated.commit(batch!)
        #expect(try migrated.usedVoucher(nonce: voucher.nonce)?.batch == 2)
        #expect(try migrated.counts().vouchersUsed == 1)
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: fx.depositKey.publicKey) == [])
        // Another deposit key did not sign it: the audit says so.
        let other = try migrated.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: Ed25519Key.generate().publicKey)
        #expect(other.map(\.kind) == [.voucher], "\(other)")
        // The era starts once.
        #expect(throws: (any Error).self) { try rawSQL(path, "UPDATE voucher_era SET first_batch = 1") }
        #expect(throws: (any Error).self) { try rawSQL(path, "INSERT INTO voucher_era VALUES (1)") }
    }

    /// The ledger refuses a deposit without its voucher, a voucher for another amount and a
    /// voucher used before, and writes nothing of such a batch.
    @Test func aDepositNeedsItsOwnUnusedVoucher() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-vouchers")
        let ledger = try SQLiteLedger(path: path)
        let (first, _) = fx.batch([fx.transfer(extAmount: 40)])
        let used = try #require(first?.vouchers.first)
        try ledger.commit(first!)
        let before = try ledger.counts()

        var (missing, _) = fx.batch([fx.transfer(extAmount: 5)])
        missing!.vouchers = []
        #expect(throws: LedgerError.self) { try ledger.commit(missing!) }
        fx.state = try SequencerState(snapshot: try ledger.loadSnapshot(recentRootWindow: 100))

        var (wrong, _) = fx.batch([fx.transfer(extAmount: 5)])
        wrong!.vouchers[0].voucher = DepositVoucher.issue(amount: 6, expiresAt: 4_000_000_000, key: fx.depositKey)
        #expect(throws: LedgerError.self) { try ledger.commit(wrong!) }
        fx.state = try SequencerState(snapshot: try ledger.loadSnapshot(recentRootWindow: 100))

        // The sequencer refuses a used voucher (it knows the used ones from the snapshot) …
        var reuse = fx.transfer(extAmount: 40)
        reuse.request.voucher = used.voucher
        let (none, decisions) = fx.batch([reuse])
        #expect(none == nil)
        guard case .rejected(.voucherUsed(let id)) = decisions[0] else { Issue.record("\(decisions)"); return }
        #expect(id == used.voucher.id)
        // … and the ledger would too, whatever a faulty sequencer sent.
        var (forced, _) = fx.batch([fx.transfer(extAmount: 40)])
        forced!.vouchers[0].voucher = used.voucher
        #expect(throws: LedgerError.voucherAlreadyUsed(used.voucher.id)) { try ledger.commit(forced!) }
        #expect(try ledger.counts() == before)
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: fx.depositKey.publicKey) == [])
    }

    @Test func readOnlyNeverMigrates() throws {
        let path = try temporaryLedgerPath()
        #expect(throws: LedgerError.noLedger(path: path)) { try SQLiteLedger(path: path, readOnly: true) }  // no file yet
        try rawSQL(path, "CREATE TABLE unrelated (x INTEGER)")
        #expect(throws: LedgerError.noLedger(path: path)) { try SQLiteLedger(path: path, readOnly: true) }  // no schema
        #expect(try rawQuery(path, "PRAGMA user_version") == ["0"], "the read-only open created nothing")
    }

    @Test func everyRecordRoundTrips() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-roundtrip")
        let items = [fx.transfer(), fx.transfer(extAmount: -250, fee: 5, recipient: "iban:DE00 1234 ü"), fx.transfer(extAmount: 900)]
        let (commit, decisions) = fx.batch(items)
        let batch = try #require(commit)
        try ledger.commit(batch)

        for settled in batch.transfers {
            #expect(try ledger.settledTransfer(settled.id) == settled)
            #expect(try ledger.settledTransfer(settled.id)?.receipt.verify(publicKey: fx.key.publicKey) == true)
        }
        #expect(try ledger.settledTransfer(TransferID(bytes: [UInt8](repeating: 7, count: 32))) == nil)
        #expect(decisions.count == 3)
        // Fees accrue from the stored external data (a recipient of multi-byte UTF-8 before
        // the fee, so its length is read, not assumed).
        #expect(try ledger.counts().feesAccrued == 5)
        #expect(try ledger.batchHeader(1) == batch.header)
        #expect(try ledger.batchHeaders(from: 1, limit: 10) == [batch.header])
        #expect(try ledger.storedBatchHash(1) == batch.header.hash)
        #expect(try ledger.batchHeader(2) == nil)
        for n in batch.nullifiers { #expect(try ledger.nullifier(n.nullifier) == n) }
        #expect(try ledger.nullifier(fx.fr()) == nil)
        #expect(try ledger.leaves(from: 0, limit: 100) == batch.leaves)
        #expect(try ledger.leaves(from: 4, limit: 1) == [batch.leaves[4]])
        // Within a batch, nullifiers are listed by value (the order of their index).
        let byValue = batch.nullifiers.sorted { $0.nullifier.bigEndianBytes.lexicographicallyPrecedes($1.nullifier.bigEndianBytes) }
        #expect(try ledger.nullifiers(batch: 1, limit: 100) == byValue)
        #expect(try ledger.nullifiers(limit: 2, offset: 1) == Array(byValue[1...2]))
        #expect(try ledger.nullifiers(since: fx.clock, limit: 100).count == 6)
        #expect(try ledger.nullifiers(since: fx.clock + 1, limit: 100).isEmpty)
        #expect(try ledger.nullifiers(batch: 2, limit: 100).isEmpty)
        #expect(try ledger.storedRoots().map(\.root) == [batch.header.root])

        let payouts = try ledger.payouts(pendingOnly: true)
        #expect(payouts.count == 1)
        #expect(payouts[0].amount == 250 && payouts[0].recipient == "iban:DE00 1234 ü" && payouts[0].status == .pending)
        #expect(payouts[0].transferID == batch.transfers[1].id && payouts[0].createdAt == batch.header.createdAt && payouts[0].paidAt == nil)
        #expect(try ledger.counts().pendingPayouts == 1)
        #expect(try ledger.markPayoutPaid(payouts[0].id, at: 42))
        #expect(try !ledger.markPayoutPaid(payouts[0].id, at: 43), "a payout is paid once")
        #expect(try !ledger.markPayoutPaid(999, at: 43), "no such payout")
        #expect(try ledger.payouts(pendingOnly: true).isEmpty)
        #expect(try ledger.payouts(pendingOnly: false).first?.paidAt == 42)
        #expect(try ledger.payouts(pendingOnly: false).first?.status == .paid)
        #expect(try ledger.integrityCheck().isEmpty)
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    @Test func aSpentNullifierIsRefusedAndNothingOfTheBatchIsWritten() throws {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path)
        var fx = try LedgerFixture(label: "ledger-double")
        let first = fx.transfer()
        try ledger.commit(fx.batch([first]).0!)
        let before = try ledger.counts()

        // A second batch, made from a state that did not know the nullifier was spent (as if the
        // sequencer were wrong): the ledger's primary key refuses it, and writes nothing, though
        // its header, first transfer and leaves were written before the nullifier conflicted.
        let snap = try ledger.loadSnapshot(recentRootWindow: 100)
        var stale = try LedgerFixture(label: "ledger-double-stale",
                                      snapshot: LedgerSnapshot(leaves: snap.leaves, spentNullifiers: [], recentHeaders: snap.recentHeaders))
        let spent = first.request.publicInputs.nullifiers[1]
        let conflicting = stale.transfer(nullifiers: Pair(stale.nullifier(), spent))
        let (commit, _) = stale.batch([stale.transfer(), conflicting])
        #expect(throws: LedgerError.nullifierAlreadySpent(spent)) { try ledger.commit(commit!) }
        #expect(try ledger.counts() == before)
        #expect(try ledger.batchHeader(2) == nil)
        #expect(try ledger.audit() == [])

        // The same ledger still takes the right next batch.
        try ledger.commit(fx.batch([fx.transfer()]).0!)
        #expect(try ledger.counts().batches == 2)
    }

    @Test func aNullifierTwiceInOneBatchIsRefusedAndNothingIsWritten() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-double-in-batch")
        try ledger.commit(fx.batch([fx.transfer()]).0!)
        let before = try ledger.counts()
        var batch = fx.batch([fx.transfer(), fx.transfer()]).0!
        let twice = batch.nullifiers[0].nullifier
        batch.nullifiers[3].nullifier = twice
        #expect(throws: LedgerError.duplicateNullifierInBatch(twice)) { try ledger.commit(batch) }
        #expect(try ledger.counts() == before)
    }

    @Test func aBatchThatDoesNotExtendTheChainIsRefused() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-chain")
        let (b1, _) = fx.batch([fx.transfer()])
        try ledger.commit(b1!)
        #expect(throws: LedgerError.batchOutOfOrder(expected: 2, got: 1)) { try ledger.commit(b1!) }  // same number again
        let before = try ledger.counts()

        // A header naming another previous hash (its records are otherwise consistent).
        var fork = fx
        var (b2, _) = fork.batch([fork.transfer()])
        b2!.header.previousHash = BatchHeader.genesisHash
        #expect(throws: LedgerError.previousHashMismatch(batch: 2)) { try ledger.commit(b2!) }

        // A batch that skips a number (batch 2 was made but never committed).
        _ = fx.batch([fx.transfer()])
        let (b3, _) = fx.batch([fx.transfer()])
        #expect(throws: LedgerError.batchOutOfOrder(expected: 2, got: 3)) { try ledger.commit(b3!) }

        // A header whose fields disagree with its receipts.
        var odd = fork.batch([fork.transfer()]).0!
        odd.header.number = 2
        #expect(throws: LedgerError.self) { try ledger.commit(odd) }
        #expect(try ledger.counts() == before)
    }

    @Test func leavesMustContinueAtTheStoredLeafCount() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-leaves")
        try ledger.commit(fx.batch([fx.transfer(), fx.transfer()]).0!)
        let before = try ledger.counts()
        // A sequencer state that lost the last two leaves but kept the headers: its next batch
        // extends the chain but reuses leaf indices 2 and 3.
        let snap = try ledger.loadSnapshot(recentRootWindow: 100)
        var stale = try LedgerFixture(label: "ledger-leaves-stale", snapshot: LedgerSnapshot(
            leaves: Array(snap.leaves.dropLast(2)), spentNullifiers: snap.spentNullifiers, recentHeaders: snap.recentHeaders))
        var item = stale.transfer()
        item.request.publicInputs.root = snap.recentHeaders.last!.root
        let commit = try #require(stale.batch([item]).0)
        #expect(commit.leaves.first?.index == 2)
        #expect(throws: LedgerError.leafAlreadyPresent(2)) { try ledger.commit(commit) }
        #expect(try ledger.counts() == before)
    }

    @Test func aTransferSettlesOnce() throws {
        let ledger = try SQLiteLedger(path: try temporaryLedgerPath())
        var fx = try LedgerFixture(label: "ledger-once")
        let t = fx.transfer()
        try ledger.commit(fx.batch([t]).0!)
        // The same transfer again in a later batch, from a state that forgot it.
        let snap = try ledger.loadSnapshot(recentRootWindow: 100)
        var stale = try LedgerFixture(label: "ledger-once-stale",
                                      snapshot: LedgerSnapshot(leaves: snap.leaves, spentNullifiers: [], recentHeaders: snap.recentHeaders))
        // Its root (the empty tree's) is still in the stale window, so the sequencer takes it.
        let commit = try #require(stale.batch([t]).0)
        #expect(throws: LedgerError.transferAlreadySettled(t.request.id)) { try ledger.commit(commit) }
        #expect(try ledger.counts().transfers == 1)
    }

    @Test func theSchemaItselfRefusesRewritingHistory() throws {
        let path = try temporaryLedgerPath()
        let ledger = try SQLiteLedger(path: path)
        var fx = try LedgerFixture(label: "ledger-schema")
        let batch = fx.commitBatch(3, withdrawalEvery: 2)
        try ledger.commit(batch)
        let nf = batch.nullifiers[0].nullifier.bigEndianBytes.map { String(format: "%02x", $0) }.joined()
        let attempts = [
            "UPDATE batches SET created_at = 0",
            "DELETE FROM batches",
            "UPDATE leaves SET commitment = zeroblob(32) WHERE leaf_index = 0",
            "DELETE FROM leaves WHERE leaf_index = 5",
            "DELETE FROM nullifiers",
            "UPDATE transfers SET status = 'settled'",
            "DELETE FROM transfers",
            "INSERT INTO nullifiers SELECT x'\(nf)', transfer_id, batch, spent_at + 1 FROM nullifiers LIMIT 1",
            "INSERT INTO leaves SELECT 9, commitment, encrypted_output, transfer_id, batch FROM leaves LIMIT 1",
            "INSERT INTO batches SELECT 7, hash, randomblob(32), root, leaf_count, 0, created_at FROM batches",
            "INSERT INTO batches SELECT 2, zeroblob(32), randomblob(32), root, leaf_count, 0, created_at FROM batches",
            "UPDATE payouts SET amount = amount + 1",
            "DELETE FROM payouts",
            "UPDATE payouts SET status = 'paid', paid_at = NULL",
            "DELETE FROM roots",
        ]
        for sql in attempts {
            #expect(throws: RawSQLError.self, "\(sql)") { try rawSQL(path, "PRAGMA foreign_keys = ON; " + sql) }
        }
        #expect(try ledger.markPayoutPaid(1, at: 5))
        #expect(throws: RawSQLError.self) { try rawSQL(path, "UPDATE payouts SET status = 'pending', paid_at = NULL") }
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey) == [])
    }

    @Test func readOnlyOpenReadsBesideAWriterAndCannotWrite() throws {
        let path = try temporaryLedgerPath()
        #expect(throws: LedgerError.self) { try SQLiteLedger(path: path, readOnly: true) }  // no file yet
        let writer = try SQLiteLedger(path: path)
        var fx = try LedgerFixture(label: "ledger-ro")
        try writer.commit(fx.batch([fx.transfer(extAmount: -5, recipient: "x")]).0!)
        let reader = try SQLiteLedger(path: path, readOnly: true)
        #expect(try reader.counts().transfers == 1)
        try writer.commit(fx.batch([fx.transfer(), fx.transfer()]).0!)
        #expect(try reader.counts().transfers == 3, "a reader sees later commits (WAL)")
        #expect(try reader.loadSnapshot(recentRootWindow: 100).leaves == fx.state.tree.leaves)
        #expect(try reader.audit(receiptPublicKey: fx.key.publicKey) == [])
        let (b, _) = fx.batch([fx.transfer()])
        #expect(throws: LedgerError.readOnly) { try reader.commit(b!) }
        #expect(throws: LedgerError.readOnly) { _ = try reader.markPayoutPaid(1, at: 1) }
        #expect(try reader.counts().transfers == 3)
        try writer.commit(b!)
        #expect(try reader.counts().transfers == 4)
    }

    @Test func manyBatchesRebuildTheSameTreeAndRootWindow() throws {
        let path = try temporaryLedgerPath()
        var fx = try LedgerFixture(label: "ledger-many")
        do {
            let ledger = try SQLiteLedger(path: path)
            for i in 0..<120 { try ledger.commit(fx.commitBatch(1 + i % 4, withdrawalEvery: 3)) }
        }
        let reopened = try SQLiteLedger(path: path)
        let snapshot = try reopened.loadSnapshot(recentRootWindow: 100)
        #expect(snapshot.leaves == fx.state.tree.leaves)
        #expect(Set(snapshot.spentNullifiers) == fx.state.spent)
        let state = try SequencerState(snapshot: snapshot)
        #expect(state.currentRoot == fx.state.currentRoot)
        #expect(state.rootWindow == fx.state.rootWindow)
        #expect(state.rootWindow.count == 100)
        #expect(state.lastHeader == fx.state.lastHeader)
        let stored = try reopened.storedRoots()
        #expect(stored.count == Int(SQLiteLedger.rootsKept))
        #expect(stored.map(\.root) == fx.state.rootWindow)
        #expect(stored.first?.batch == 21)
        #expect(try reopened.batchHeaders(from: 119, limit: 10).map(\.number) == [119, 120])
        #expect(try reopened.audit(receiptPublicKey: fx.key.publicKey) == [])

        // The reopened ledger takes the next batch from the rebuilt state.
        var next = fx
        next.state = state
        try reopened.commit(next.commitBatch(2))
        #expect(try reopened.counts().batches == 121)
    }
}
