import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import Primitives
import Prometheus
import Protocol
import SQLiteLedger
import Settlement
import SettlementHTTP
import Wallet

/// One development key pair for the whole test process (the setup takes seconds).
enum Keys {
    static let pair: (ProvingKey, VerifyingKey) = {
        do { return try DevelopmentSetup.generate(r1cs: TransferCircuit.r1cs, circuitID: TransferCircuit.circuitID) } catch { fatalError("setup failed: \(error)") }
    }()
    static let prover = TransferProver(provingKey: pair.0)
    static var verifyingKey: VerifyingKey { pair.1 }
}

/// The operator's deposit key of every test server in this process.
let depositKey = Ed25519Key.generate()
let adminToken = "admin-secret"

/// A voucher for `amount`, valid an hour, signed by the test servers' deposit key.
func voucher(_ amount: UInt64, key: Ed25519Key = depositKey, expiresIn seconds: Int64 = 3600) -> DepositVoucher {
    DepositVoucher.issue(amount: amount, expiresAt: Int64(Date().timeIntervalSince1970) + seconds, key: key)
}

/// A real server on loopback over a real SQLite file in a fresh directory.
struct TestServer {
    let directory: URL
    let service: SettlementService
    let ledger: SQLiteLedger
    let receiptKey: Ed25519Key

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Opens (or reopens) the ledger in `directory` and runs `body` against a live server.
    static func run<T: Sendable>(in directory: URL? = nil, receiptKey: Ed25519Key = Ed25519Key.generate(),
                                 configure: (inout SettlementConfig) -> Void = { _ in },
                                 provingKeyPath: String? = nil,
                                 treeCapacity: Int? = nil,
                                 server http: HTTPServerBuilder = .http1(),
                                 _ body: @Sendable (any TestClientProtocol, TestServer) async throws -> T) async throws -> T {
        let dir = try directory ?? temporaryDirectory()
        var config = SettlementConfig()
        config.acceptDeposits(of: depositKey)
        config.flushMilliseconds = 2
        configure(&config)
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent("ledger.sqlite").path, treeCapacity: treeCapacity)
        let service = try SettlementService(config: config, ledger: ledger, verifyingKey: Keys.verifyingKey, receiptKey: receiptKey)
        let api = SettlementAPI(
            service: service,
            parameters: PublicParameters(circuitID: TransferCircuit.circuitID, verifyingKey: Keys.verifyingKey,
                                         receiptPublicKey: receiptKey.publicKey, provingKeyPath: provingKeyPath, developmentKeys: true),
            adminToken: adminToken, registry: PrometheusCollectorRegistry(), depositKey: depositKey)
        let app = Application(router: api.makeRouter(), server: http,
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              services: [SettlementLifecycle(service: service)])
        let server = TestServer(directory: dir, service: service, ledger: ledger, receiptKey: receiptKey)
        return try await app.test(.live) { client in try await body(client, server) }
    }
}

/// A JSON response.
struct Reply: @unchecked Sendable {
    let status: Int
    let headers: HTTPFields
    let body: Data
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, body: Data? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { r in
            Reply(status: Int(r.status.code), headers: r.headers, body: Data(buffer: r.body))
        }
    }

    func get(_ uri: String) async throws -> Reply { try await call(.get, uri) }

    /// Posts `request`, with its voucher (a deposit's) in the `X-Deposit-Voucher` header.
    func post(_ request: TransferRequest, query: String = "") async throws -> Reply {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let v = request.voucher { headers[SettlementAPI.voucherHeader] = v.text }
        return try await call(.post, "/v1/transfers" + query, body: TransferBody.encode(request), headers: headers)
    }

    func admin(_ uri: String, method: HTTPRequest.Method = .get) async throws -> Reply {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(adminToken)"
        return try await call(method, uri, headers: headers)
    }

    func root() async throws -> Fr { try Fr(decimal: try await get("/v1/tree").json["root"] as! String) }

    /// A note of `peer` at `leafIndex` (global), with its path against its tree's current
    /// root; the circuit sees the leaf's position in that tree.
    func spendable(_ note: Note, of peer: Peer, at leafIndex: Int64) async throws -> (SpendableNote, Fr) {
        let reply = try await get("/v1/tree/path/\(leafIndex)")
        let path = try (reply.json["path"] as! [String]).map { try Fr(decimal: $0) }
        let root = try Fr(decimal: reply.json["root"] as! String)
        let position = reply.json["position"] as? Int ?? Int(leafIndex)
        return (SpendableNote(note: note, key: peer.key, leafIndex: position, path: path), root)
    }
}

/// A peer in a test: a spending key and fresh notes to it.
struct Peer: Sendable {
    let key = SpendingKey(SecureRandom.scalar())
    var owner: Fr { key.ownerKey }
    func note(_ value: UInt64) -> Note { Note(value: value, owner: owner, blinding: SecureRandom.scalar()) }
}

/// Stand-in ciphertexts: the server stores and serves them, it never reads them.
func ciphertexts() -> [[UInt8]] { [SecureRandom.bytes(120), SecureRandom.bytes(120)] }

func deposit(_ amount: UInt64, to peer: Peer, root: Fr, outputs: [Note]? = nil) throws -> (TransferRequest, [Note]) {
    let outs = outputs ?? [peer.note(amount), peer.note(0)]
    let ext = ExtData(recipient: "", extAmount: Int64(amount), fee: 0, encryptedOutputs: ciphertexts())
    var request = try Keys.prover.prove(inputs: [], outputs: outs, extData: ext, root: root)
    request.voucher = voucher(amount)
    return (request, outs)
}

func leafIndices(_ reply: Reply) -> [Int64] {
    ((reply.json["receipt"] as? [String: Any])?["leaf_indices"] as? [Any])?.compactMap { ($0 as? NSNumber)?.int64Value } ?? []
}
