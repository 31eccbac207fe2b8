import BN254
import Foundation
import Ledger
import PostgresLedger
import Primitives
import Protocol
import SQLiteLedger
import Settlement
import TestSupport
import Testing

/// The ledger's contract, one test code for both engines (issue 16): each test runs on a new
/// SQLite file and, when `ZKSETTLE_TEST_DATABASE` names a PostgreSQL server (`.ci/run` starts
/// one and sets it), on a new PostgreSQL database.
enum Engine: String, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    static var all: [Engine] { PostgresTestDatabase.url == nil ? [.sqlite] : [.sqlite, .postgres] }
    /// The engines more than one writer can share.
    static var shared: [Engine] { PostgresTestDatabase.url == nil ? [] : [.postgres] }

    /// Where a new, empty ledger lives; `open` gives handles on it.
    func newStore() throws -> String {
        switch self {
        case .sqlite: return try temporaryLedgerPath()
        case .postgres: return try PostgresTestDatabase.fresh()
        }
    }

    func open(_ store: String, readOnly: Bool = false, treeCapacity: Int? = nil, openTrees: Int? = nil) throws -> any Ledger {
        switch self {
        case .sqlite: return try SQLiteLedger(path: store, readOnly: readOnly, treeCapacity: treeCapacity)
        case .postgres: return try PostgresLedger(url: store, readOnly: readOnly, treeCapacity: treeCapacity, openTrees: openTrees, readers: 2)
        }
    }
}

@Suite struct LedgerContractTests {
    @Test(arguments: Engine.all) func recordsRoundTripAndTheAuditIsClean(engine: Engine) throws {
        let store = try engine.newStore()
        let ledger = try engine.open(store)
        var fx = try LedgerFixture(label: "contract-roundtrip")
        #expect(try ledger.counts() == LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0, vouchersUsed: 0))
        let b1 = fx.batch([fx.transfer(), fx.transfer(extAmount: 70), fx.transfer(extAmount: -40, fee: 3, recipient: "acct:7")]).0!
        try ledger.commit(b1)
        let b2 = fx.commitBatch(4, withdrawalEvery: 2)
        try ledger.commit(b2)

        let counts = try ledger.counts()
        #expect(counts == LedgerCounts(batches: 2, transfers: 7, nullifiers: 14, leaves: 14, pendingPayouts: 3, vouchersUsed: 1, feesAccrued: 3 + 3 + 3))
        for t in b1.transfers + b2.transfers { #expect(try ledger.settledTransfer(t.id) == t) }
        #expect(try ledger.batchHeader(1) == b1.header)
        #expect(try ledger.batchHeaders(from: 1, limit: 10) == [b1.header, b2.header])
        #expect(try ledger.batchNumber(ofRoot: b2.header.root) == 2)
        #expect(try ledger.batchNumber(ofRoot: fx.fr()) == nil)
        #expect(try ledger.leaves(from: 0, limit: 100) == b1.leaves + b2.leaves)
        #expect(try ledger.leafCommitments(from: 6, limit: 3) == (b1.leaves + b2.leaves)[6..<9].map(\.commitment))
        let nf = b2.nullifiers[3]
        #expect(try ledger.nullifier(nf.nullifier) == nf)
        #expect(try ledger.nullifiers(batch: 2, since: nil, limit: 100, offset: 0).count == 8)
        #expect(try ledger.spends(from: 1, limit: 3).map(\.nullifier) == (b1.nullifiers.map(\.nullifier))[1..<4].map { $0 })
        let voucher = b1.vouchers[0]
        #expect(try ledger.usedVoucher(nonce: voucher.voucher.nonce) == voucher)

        let pending = try ledger.payouts(pendingOnly: true)
        #expect(pending.map(\.amount) == [40, 100, 102])
        // A withdrawal's payout by its transfer (the settlement answer names it); none for others.
        for p in pending { #expect(try ledger.payoutID(forTransfer: p.transferID) == p.id) }
        #expect(try ledger.payoutID(forTransfer: b1.vouchers[0].transferID) == nil)
        #expect(try ledger.markPayoutPaid(pending[0].id, at: 5))
        #expect(try !ledger.markPayoutPaid(pending[0].id, at: 6), "paid once")
        #expect(try ledger.payouts(pendingOnly: true).count == 2)

        let snapshot = try ledger.loadSnapshot(recentRootWindow: 100)
        #expect(try MerkleTree(leaves: snapshot.leaves).root == b2.header.root)
        // The open tree as the last batch's stored frontier (issue 16): no leaf read, and the
        // state started from it settles the next batch exactly as one started from the leaves.
        let fromFrontier = try ledger.loadSnapshot(recentRootWindow: 100, treeFromFrontier: true)
        #expect(fromFrontier.frontier == b2.frontier && fromFrontier.leaves.isEmpty && fromFrontier.treeLeafCount == snapshot.leaves.count)
        var started = try SequencerState(snapshot: fromFrontier), replayed = try SequencerState(snapshot: snapshot)
        #expect(!started.tree.holdsAllNodes && started.currentRoot == b2.header.root)
        let next = [fx.transfer(), fx.transfer()]
        #expect(started.apply(next, now: fx.clock + 1, key: fx.key).commit?.header == replayed.apply(next, now: fx.clock + 1, key: fx.key).commit?.header)
        #expect(snapshot.recentHeaders == [b1.header, b2.header])
        #expect(Set(snapshot.spentNullifiers) == Set((b1.nullifiers + b2.nullifiers).map(\.nullifier)))

        let changes = try ledger.changes(after: 1)
        #expect(changes.headers == [b2.header])
        // The last batch's tree as its stored frontier, not its leaves (issue 16).
        #expect(b2.frontier != nil && changes.frontier == b2.frontier)
        #expect(changes.leaves.isEmpty)
        #expect(Set(changes.nullifiers) == Set(b2.nullifiers.map(\.nullifier)))
        #expect(try ledger.changes(after: 2).headers.isEmpty)

        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: fx.depositKey.publicKey) == [])
        let reader = try engine.open(store, readOnly: true)
        #expect(try reader.counts() == (try ledger.counts()))
        #expect(throws: LedgerError.readOnly) { try reader.commit(fx.commitBatch(1)) }
    }

