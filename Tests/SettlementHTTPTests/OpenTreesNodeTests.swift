import BN254
import Foundation
import Ledger
import PostgresLedger
import Primitives
import Protocol
import Settlement
import TestSupport
import Wallet
import Testing

/// Nodes on a ledger of several open trees (issue 16, parallel trees), with real proofs on a
/// real PostgreSQL: each node writes whichever lane's lock is free, and the database decides
/// every race between lanes. A transfer settled in one lane and posted again to a node of
/// another gets its original receipt; many posted to two nodes at once each settle once.
@Suite(.serialized, .offCooperativePool) struct OpenTreesNodeTests {
    static let enabled = PostgresTestDatabase.url != nil

    /// A node of lane `lane` on the shared ledger at `url`, not started.
    static func service(_ url: String, receiptKey: Ed25519Key, lane: Int) throws -> SettlementService {
        var config = SettlementConfig()
        config.acceptDeposits(of: depositKey)
        config.flushMilliseconds = 2
        config.sharedLedger = true
        config.firstLane = lane
        return try SettlementService(config: config, ledger: try PostgresLedger(url: url, readers: 2), verifyingKey: Keys.verifyingKey,
                                     receiptKey: receiptKey)
    }

    static func node(_ url: String, receiptKey: Ed25519Key, lane: Int) throws -> SettlementService {
        let service = try service(url, receiptKey: receiptKey, lane: lane)
        service.start()
        return service
    }

    static func receipt(_ r: Result<SettledTransfer, Rejection>) -> Receipt? {
        if case .success(let t) = r { return t.receipt }
        return nil
    }

    @Test(.enabled(if: enabled)) func twoNodesWriteTwoLanesAndTheDatabaseDecidesEveryRace() async throws {
        let url = try PostgresTestDatabase.fresh()
        _ = try PostgresLedger(url: url, treeCapacity: 32, openTrees: 2, readers: 1)
        let receiptKey = Ed25519Key.generate()
        let a = try Self.node(url, receiptKey: receiptKey, lane: 0), b = try Self.node(url, receiptKey: receiptKey, lane: 1)
        let alice = Peer()
        let made = try (0..<14).map { i in try deposit(UInt64(10 + i), to: alice, root: SequencerState.emptyRoot) }
        let deposits = made.map(\.0)

        // Node A settles the first in lane 0; node B, which has not learned it, settles the
        // second in lane 1 (tree 1), then gets the first: its lane-1 batch collides in the
        // database with A's row, and B answers with A's receipt.
        let first = Self.receipt(await a.submit(deposits[0]))
        #expect(first?.batch == 1 && first?.tree == 0 && first?.leafIndices == [0, 1])
        let second = Self.receipt(await b.submit(deposits[1]))
        #expect(second?.batch == 2 && second?.tree == 1 && second?.leafIndices == [32, 33], "lane 1: batch 2, tree 1")
        let again = Self.receipt(await b.submit(deposits[0]))
        #expect(again != nil && again == first, "the receipt A gave, byte for byte")

        // The rest posted to both nodes at once: each settles once, both answers alike.
        let rest = Array(deposits[2...])
        let answers = await withTaskGroup(of: (Int, Int, Receipt?).self) { group in
            for (i, d) in rest.enumerated() {
                for (n, node) in [a, b].enumerated() { group.addTask { (i, n, Self.receipt(await node.submit(d))) } }
            }
            return await group.reduce(into: [(Int, Int, Receipt?)]()) { $0.append($1) }
        }
        for i in rest.indices {
            let both = answers.filter { $0.0 == i }.map(\.2)
            #expect(both.count == 2 && both[0] != nil && both[0] == both[1], "deposit \(i): \(both)")
        }

        // Two different transfers spending the first deposit's note (tree 0, position 0), one
        // to each node at once: one settles, the other is a double spend, whichever lanes
        // they were built in.
        let ledger = try PostgresLedger(url: url, readers: 1)
        let tree0 = try MerkleTree(leaves: try ledger.leaves(from: 0, below: 32, limit: 32).map(\.commitment))  // tree 1 starts at 32
        let note = SpendableNote(note: made[0].1[0], key: alice.key, leafIndex: 0, path: try tree0.path(0))
        let spends = try ["bank:one", "bank:two"].map { to in
            try Keys.prover.prove(inputs: [note], outputs: [alice.note(0), alice.note(0)],
                                  extData: ExtData(recipient: to, extAmount: -10, fee: 0, encryptedOutputs: ciphertexts()), root: tree0.root)
        }
        async let one = a.submit(spends[0])
        async let two = b.submit(spends[1])
        let outcomes = await [one, two]
        let settled = outcomes.filter { if case .success = $0 { return true } else { return false } }
        let doubled = outcomes.filter { if case .failure(.doubleSpend) = $0 { return true } else { return false } }
        #expect(settled.count == 1 && doubled.count == 1, "\(outcomes)")
        await a.shutdown()
        await b.shutdown()

        #expect(try ledger.counts().transfers == Int64(deposits.count + 1))
        #expect(try ledger.audit(receiptPublicKey: receiptKey.publicKey, depositPublicKey: depositKey.publicKey) == [])
        // A node started again learns every lane and settles on.
        let c = try Self.node(url, receiptKey: receiptKey, lane: 1)
        let late = try deposit(99, to: alice, root: SequencerState.emptyRoot).0
        #expect(Self.receipt(await c.submit(late)) != nil)
        #expect(Self.receipt(await c.submit(deposits[5])) == answers.first { $0.0 == 3 }?.2, "a settled transfer of either lane: its receipt")
        await c.shutdown()
        #expect(try ledger.audit(receiptPublicKey: receiptKey.publicKey, depositPublicKey: depositKey.publicKey) == [])
    }
}
