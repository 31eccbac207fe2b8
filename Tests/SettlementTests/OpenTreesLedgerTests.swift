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

/// A ledger of several open trees (issue 16, `OpenTrees`): K lanes, each with its own chain,
/// writer lock and trees, committing at once into one PostgreSQL database, with nullifiers
/// unique across all of them.
@Suite struct OpenTreesLedgerTests {
    static let capacity = 32

    /// The writer of lane `lane` of `k`, from an empty lane.
    static func laneFixture(_ label: String, lane: Int, of k: Int) throws -> LedgerFixture {
        try LedgerFixture(label: "\(label)-\(lane)", snapshot: LedgerSnapshot(tree: Int64(lane), treeCapacity: capacity, leaves: [], spentNullifiers: [],
                                                                             recentHeaders: []), lane: lane, openTrees: k)
    }

    @Test func lanesAreNumberedAndTheirTreesFollowEachOther() {
        #expect((1...9).map { OpenTrees.lane(ofBatch: Int64($0), openTrees: 3) } == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        #expect(OpenTrees.nextBatch(after: nil, lane: 2, openTrees: 3) == 3)
        #expect(OpenTrees.nextBatch(after: 3, lane: 2, openTrees: 3) == 6)
        #expect(OpenTrees.nextBatch(after: 7, lane: 0, openTrees: 1) == 8, "one open tree: the one chain 1, 2, 3, …")
        #expect(OpenTrees.lane(ofTree: 7, openTrees: 3) == 1)
        #expect(OpenTrees.problem(0) != nil && OpenTrees.problem(65) != nil && OpenTrees.problem(16) == nil)
    }