    @Test(arguments: Engine.all) func aSpentNullifierIsRefusedAndNothingOfTheBatchIsWritten(engine: Engine) throws {
        let ledger = try engine.open(try engine.newStore())
        var fx = try LedgerFixture(label: "contract-double")
        let first = fx.transfer()
        try ledger.commit(fx.batch([first]).0!)
        let before = try ledger.counts()
        let snap = try ledger.loadSnapshot(recentRootWindow: 100)
        var stale = try LedgerFixture(label: "contract-double-stale",
                                      snapshot: LedgerSnapshot(leaves: snap.leaves, spentNullifiers: [], recentHeaders: snap.recentHeaders))
        let spent = first.request.publicInputs.nullifiers[1]
        let (commit, _) = stale.batch([stale.transfer(), stale.transfer(nullifiers: Pair(stale.nullifier(), spent))])
        #expect(throws: LedgerError.nullifierAlreadySpent(spent)) { try ledger.commit(commit!) }
        #expect(try ledger.counts() == before)
        #expect(try ledger.batchHeader(2) == nil)
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
        try ledger.commit(fx.batch([fx.transfer()]).0!)
        #expect(try ledger.counts().batches == 2)
    }

    @Test(arguments: Engine.all) func aBatchThatDoesNotExtendTheChainIsRefused(engine: Engine) throws {
        let ledger = try engine.open(try engine.newStore())
        var fx = try LedgerFixture(label: "contract-chain")
        let b1 = fx.batch([fx.transfer()]).0!
        try ledger.commit(b1)
        #expect(throws: LedgerError.batchOutOfOrder(expected: 2, got: 1)) { try ledger.commit(b1) }
        var b2 = fx.batch([fx.transfer()]).0!
        b2.header.previousHash = BatchHeader.genesisHash
        #expect(throws: LedgerError.self) { try ledger.commit(b2) }
        #expect(try ledger.counts().batches == 1)
    }

    @Test(arguments: Engine.all) func theTreeCapacityIsFixedWhenTheLedgerIsMade(engine: Engine) throws {
        let store = try engine.newStore()
        _ = try engine.open(store, treeCapacity: 64)
        #expect(try engine.open(store).treeCapacity == 64)
        #expect(throws: LedgerError.treeCapacity(stored: 64, requested: 128)) { try engine.open(store, treeCapacity: 128) }
    }

