import Foundation
import Protocol
import SQLite
import SQLiteLedger
import Settlement
import SettlementClient
import TestSupport
import Testing
import Wallet

/// Issue 14, point 3: wallets sync across trees and spend notes of every tree. A real server on
/// loopback over a real SQLite file with trees of 32 leaves; real proofs.
@Suite(.serialized, .offCooperativePool) struct TreeRolloverWalletTests {
    @Test func aWalletSpendsNotesOfAClosedTreeAndOfTheOpenOneAndJoinsNotesOfTwoTrees() async throws {
        try await PrivateSyncTests.withServer(treeCapacity: 32) { server, wire, dir in
            let a = try PrivateSyncTests.wallet(dir, "a", server: server)
            let b = try PrivateSyncTests.wallet(dir, "b", server: server)
            let filler = try PrivateSyncTests.wallet(dir, "filler", server: server)
            _ = try a.deposit(100, voucher: testVoucher(100))           // leaves 0, 1: tree 0
            _ = try a.deposit(30, voucher: testVoucher(30))            // leaves 2, 3
            for _ in 0..<14 { _ = try filler.deposit(1, voucher: testVoucher(1)) }  // leaves 4…31: tree 0 is full
            _ = try a.deposit(50, voucher: testVoucher(50))            // leaves 32, 33: tree 1
            try a.sync(quiet: true)
            #expect(try a.balance().spendable == 180)
            let notes = try a.database.notes().map(\.leafIndex).sorted()
            #expect(notes == [0, 2, 32], "notes in tree 0 and tree 1: \(notes)")

            // A withdrawal from a note of the closed tree 0, proved against its last root.
            let w = try a.withdraw(90, to: "bank:a")
            guard case .settled(let ws) = w else { Issue.record("withdrawal: \(w)"); return }
            #expect(ws.leafIndices[0] >= 32, "the withdrawal's outputs went into tree 1")
            // 70 needs the 50 of tree 1 and the 30 of tree 0: the 30 is moved into tree 1 first.
            let before = wire.requests.filter { $0.hasPrefix("POST /v1/transfers") }.count
            let p = try a.send(70, to: b.address, memo: "across trees")
            guard case .settled = p else { Issue.record("send: \(p)"); return }
            #expect(wire.requests.filter { $0.hasPrefix("POST /v1/transfers") }.count == before + 2, "one move, one payment")
            try a.sync(quiet: true); try b.sync(quiet: true)
            #expect(try a.balance().spendable == 20)   // 10 change of the withdrawal, 10 of the payment
            #expect(try b.balance().spendable == 70)
            // B pays back from tree 1; A's wallet, synced across both trees, sees it.
            _ = try b.send(25, to: a.address, memo: "back")
            try a.sync(quiet: true)
            #expect(try a.balance().spendable == 45)

            // Refused input changes nothing: more than the balance.
            let ledger = try SQLiteLedger(path: dir.appendingPathComponent("ledger.sqlite").path, readOnly: true)
            let counts = try ledger.counts()
            #expect(throws: WalletError.self) { try a.send(1000, to: b.address, memo: "") }
            #expect(try ledger.counts() == counts)
            #expect(try a.balance().spendable == 45)
            #expect(try ledger.audit() == [])
            #expect(counts.leaves > 32, "tree 1 is in use")
        }
    }

