import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import NIOCore
import Primitives
import Prometheus
import Protocol
import SQLiteLedger
import Settlement
import SettlementClient
import SettlementHTTP
import TestSupport
import Testing
import Wallet

/// The deposit key of the in-process servers of the wallet tests, and vouchers signed by it.
let testDepositKey = Ed25519Key.generate()
func testVoucher(_ amount: UInt64) -> DepositVoucher {
    DepositVoucher.issue(amount: amount, expiresAt: Int64(Date().timeIntervalSince1970) + 3600, key: testDepositKey)
}

/// What the wallet asks and what it believes, against a real server on loopback whose answers
/// a middleware records and, when told to, falsifies. (`withServer` serves the other in-process
/// wallet tests too.)
@Suite(.serialized, .offCooperativePool) struct PrivateSyncTests {
    /// Every request's method and URI, and an optional rewrite of JSON answers by path prefix.
    final class Wire: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String] = []
        private var rewrite: (prefix: String, change: (inout [String: Any]) -> Void)?

        var requests: [String] { lock.lock(); defer { lock.unlock() }; return seen }
        func record(_ line: String) { lock.lock(); seen.append(line); lock.unlock() }
        func tamper(_ prefix: String, _ change: @escaping (inout [String: Any]) -> Void) { lock.lock(); rewrite = (prefix, change); lock.unlock() }
        func honest() { lock.lock(); rewrite = nil; lock.unlock() }
        func rule(for path: String) -> ((inout [String: Any]) -> Void)? {
            lock.lock(); defer { lock.unlock() }
            guard let r = rewrite, path.hasPrefix(r.prefix) else { return nil }
            return r.change
        }
    }

    final class Collector: ResponseBodyWriter {
        final class Box: @unchecked Sendable { var bytes = ByteBuffer() }
        let box: Box
        init(_ box: Box) { self.box = box }
        func write(_ buffer: ByteBuffer) async throws { var b = buffer; box.bytes.writeBuffer(&b) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    struct WireMiddleware<Context: RequestContext>: RouterMiddleware {
        let wire: Wire
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            wire.record("\(request.method) \(request.uri)")
            let response = try await next(request, context)
            guard let change = wire.rule(for: request.uri.path) else { return response }
            let box = Collector.Box()
            try await response.body.write(Collector(box))
            guard var obj = try? JSONSerialization.jsonObject(with: Data(buffer: box.bytes)) as? [String: Any] else {
                return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: box.bytes))
            }
            change(&obj)
            let data = try JSONSerialization.data(withJSONObject: obj)
            var headers = response.headers
            headers[.contentLength] = nil
            return Response(status: response.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    static let keys: (ProvingKey, VerifyingKey) = try! DevelopmentSetup.generate(r1cs: TransferCircuit.r1cs, circuitID: TransferCircuit.circuitID)

    /// A server on loopback with `wire` in front of its routes; `body` runs off the cooperative pool.
    static func withServer(configure: (inout SettlementConfig) -> Void = { _ in }, treeCapacity: Int? = nil,
                           _ body: @escaping @Sendable (String, Wire, URL) throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (pk, vk) = keys
        let pkURL = dir.appendingPathComponent("transfer.zkspk")
        try pk.write(to: pkURL)
        var config = SettlementConfig()
        config.acceptDeposits(of: testDepositKey)
        config.flushMilliseconds = 1
        configure(&config)
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent("ledger.sqlite").path, treeCapacity: treeCapacity)
        let receiptKey = Ed25519Key.generate()
        let service = try SettlementService(config: config, ledger: ledger, verifyingKey: vk, receiptKey: receiptKey)
        let api = SettlementAPI(
            service: service,
            parameters: PublicParameters(circuitID: TransferCircuit.circuitID, verifyingKey: vk, receiptPublicKey: receiptKey.publicKey,
                                         provingKeyPath: pkURL.path, developmentKeys: true),
            adminToken: nil, registry: PrometheusCollectorRegistry())
        let wire = Wire()
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(WireMiddleware(wire: wire))
        api.addRoutes(to: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              services: [SettlementLifecycle(service: service)])
        try await app.test(.live) { client in
            let url = "http://127.0.0.1:\(client.port!)"
            try await offCooperativePool { try body(url, wire, dir) }
        }
    }

    static func wallet(_ dir: URL, _ name: String, server: String) throws -> PeerWallet {
        let d = dir.appendingPathComponent(name)
        try PeerWallet.create(at: d, secret: .spending(SpendingKey(SecureRandom.scalar())), passphrase: nil)
        let w = try PeerWallet(directory: d, passphrase: nil, server: server, log: { _ in })
        return w
    }

    /// Deposit, pay, receive, pay back, sync, balance; then every GET either wallet made is one
    /// of the public, cursor-paged questions every wallet asks alike, and none carries a leaf
    /// index, commitment or nullifier of either wallet.
    @Test func noRequestNamesAWalletsNotes() async throws {
        try await Self.withServer { server, wire, dir in
            let a = try Self.wallet(dir, "a", server: server), b = try Self.wallet(dir, "b", server: server)
            _ = try a.deposit(100, voucher: testVoucher(100))
            try a.sync(quiet: true)
            #expect(try a.balance().spendable == 100)
            _ = try a.send(30, to: b.address, memo: "lunch")
            try b.sync(quiet: true)
            #expect(try b.balance().spendable == 30)
            _ = try b.send(10, to: a.address, memo: "thanks")
            try a.sync(quiet: true); try b.sync(quiet: true)
            #expect(try a.balance().spendable == 80)
            #expect(try b.balance().spendable == 20)
            _ = try a.send(75, to: b.address, memo: "two notes in")   // spends the change and the payment back
            try a.sync(quiet: true); try b.sync(quiet: true)
            #expect(try a.balance().spendable == 5)
            #expect(try b.balance().spendable == 95)

            var secrets: [String] = []
            for w in [a, b] {
                for n in try w.database.notes(includingUnverified: true) {
                    secrets += [n.commitment.decimalString, n.nullifier.decimalString]
                }
            }
            #expect(secrets.count >= 10)
            let allowed = ["/v1/notes?", "/v1/nullifiers?", "/v1/tree/subtrees?", "/v1/batches/", "/v1/params", "/v1/transfers/"]
            let gets = wire.requests.filter { $0.hasPrefix("GET ") }.map { String($0.dropFirst(4)) }
            #expect(gets.count > 10)
            for uri in gets {
                #expect(uri == "/v1/tree" || allowed.contains { uri.hasPrefix($0) }, "a GET outside the public questions: \(uri)")
                #expect(!uri.hasPrefix("/v1/tree/path"), "a path request names a note: \(uri)")
                for s in secrets { #expect(!uri.contains(s), "\(uri) carries a note's commitment or nullifier") }
            }
            // Transfers asked about are only ones a wallet submitted itself.
            let submitted = Set(try a.database.transfers().map(\.id) + b.database.transfers().filter { $0.counterparty != nil }.map(\.id))
            for uri in gets where uri.hasPrefix("/v1/transfers/") {
                #expect(submitted.contains(String(uri.dropFirst("/v1/transfers/".count))), "\(uri)")
            }
        }
    }

    /// A lying server: each falsified answer is an error that says the server is inconsistent,
    /// and the balance stays what it was; the honest answer afterwards syncs as usual.
    @Test func falsifiedAnswersAreRefusedAndCountNothing() async throws {
        try await Self.withServer { server, wire, dir in
            let a = try Self.wallet(dir, "a", server: server)
            _ = try a.deposit(100, voucher: testVoucher(100))
            try a.sync(quiet: true)
            let b = try Self.wallet(dir, "b", server: server)
            _ = try a.send(30, to: b.address, memo: "x")
            // B's note is leaf 2 or 3; its neighbours share its group of 32.

            func refused(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
                do {
                    try b.sync(quiet: true)
                    Issue.record("\(what): the falsified answer was accepted", sourceLocation: sourceLocation)
                } catch let e as WalletError {
                    #expect(e.description.contains("inconsistent"), "\(what): \(e.description)", sourceLocation: sourceLocation)
                }
                #expect(try b.balance().spendable == 0, "\(what): a false balance", sourceLocation: sourceLocation)
            }

            // A commitment changed in the notes page (leaf 0, A's first note, in B's group).
            wire.tamper("/v1/notes") { obj in
                guard var notes = obj["notes"] as? [[String: Any]], !notes.isEmpty else { return }
                notes[0]["commitment"] = "12345"
                obj["notes"] = notes
            }
            try refused("a changed commitment")
            // The refused sync took nothing in: with honest answers the same wallet finds its note.
            wire.honest()
            try b.sync(quiet: true)
            #expect(try b.balance().spendable == 30)

            // The batch's root falsified.
            let c = try Self.wallet(dir, "c", server: server)
            try a.sync(quiet: true)
            _ = try a.send(20, to: c.address, memo: "y")
            wire.tamper("/v1/batches/") { obj in obj["root"] = "777" }
            do { try c.sync(quiet: true); Issue.record("a false root was accepted") } catch let e as WalletError {
                #expect(e.description.contains("inconsistent"), "\(e.description)")
            }
            #expect(try c.balance().spendable == 0)
            // Honest again: the same wallet syncs and counts its note.
            wire.honest()
            try c.sync(quiet: true)
            #expect(try c.balance().spendable == 20)

            // A notes page with a gap.
            let d = try Self.wallet(dir, "d", server: server)
            wire.tamper("/v1/notes") { obj in
                guard var notes = obj["notes"] as? [[String: Any]], notes.count > 2 else { return }
                notes.remove(at: 1)
                obj["notes"] = notes
            }
            do { try d.sync(quiet: true); Issue.record("a page with a gap was accepted") } catch let e as WalletError {
                #expect(e.description.contains("inconsistent"), "\(e.description)")
            }
            wire.honest()

            // The nullifier list claims C's note was spent before it existed.
            let cNote = try #require(try c.database.notes().first)
            wire.tamper("/v1/nullifiers") { obj in
                guard var list = obj["nullifiers"] as? [String], !list.isEmpty else { return }
                list[0] = cNote.nullifier.decimalString
                obj["nullifiers"] = list
            }
            let cFresh = try PeerWallet(directory: dir.appendingPathComponent("c2"), create: c, server: server)
            do { try cFresh.sync(quiet: true); Issue.record("an impossible spend was accepted") } catch let err as WalletError {
                #expect(err.description.contains("inconsistent"), "\(err.description)")
            }
            // The note is real and checked against the tree; the false spend changed nothing.
            #expect(try cFresh.balance().spendable == 20)
            #expect(try cFresh.database.notes().filter(\.spent).isEmpty)
            wire.honest()
        }
    }
}

extension PeerWallet {
    /// A second wallet directory holding the same key as `other` (a restore), for tests.
    convenience init(directory: URL, create other: PeerWallet, server: String) throws {
        try PeerWallet.create(at: directory, secret: other.secret, passphrase: nil)
        try self.init(directory: directory, passphrase: nil, server: server, log: { _ in })
    }
}