    /// Two nodes on one ledger (issue 16): each builds its batch under the writer lock after
    /// learning what the other committed, so the chain never forks, the database's order decides
    /// which of two transfers spending one note settles, and every root stays an anchor.
    @Test(arguments: Engine.shared) func twoWritersShareOneLedgerThroughTheWriterLock(engine: Engine) throws {
        let store = try engine.newStore()
        let nodeA = try engine.open(store, treeCapacity: 32), nodeB = try engine.open(store)
        var a = try LedgerFixture(label: "contract-node-a", snapshot: try nodeA.loadSnapshot(recentRootWindow: 100))
        var b = try LedgerFixture(label: "contract-node-b", snapshot: try nodeB.loadSnapshot(recentRootWindow: 100))
        let shared = a.nullifier()

        // A settles a transfer spending `shared`; B, behind, tries to spend it too.
        let fromA = a.transfer(nullifiers: Pair(a.nullifier(), shared))
        try nodeA.commit(after: { last in
            #expect(last == 0)
            return a.batch([fromA]).0
        })
        var decisions: [Decision] = []
        try nodeB.commit(after: { last in
            #expect(last == 1)
            try b.state.catchUp(try nodeB.changes(after: b.state.lastHeader?.number ?? 0))
            let items = [b.transfer(), b.transfer(nullifiers: Pair(b.nullifier(), shared))]
            let r = b.batch(items)
            decisions = r.1
            return r.0
        })
        guard case .settled = decisions[0], case .rejected(.doubleSpend(shared)) = decisions[1] else {
            Issue.record("expected the first to settle and the second to be a double spend, got \(decisions)"); return
        }
        // Many rounds from both, across tree rollovers (32 leaves a tree).
        for round in 0..<12 {
            for (ledger, fx) in [(nodeA, 0), (nodeB, 1)] {
                try ledger.commit(after: { _ in
                    if fx == 0 {
                        try a.state.catchUp(try ledger.changes(after: a.state.lastHeader?.number ?? 0))
                        return a.batch((0..<(1 + round % 3)).map { _ in a.transfer() }).0
                    }
                    try b.state.catchUp(try ledger.changes(after: b.state.lastHeader?.number ?? 0))
                    return b.batch((0..<(1 + round % 4)).map { _ in b.transfer() }).0
                })
            }
        }
        let counts = try nodeA.counts()
        #expect(counts.batches == 26)
        #expect(counts.leaves > 64, "the trees rolled over at least twice")
        #expect(!a.state.tree.holdsAllNodes && !b.state.tree.holdsAllNodes, "both learned the other's batches from stored frontiers")
        #expect(try nodeB.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
        let reloaded = try SequencerState(snapshot: try nodeB.loadSnapshot(recentRootWindow: 100))
        try a.state.catchUp(try nodeA.changes(after: a.state.lastHeader?.number ?? 0))
        #expect(reloaded.currentRoot == a.state.currentRoot)
        #expect(reloaded.treeNumber == a.state.treeNumber)
    }

    /// Nodes commit at once from many threads: the writer lock serializes them, every batch
    /// extends the chain, and no nullifier is spent twice.
    @Test(arguments: Engine.shared) func concurrentWritersNeverForkTheChain(engine: Engine) async throws {
        let store = try engine.newStore()
        _ = try engine.open(store, treeCapacity: 1024)  // no rollover here: the test above rolls over
        let nodes = 4, rounds = 6
        var sharedSource = try LedgerFixture(label: "contract-concurrent-shared")
        let shared = sharedSource.nullifier()
        let outcomes = try await withThrowingTaskGroup(of: [Decision].self) { group in
            for n in 0..<nodes {
                group.addTask {
                    try await offCooperativePool {
                        let ledger = try engine.open(store)
                        var fx = try LedgerFixture(label: "contract-concurrent-\(n)", snapshot: try ledger.loadSnapshot(recentRootWindow: 100))
                        var all: [Decision] = []
                        for r in 0..<rounds {
                            try ledger.commit(after: { _ in
                                try fx.state.catchUp(try ledger.changes(after: fx.state.lastHeader?.number ?? 0))
                                var items = [fx.transfer(), fx.transfer()]
                                if r == 0 { items.append(fx.transfer(nullifiers: Pair(fx.nullifier(), shared))) }
                                let (commit, decisions) = fx.batch(items)
                                all += decisions
                                return commit
                            })
                        }
                        return all
                    }
                }
            }
            var out: [[Decision]] = []
            for try await d in group { out.append(d) }
            return out
        }
        let ledger = try engine.open(store)
        let settledShared = outcomes.flatMap { $0 }.filter {
            if case .settled(let t) = $0 { return t.publicInputs.nullifiers.contains(shared) }
            return false
        }
        #expect(settledShared.count == 1, "exactly one of the \(nodes) spends of one note settles")
        #expect(try ledger.counts().batches == Int64(nodes * rounds))
        #expect(try ledger.counts().transfers == Int64(nodes * rounds * 2 + 1))
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
    }