    /// Issue 16: a wallet that synced with one global cursor (wallet database version 4) gets
    /// one cursor per tree from it, in the migration's transaction, and syncs on from there:
    /// a full, checked tree is not asked again.
    @Test func aWalletOfOneGlobalCursorCarriesItIntoOneCursorPerTree() async throws {
        try await PrivateSyncTests.withServer(treeCapacity: 32) { server, wire, dir in
            let before: [TreeCursor]
            do {
                let a = try PrivateSyncTests.wallet(dir, "a", server: server)
                let filler = try PrivateSyncTests.wallet(dir, "filler", server: server)
                _ = try a.deposit(100, voucher: testVoucher(100))                          // leaves 0, 1
                for _ in 0..<15 { _ = try filler.deposit(1, voucher: testVoucher(1)) }  // leaves 2…31
                _ = try a.deposit(50, voucher: testVoucher(50))                            // leaves 32, 33
                try a.sync(quiet: true)
                before = try a.database.treeCursors()
                #expect(before.map(\.tree) == [0, 1] && before.map(\.checked) == [32, 2] && before.map(\.spendNext) == [32, 2])
            }
            // The same state as version 4 kept it.
            let path = dir.appendingPathComponent("a/wallet.sqlite").path
            let db = try SQLiteConnection(path: path, readOnly: false)
            let t0 = before[0], t1 = before[1]
            let meta = ["next_leaf": "34", "tree_leaves": "34", "tree_root": t1.root!.decimalString, "tip_batch": "\(t1.tipBatch)",
                        "tree_batch": "\(t1.rootBatch)", "next_spend": "34", "tree_end_batch:0": "\(t0.tipBatch)",
                        "tree_root:0": t0.root!.decimalString, "tree_root:1": t1.root!.decimalString]
            try db.execute("DROP TABLE sync_trees; DELETE FROM meta WHERE key = 'open_trees'; PRAGMA user_version = 4;")
            for (k, v) in meta { try db.execute("INSERT INTO meta(key, value) VALUES ('\(k)', '\(v)')") }

            let a = try PeerWallet(directory: dir.appendingPathComponent("a"), passphrase: nil, server: server, log: { _ in })
            #expect(try a.database.treeCursors() == before, "one cursor per tree, as the new layout keeps them")
            #expect(try a.database.meta("next_leaf") == nil && a.database.meta("tree_root:0") == nil && a.database.meta("open_trees") == "1")
            let asked = wire.requests.count
            try a.sync(quiet: true)
            let since = wire.requests.dropFirst(asked)
            #expect(!since.contains { $0.contains("tree=0&") }, "tree 0 is full and checked: not asked again: \(since)")
            #expect(since.contains { $0.hasPrefix("GET /v1/notes?tree=1&from=2&") }, "tree 1 from its cursor: \(since)")
            #expect(try a.balance().spendable == 150)
        }
    }

    /// Coin selection prefers one or two notes of one tree: 70 from 20 (tree 0), 50 and 30
    /// (tree 1) is paid by the two notes of tree 1, one transfer, where the two largest notes
    /// (50 and 20) would have needed a move between trees first.
    @Test func notesOfOneTreeArePreferredOverNotesOfTwo() async throws {
        try await PrivateSyncTests.withServer(treeCapacity: 32) { server, wire, dir in
            let a = try PrivateSyncTests.wallet(dir, "a", server: server)
            let b = try PrivateSyncTests.wallet(dir, "b", server: server)
            let filler = try PrivateSyncTests.wallet(dir, "filler", server: server)
            _ = try a.deposit(20, voucher: testVoucher(20))                           // leaves 0, 1
            for _ in 0..<15 { _ = try filler.deposit(1, voucher: testVoucher(1)) }  // leaves 2…31
            _ = try a.deposit(50, voucher: testVoucher(50))                           // leaves 32, 33
            _ = try a.deposit(30, voucher: testVoucher(30))                           // leaves 34, 35
            try a.sync(quiet: true)
            let before = wire.requests.filter { $0.hasPrefix("POST /v1/transfers") }.count
            guard case .settled = try a.send(70, to: b.address, memo: "one tree") else { Issue.record("send"); return }
            #expect(wire.requests.filter { $0.hasPrefix("POST /v1/transfers") }.count == before + 1, "one payment, no move")
            try a.sync(quiet: true)
            #expect(try a.balance().spendable == 30)
            #expect(try a.database.notes().filter { !$0.spent }.map(\.value).sorted() == [10, 20], "the 20 of tree 0 untouched, 10 of change")
        }
    }
}
