import BN254
import Circuits
import Foundation
import Hummingbird
import HummingbirdTesting
import Ledger
import PostgresLedger
import Primitives
import Prometheus
import Protocol
import Settlement
import SettlementClient
import SettlementHTTP
import TestSupport
import Testing
import Wallet

/// Issue 16, point 3, the wallet's side: two nodes on loopback share a PostgreSQL ledger of two
/// open trees, each writing its own lane, and wallets pay each other through both with real
/// proofs. Each wallet pages every tree by position, checks each against its own batch root,
/// and spends notes of either tree, gathering them into one tree when a payment needs both.
@Suite(.serialized, .offCooperativePool) struct OpenTreesWalletTests {
    static let enabled = PostgresTestDatabase.url != nil

    /// A node of lane `lane` on the ledger at `url`, behind a live HTTP server, for `body`.
    static func withNode<T: Sendable>(_ url: String, lane: Int, receiptKey: Ed25519Key, provingKey: String,
                                      _ body: @Sendable (String, SettlementService) async throws -> T) async throws -> T {
        let service = try OpenTreesNodeTests.service(url, receiptKey: receiptKey, lane: lane)
        let api = SettlementAPI(
            service: service,
            parameters: PublicParameters(circuitID: TransferCircuit.circuitID, verifyingKey: Keys.verifyingKey,
                                         receiptPublicKey: receiptKey.publicKey, provingKeyPath: provingKey, developmentKeys: true),
            adminToken: adminToken, registry: PrometheusCollectorRegistry(), depositKey: depositKey)
        let app = Application(router: api.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              services: [SettlementLifecycle(service: service)])
        return try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)", service) }
    }

    static func wallet(_ dir: URL, _ name: String, server: String) throws -> PeerWallet {
        let d = dir.appendingPathComponent(name)
        try PeerWallet.create(at: d, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        return try PeerWallet(directory: d, passphrase: nil, server: server, log: { _ in })
    }

    @Test(.enabled(if: enabled)) func walletsPayEachOtherThroughTwoNodesWritingTwoTrees() async throws {
        let url = try PostgresTestDatabase.fresh()
        _ = try PostgresLedger(url: url, treeCapacity: 32, openTrees: 2, readers: 1)
        let dir = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pk = dir.appendingPathComponent("transfer.zkspk")
        try Keys.pair.0.write(to: pk)
        let receiptKey = Ed25519Key.generate()
        try await Self.withNode(url, lane: 0, receiptKey: receiptKey, provingKey: pk.path) { serverA, _ in
            try await Self.withNode(url, lane: 1, receiptKey: receiptKey, provingKey: pk.path) { serverB, _ in
                try await offCooperativePool {
                    try Self.payThroughTwoTrees(dir: dir, url: url, serverA: serverA, serverB: serverB)
                }
            }
        }
    }

    static func payThroughTwoTrees(dir: URL, url: String, serverA: String, serverB: String) throws {
        let a = try wallet(dir, "a", server: serverA), b = try wallet(dir, "b", server: serverB)
        func settled(_ o: PeerWallet.Outcome, _ what: String) -> PeerWallet.Settled? {
            guard case .settled(let s) = o else { Issue.record("\(what): \(o)"); return nil }
            return s
        }
        // A deposits through node A (lane 0: tree 0), B through node B (lane 1: tree 1).
        let da = settled(try a.deposit(100, voucher: voucher(100)), "deposit through A")
        let db = settled(try b.deposit(40, voucher: voucher(40)), "deposit through B")
        #expect(da?.leafIndices.allSatisfy { $0 < 32 } == true && db?.leafIndices.allSatisfy { $0 >= 32 && $0 < 64 } == true,
                "two trees growing at once: \(String(describing: da?.leafIndices)), \(String(describing: db?.leafIndices))")

        // A pays B through node A: the payment lands in tree 0, which B learns through node B
        // (whose own lane is tree 1): every tree paged by position, each checked on its own.
        try a.sync(quiet: true)
        _ = settled(try a.send(30, to: b.address, memo: "tree 0"), "A pays B")
        try b.sync(quiet: true)
        #expect(try b.balance().spendable == 70)
        let bNotes = try b.database.notes().filter { !$0.spent }.map { $0.leafIndex / 32 }.sorted()
        #expect(bNotes == [0, 1], "B holds a note in each tree: \(bNotes)")

        // B pays 60 through node B: its 30 (tree 0) and 40 (tree 1) lie in two trees, so one is
        // gathered into the other's tree first; then one payment.
        _ = settled(try b.send(60, to: a.address, memo: "back"), "B pays A")
        try a.sync(quiet: true); try b.sync(quiet: true)
        #expect(try a.balance().spendable == 130)
        #expect(try b.balance().spendable == 10)

        // Lane 0 rolls over: tree 0 fills and tree 2 (not 1, lane 1's) follows it. B's deposit
        // through node A lands there, and B learns it through node B.
        let filler = try wallet(dir, "filler", server: serverA)
        var last: PeerWallet.Settled?
        repeat { last = settled(try filler.deposit(1, voucher: voucher(1)), "filler") } while (last?.leafIndices[0] ?? 64) < 30
        let into2 = settled(try PeerWallet(directory: dir.appendingPathComponent("b"), passphrase: nil, server: serverA, log: { _ in })
                                .deposit(5, voucher: voucher(5)), "deposit into tree 2")
        #expect(into2?.leafIndices == [64, 65], "tree 0 is full: lane 0 goes on in tree 2")
        try b.sync(quiet: true); try a.sync(quiet: true)
        #expect(try b.balance().spendable == 15)
        #expect(try b.database.treeCursors().map(\.tree) == [0, 1, 2])

        // Every tree A's wallet knows is checked to the tree's end in the ledger, under the
        // root of that tree's last batch.
        let ledger = try PostgresLedger(url: url, readOnly: true, readers: 1)
        for c in try a.database.treeCursors() {
            let leaves = try ledger.leaves(from: Int64(c.tree * 32), below: Int64(c.tree * 32 + 32), limit: 32)
            #expect(c.next == leaves.count && c.checked == leaves.count, "tree \(c.tree): \(c) against \(leaves.count) stored leaves")
            let last = try #require(try ledger.batchHeader(leaves.last!.batch))
            #expect(last.tree == Int64(c.tree) && c.root == last.root)
        }
        #expect(try a.database.treeCursors().map(\.tree) == [0, 1, 2])
        #expect(try ledger.audit(receiptPublicKey: nil, depositPublicKey: nil) == [])

        // A global page of a ledger whose trees grow at once is refused: it would skip leaves.
        let old = try ServerClient(serverA)
        #expect(throws: (any Error).self) { _ = try old.notes(from: 0, limit: 10) }
        #expect(throws: (any Error).self) { _ = try old.spends(from: 0, limit: 10) }
        // Lane 1 is still in tree 1, so tree 3 does not exist yet: not found, from either node;
        // tree 2 (lane 0's open tree) is served by node B, which writes lane 1.
        for server in [serverA, serverB] {
            #expect(throws: (any Error).self) { _ = try ServerClient(server).subtrees(height: 5, from: 0, limit: 1, tree: 3) }
        }
        #expect(try ServerClient(serverB).subtrees(height: 5, from: 0, limit: 1, tree: 2).complete == 0)
    }
}