    /// The PostgreSQL schema refuses by itself what the SQLite schema refuses: rewriting or
    /// deleting history, a gap in the leaves, a row in another transfer's batch, a nullifier twice.
    @Test(arguments: Engine.shared) func theSchemaItselfRefusesRewritingHistory(engine: Engine) throws {
        let store = try engine.newStore()
        let ledger = try engine.open(store)
        var fx = try LedgerFixture(label: "contract-schema")
        let b1 = fx.batch([fx.transfer(extAmount: -5, fee: 1, recipient: "acct:1"), fx.transfer()]).0!
        try ledger.commit(b1)
        let id = "'\\x\(Hex.encode(b1.transfers[0].id.bytes))'"
        let refused = [
            "UPDATE batches SET created_at = 0",
            "DELETE FROM transfers",
            "UPDATE leaves SET batch = 7",
            "DELETE FROM nullifiers",
            "TRUNCATE nullifiers CASCADE",
            "UPDATE settings SET value = 32",
            "DELETE FROM payouts",
            "UPDATE payouts SET amount = 1",
            // A leaf after a gap, a leaf of another batch, a nullifier spent again.
            "INSERT INTO leaves VALUES (9, '\\x\(String(repeating: "00", count: 32))', '\\x00', \(id), 1)",
            "INSERT INTO leaves VALUES (4, '\\x\(String(repeating: "00", count: 32))', '\\x00', \(id), 2)",
            "INSERT INTO nullifiers VALUES ('\\x\(Hex.encode(b1.nullifiers[0].nullifier.bigEndianBytes))', \(id), 1, 0)",
        ]
        for sql in refused {
            #expect(throws: (any Error).self, "\(sql)") { try PostgresTestDatabase.execute(store, sql) }
        }
        // The one write outside settlement: a payout pending → paid, once.
        try PostgresTestDatabase.execute(store, "UPDATE payouts SET status = 'paid', paid_at = 1")
        #expect(throws: (any Error).self) { try PostgresTestDatabase.execute(store, "UPDATE payouts SET status = 'pending', paid_at = NULL") }
        #expect(try ledger.counts().transfers == 2)
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: nil) == [])
    }

    /// A database of schema 1 (before stored frontiers) migrates at the next start: its batches
    /// keep no frontier, so a node catching up over them replays their leaves; each new batch
    /// stores one, and catching up over it takes the frontier instead.
    @Test(arguments: Engine.shared) func aSchema1DatabaseGainsFrontiersForItsNewBatchesOnly(engine: Engine) throws {
        let store = try engine.newStore()
        var fx = try LedgerFixture(label: "contract-pg-v1")
        try engine.open(store).commit(fx.commitBatch(3))
        try PostgresTestDatabase.execute(store, "ALTER TABLE batches DROP COLUMN lane")  // schema 3's column (and its index)
        try PostgresTestDatabase.execute(store, "ALTER TABLE batches DROP COLUMN frontier")
        try PostgresTestDatabase.execute(store, "DELETE FROM schema_migrations WHERE version > 1")
        let ledger = try engine.open(store)
        #expect(try PostgresTestDatabase.integer(store, "SELECT count(*) FROM batches WHERE frontier IS NULL") == 1)
        let before = try ledger.changes(after: 0)
        #expect(before.frontier == nil && before.leaves.map(\.index) == Array(0..<6))
        try ledger.commit(fx.commitBatch(2))
        let after = try ledger.changes(after: 0)
        #expect(after.frontier == fx.state.tree.frontier && after.leaves.isEmpty)
        #expect(try ledger.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: nil) == [])
    }

    /// Nodes that start together migrate once: each step runs under the advisory lock, and a
    /// node that comes second finds it applied.
    @Test(arguments: Engine.shared) func nodesStartingTogetherMigrateOnce(engine: Engine) async throws {
        let store = try engine.newStore()
        let capacities = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask { try await offCooperativePool { try engine.open(store, treeCapacity: 64).treeCapacity } }
            }
            var out: [Int] = []
            for try await c in group { out.append(c) }
            return out
        }
        #expect(capacities == Array(repeating: 64, count: 6))
        let ledger = try engine.open(store)
        var fx = try LedgerFixture(label: "contract-migrate-once", snapshot: try ledger.loadSnapshot(recentRootWindow: 100))
        try ledger.commit(fx.batch([fx.transfer()]).0!)
        #expect(try ledger.counts().batches == 1)
        // Each step applied once, all of them.
        #expect(try PostgresTestDatabase.integer(store, "SELECT count(*) FROM schema_migrations") == PostgresLedger.supportedSchemaVersion)
        #expect(try PostgresTestDatabase.integer(store, "SELECT count(DISTINCT version) FROM schema_migrations") == PostgresLedger.supportedSchemaVersion)
        #expect(try PostgresTestDatabase.integer(store, "SELECT count(*) FROM settings WHERE name = 'tree_capacity'") == 1)
    }
}
