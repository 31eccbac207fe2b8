import Foundation
import Protocol
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
}
