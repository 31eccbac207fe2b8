import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Hummingbird
import HummingbirdTesting
import Prometheus
import Protocol
import Settlement
import SettlementHTTP
import TestSupport
import Testing
import Wallet

/// `unknown_root`: the tree moved on while the wallet was proving. The server here accepts only
/// its current root (a window of 1), and another peer's deposit settles while this wallet's
/// proof is being computed; the wallet must prove once more with fresh paths and settle.
@Suite struct StaleRootTests {
    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        var interfered = false
    }

    @Test func unknownRootIsReprovedOnce() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-stale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: TransferCircuit.r1cs, circuitID: TransferCircuit.circuitID)
        let pkURL = dir.appendingPathComponent("transfer.zkspk")
        try pk.write(to: pkURL)
        var config = SettlementConfig()
        config.depositToken = "token"
        config.flushMilliseconds = 1
        config.rootWindow = 1
        config.acceptsHistoricalRoots = false  // only the current root: the wallet's unknown_root path
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent("ledger.sqlite").path)
        let receiptKey = Ed25519Key.generate()
        let service = try SettlementService(config: config, ledger: ledger, verifyingKey: vk, receiptKey: receiptKey)
        let api = SettlementAPI(
            service: service,
            parameters: PublicParameters(circuitID: TransferCircuit.circuitID, verifyingKey: vk, receiptPublicKey: receiptKey.publicKey,
                                         provingKeyPath: pkURL.path, developmentKeys: true),
            adminToken: nil, registry: PrometheusCollectorRegistry())
        let app = Application(router: api.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              services: [SettlementLifecycle(service: service)])
        try await app.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)"
            try await offCooperativePool { try Self.scenario(server: url, dir: dir) }
        }
    }

    static func scenario(server: String, dir: URL) throws {
        let aDir = dir.appendingPathComponent("a"), bDir = dir.appendingPathComponent("b")
        try PeerWallet.create(at: aDir, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        try PeerWallet.create(at: bDir, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        let b = try PeerWallet(directory: bDir, passphrase: nil, server: server, log: { _ in })
        b.progressBar = false
        let seen = Lines()
        let a = try PeerWallet(directory: aDir, passphrase: nil, server: server) { line in
            seen.lines.append(line)
            // While A proves against the current root, B's deposit settles and replaces it.
            if line.hasPrefix("proving") && !seen.interfered {
                seen.interfered = true
                _ = try? b.deposit(1, token: "token")
            }
        }
        a.progressBar = false
        guard case .settled(let s) = try a.deposit(5, token: "token") else { Issue.record("not settled"); return }
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