    /// Three lanes written in turn and across tree rollovers: each lane's chain and trees
    /// follow on, the audit is clean, and a lane's batch in another lane is refused.
    @Test(arguments: Engine.shared) func threeLanesKeepThreeChainsAndTheirTrees(engine: Engine) throws {
        let store = try engine.newStore()
        let ledger = try engine.open(store, treeCapacity: Self.capacity, openTrees: 3)
        #expect(ledger.openTrees == 3)
        var lanes = try (0..<3).map { try Self.laneFixture("open-trees-turns", lane: $0, of: 3) }
        var committed: [Int: [Int64]] = [:]
        for round in 0..<14 {
            for l in [round % 3, (round + 1) % 3, (round + 2) % 3] where !(l == 2 && round % 4 == 1) {
                let batch = lanes[l].batch((0..<(1 + (round + l) % 4)).map { _ in lanes[l].transfer() }).0!
                try ledger.commit(lane: l, after: { last in
                    #expect(last == committed[l]?.last ?? 0)
                    return batch
                })
                committed[l, default: []].append(batch.header.number)
            }
        }
        for l in 0..<3 {
            let numbers = committed[l]!
            #expect(numbers == numbers.indices.map { Int64(l + 1 + 3 * $0) }, "lane \(l): \(l + 1), \(l + 4), …")
            #expect(lanes[l].state.treeNumber >= Int64(l + 3), "lane \(l) rolled over into its next tree")
            #expect(lanes[l].state.treeNumber % 3 == Int64(l))
        }
        #expect(try ledger.audit(receiptPublicKey: lanes[0].key.publicKey, depositPublicKey: nil).filter { $0.kind == .receiptSignature }.count > 0,
                "each lane signs with its own fixture key: the audit names the others' receipts")
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])

        // Lane 1's next batch offered to lane 0, and a lane that does not exist.
        let stray = lanes[1].batch([lanes[1].transfer()]).0!
        #expect(throws: LedgerError.self) { try ledger.commit(lane: 0, after: { _ in stray }) }
        #expect(throws: LedgerError.self) { try ledger.commit(lane: 3, after: { _ in stray }) }
        try ledger.commit(stray)  // its own lane, named by its number
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
        // Every tree's leaves are its own, from its first index; nothing is global but the keys.
        let leaves = try ledger.leaves(from: 0, limit: 10_000)
        #expect(Set(leaves.map { $0.index / Int64(Self.capacity) }).count >= 6)
    }

    /// The lanes commit at once, from three threads and three connections: every batch lands.
    @Test(arguments: Engine.shared) func lanesCommitAtOnce(engine: Engine) async throws {
        let store = try engine.newStore()
        _ = try engine.open(store, treeCapacity: Self.capacity, openTrees: 3)
        let rounds = 10
        let numbers = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for l in 0..<3 {
                group.addTask {
                    try await offCooperativePool {
                        let ledger = try engine.open(store)
                        var fx = try Self.laneFixture("open-trees-at-once", lane: l, of: 3)
                        var mine: [Int64] = []
                        for _ in 0..<rounds {
                            let batch = fx.batch([fx.transfer(), fx.transfer()]).0!
                            try ledger.commit(lane: l, after: { _ in batch })
                            mine.append(batch.header.number)
                        }
                        return mine
                    }
                }
            }
            var all: [Int64] = []
            for try await n in group { all += n }
            return all
        }
        #expect(numbers.sorted() == (1...Int64(3 * rounds)).map { $0 })
        let ledger = try engine.open(store)
        #expect(try ledger.counts().transfers == Int64(3 * rounds * 2))
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
    }

    /// A writer takes any free lane: with lane 0's lock held by another writer in the middle of
    /// its commit, `commit(anyOf: [0, 1])` writes in lane 1 at once instead of waiting.
    @Test(arguments: Engine.shared) func aWriterTakesAFreeLaneWhenItsOwnIsHeld(engine: Engine) throws {
        let store = try engine.newStore()
        let holder = try engine.open(store, treeCapacity: Self.capacity, openTrees: 2), other = try engine.open(store)
        final class Held: @unchecked Sendable {
            var fixture: LedgerFixture
            var error: Error?
            let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
            init(_ f: LedgerFixture) { fixture = f }
        }
        let held = Held(try Self.laneFixture("open-trees-free-lane", lane: 0, of: 2))
        Thread {
            do {
                try holder.commit(lane: 0, after: { _ in
                    held.inside.signal()
                    held.release.wait()
                    return held.fixture.batch([held.fixture.transfer()]).0
                })
            } catch { held.error = error }
            held.done.signal()
        }.start()
        held.inside.wait()
        // Were the other writer to wait for lane 0 after all, this lets the holder go after 20 s,
        // so that the test fails on its expectations instead of hanging.
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) { held.release.signal() }
        var one = try Self.laneFixture("open-trees-free-lane", lane: 1, of: 2)
        var asked: [Int] = []
        try other.commit(anyOf: [0, 1], after: { lane, last in
            asked.append(lane)
            #expect(last == 0)
            return lane == 1 ? one.batch([one.transfer()]).0 : nil
        })
        #expect(asked == [1], "lane 0 was busy: only lane 1 was prepared")
        #expect(try other.counts().batches == 1 && other.batchHeader(2)?.tree == 1)
        held.release.signal()
        held.done.wait()
        #expect(held.error == nil)
        #expect(try other.counts().batches == 2)
        #expect(try other.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
    }

    /// Nullifiers stay unique across lanes in the committing transaction: a batch spending one
    /// another lane stored first is refused whole, and its lane's chain is unchanged.
    @Test(arguments: Engine.shared) func aNullifierSpentInAnotherLaneRefusesTheWholeBatch(engine: Engine) throws {
        let store = try engine.newStore()
        let ledger = try engine.open(store, treeCapacity: Self.capacity, openTrees: 2)
        var zero = try Self.laneFixture("open-trees-conflict", lane: 0, of: 2)
        var one = try Self.laneFixture("open-trees-conflict", lane: 1, of: 2)
        let shared = zero.nullifier()
        try ledger.commit(lane: 0, after: { _ in zero.batch([zero.transfer(nullifiers: Pair(zero.nullifier(), shared))]).0 })
        let before = try ledger.counts()
        let conflicting = one.batch([one.transfer(), one.transfer(nullifiers: Pair(one.nullifier(), shared))]).0!
        #expect(throws: LedgerError.nullifierAlreadySpent(shared)) { try ledger.commit(lane: 1, after: { _ in conflicting }) }
        #expect(try ledger.counts() == before)
        // The lane's writer starts again from what is stored (its state had applied the batch).
        one = try Self.laneFixture("open-trees-conflict-again", lane: 1, of: 2)
        try ledger.commit(lane: 1, after: { last in
            #expect(last == 0)
            return one.batch([one.transfer()]).0
        })
        #expect(try ledger.batchHeader(2)?.tree == 1)
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
    }

    /// The number of open trees is fixed for a ledger's life, and one made before it existed
    /// (batches, no setting) has one. A SQLite ledger has one.
    @Test(arguments: Engine.shared) func theNumberOfOpenTreesIsFixedWhenTheLedgerIsMade(engine: Engine) throws {
        let store = try engine.newStore()
        #expect(try engine.open(store, openTrees: 4).openTrees == 4)
        #expect(try engine.open(store).openTrees == 4)
        #expect(try engine.open(store, readOnly: true).openTrees == 4)
        #expect(throws: LedgerError.self) { try engine.open(store, openTrees: 2) }
        #expect(throws: LedgerError.self) { try engine.open(try engine.newStore(), openTrees: 0) }

        let old = try engine.newStore()
        var fx = try LedgerFixture(label: "open-trees-old")
        try engine.open(old).commit(fx.commitBatch(2))
        try PostgresTestDatabase.execute(old, "DELETE FROM schema_migrations WHERE version = 3")
        try PostgresTestDatabase.execute(old, "ALTER TABLE batches DROP COLUMN lane")
        // `settings` is append-only: a ledger from before open trees simply lacks the row.
        for sql in ["ALTER TABLE settings DISABLE TRIGGER USER", "DELETE FROM settings WHERE name = 'open_trees'", "ALTER TABLE settings ENABLE TRIGGER USER"] {
            try PostgresTestDatabase.execute(old, sql)
        }
        // Read-only (the admin tool before any node of this build migrated it): one lane, audited.
        let unmigrated = try engine.open(old, readOnly: true)
        #expect(unmigrated.openTrees == 1)
        #expect(try unmigrated.laneHeads() == [1])
        #expect(try unmigrated.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: nil) == [])
        #expect(throws: LedgerError.self) { try engine.open(old, openTrees: 2) }
        let migrated = try engine.open(old)
        #expect(migrated.openTrees == 1)
        try migrated.commit(fx.commitBatch(1))
        #expect(try migrated.audit(receiptPublicKey: fx.key.publicKey, depositPublicKey: nil) == [])

        let sqlite = try SQLiteLedger(path: try temporaryLedgerPath())
        var lone = try LedgerFixture(label: "open-trees-sqlite")
        #expect(sqlite.openTrees == 1)
        #expect(throws: LedgerError.self) { try sqlite.commit(lane: 1, after: { _ in lone.commitBatch(1) }) }
    }

    /// The schema refuses by itself a batch out of its lane's chain, a tree in the wrong lane,
    /// a leaf out of its tree's order, and a tree started before the lane's last is full; the
    /// audit names a batch stored in the wrong lane.
    @Test(arguments: Engine.shared) func theSchemaKeepsEachLaneInOrder(engine: Engine) throws {
        let store = try engine.newStore()
        let ledger = try engine.open(store, treeCapacity: Self.capacity, openTrees: 2)
        var zero = try Self.laneFixture("open-trees-schema", lane: 0, of: 2)
        var one = try Self.laneFixture("open-trees-schema", lane: 1, of: 2)
        let b1 = zero.batch([zero.transfer()]).0!
        try ledger.commit(b1)
        try ledger.commit(one.batch([one.transfer()]).0!)
        let zeros = "'\\x\(String(repeating: "00", count: 32))'"
        func header(_ number: Int, tree: Int, lane: Int, previous: String) -> String {
            "INSERT INTO batches (number, previous_hash, hash, tree, root, leaf_count, transfer_count, created_at, lane) VALUES (\(number), \(previous), '\\x\(String(repeating: "ab", count: 32))', \(tree), \(zeros), 0, 0, 0, \(lane))"
        }
        let id = "'\\x\(Hex.encode(b1.transfers[0].id.bytes))'"
        let refused = [
            header(5, tree: 0, lane: 0, previous: zeros),  // batch 3 of lane 0 is missing
            header(3, tree: 0, lane: 0, previous: zeros),  // not the hash of batch 1
            header(3, tree: 1, lane: 0, previous: "'\\x\(Hex.encode(b1.header.hash))'"),  // tree 1 is lane 1's
            header(3, tree: 0, lane: 1, previous: "'\\x\(Hex.encode(b1.header.hash))'"),  // batch 3 is lane 0's
            // A leaf past a gap in tree 0, and the first leaf of lane 0's next tree (2) before tree 0 is full.
            "INSERT INTO leaves VALUES (5, \(zeros), '\\x00', \(id), 1)",
            "INSERT INTO leaves VALUES (\(2 * Self.capacity), \(zeros), '\\x00', \(id), 1)",
        ]
        for sql in refused {
            #expect(throws: (any Error).self, "\(sql)") { try PostgresTestDatabase.execute(store, sql) }
        }
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])
        for sql in ["ALTER TABLE batches DISABLE TRIGGER USER", "UPDATE batches SET lane = 0 WHERE number = 2", "ALTER TABLE batches ENABLE TRIGGER USER"] {
            try PostgresTestDatabase.execute(store, sql)
        }
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil).map(\.kind) == [.batchNumbering])
    }
}
