import BN254
import Foundation
import Primitives
import Protocol
import Testing
import Wallet

/// The wallet database's typed queries and the history assembled from them, on a real
/// database without a server.
@Suite struct WalletDatabaseTests {
    static func insert(_ database: WalletDatabase, leaves: [Int]) throws {
        for i in leaves {
            try database.insertNote(leafIndex: i, commitment: Fr(UInt64(100 + i)), plaintext: NotePlaintext(value: UInt64(10 * i), blinding: .zero, memo: []),
                                    nullifier: Fr(UInt64(200 + i)), batch: 1)
        }
    }

    @Test func typedQueriesSeeSpentPendingAndUncheckedNotes() throws {
        let dir = try KeyFileTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try WalletDatabase(path: dir.appendingPathComponent("wallet.sqlite").path)
        try Self.insert(database, leaves: [1, 2, 3])
        try database.markSpent(leafIndex: 2, by: "t1")
        try database.setPending(leafIndices: [3], transfer: "t2")
        // Not checked against a published tree yet: payments and balances do not see them.
        #expect(try database.notes().isEmpty)
        #expect(try database.spendableNotes().isEmpty)
        #expect(try database.notes(includingUnverified: true).map(\.leafIndex) == [1, 2, 3])
        #expect(try database.unspentNotes(includingUnverified: true).map(\.leafIndex) == [1, 3])
        #expect(try database.notes(spentBy: "t1").map(\.leafIndex) == [2])
        #expect(try database.note(atLeaf: 1)?.status == .unspent)
        #expect(try database.note(atLeaf: 2)?.status == .spent)
        #expect(try database.note(atLeaf: 3)?.status == .pending)
        #expect(try database.note(atLeaf: 4) == nil)
    }

    @Test func historyGivesEachTransferKindItsDirectionAndKeepsTheStoredStatus() throws {
        let dir = try KeyFileTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PeerWallet.create(at: dir, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        let wallet = try PeerWallet(directory: dir, passphrase: nil, server: "http://127.0.0.1:1", log: { _ in })
        #expect(try wallet.history().isEmpty)
        let kinds: [TransferKind] = [.deposit, .merge, .send, .withdraw]
        for (i, kind) in kinds.enumerated() {
            try wallet.database.recordTransfer(id: "t\(i)", kind: kind, amount: UInt64(i + 1), counterparty: "c", memo: "m\(i)",
                                               status: kind == .withdraw ? .receiptInvalid : .settled, batch: Int64(i))
        }
        let history = try wallet.history()
        #expect(history.map(\.direction) == [.incoming, .withinWallet, .outgoing, .outgoing])
        #expect(history.map(\.direction.rawValue) == ["in", "self", "out", "out"])
        #expect(history.map(\.amount) == [1, 2, 3, 4])
        #expect(history.map(\.memo) == ["m0", "m1", "m2", "m3"])
        let stored = try wallet.database.transfers()
        #expect(stored.map(\.kind) == kinds)
        #expect(stored.last?.status.rawValue == "settled (receipt signature INVALID)")
    }
}
