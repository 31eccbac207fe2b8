import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import TestSupport
import Testing
import Wallet

/// `unknown_root`: the tree moved on while the wallet was proving. The server here accepts only
/// its current root (a window of 1), and another peer's deposit settles while this wallet's
/// proof is being computed; the wallet must prove once more with fresh paths and settle.
@Suite(.offCooperativePool) struct StaleRootTests {
    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        var interfered = false
    }

    @Test func unknownRootIsReprovedOnce() async throws {
        try await PrivateSyncTests.withServer(configure: { config in
            config.rootWindow = 1
            config.acceptsHistoricalRoots = false  // only the current root: the wallet's unknown_root path
        }) { server, _, dir in try Self.scenario(server: server, dir: dir) }
    }

    static func scenario(server: String, dir: URL) throws {
        let aDir = dir.appendingPathComponent("a"), bDir = dir.appendingPathComponent("b")
        try PeerWallet.create(at: aDir, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        try PeerWallet.create(at: bDir, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        let b = try PeerWallet(directory: bDir, passphrase: nil, server: server, log: { _ in })
        let seen = Lines()
        let a = try PeerWallet(directory: aDir, passphrase: nil, server: server) { line in
            seen.lines.append(line)
            // While A proves against the current root, B's deposit settles and replaces it.
            if line.hasPrefix("proving") && !seen.interfered {
                seen.interfered = true
                _ = try? b.deposit(1, voucher: testVoucher(1))
            }
        }
        guard case .settled(let s) = try a.deposit(5, voucher: testVoucher(5)) else { Issue.record("not settled"); return }
        #expect(s.receiptVerified)
        #expect(seen.interfered)
        #expect(seen.lines.contains { $0.contains("unknown_root") }, "\(seen.lines)")
        #expect(seen.lines.filter { $0.hasPrefix("proved in") }.count == 2)
        // A note counts once sync has checked it against the published tree.
        #expect(try a.balance().spendable == 0)
        try b.sync(quiet: true)
        #expect(try b.balance().spendable == 1)
        try a.sync(quiet: true)
        #expect(try a.balance().spendable == 5)
    }
}
