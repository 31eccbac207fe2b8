import BN254
import Foundation
import Groth16
import Protocol
import Settlement

/// A failure the wallet explains to its user: what happened and what to do about it.
public struct WalletError: Error, CustomStringConvertible {
    public let description: String
    /// The server's error code when the server refused something (`unknown_root`, …).
    public let code: String?
    public init(_ description: String, code: String? = nil) { self.description = description; self.code = code }
}

/// The server's API v1 as the wallet uses it, over one kept-alive `HTTPConnection`.
public final class ServerClient {
    public let base: String
    let connection: HTTPConnection

    public init(_ base: String) throws {
        self.base = base
        do { connection = try HTTPConnection(base, timeoutSeconds: 120) } catch {
            throw WalletError("--server \(base): \(error) (expected e.g. http://127.0.0.1:8080)")
        }
    }

    func call(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> HTTPConnection.Response {
        do {
            if method == "POST" { return try connection.post(path, body: body ?? Data(), headers: headers) }
            return try connection.get(path, headers: headers)
        } catch {
            throw WalletError("cannot reach the server at \(base): \(error). Start it (`swift run -c release zksettle-server`) or pass --server URL.",
                              code: "unreachable")
        }
    }

    /// The JSON object of a 200 response, or the server's error explained.
    func json(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> [String: Any] {
        let r = try call(method, path, body: body, headers: headers)
        let obj = r.json as? [String: Any]
        guard r.status == 200, let obj else { throw Self.explain(r, obj) }
        return obj
    }

    static func explain(_ r: HTTPConnection.Response, _ obj: [String: Any]?) -> WalletError {
        let err = obj?["error"] as? [String: Any]
        let code = err?["code"] as? String ?? "http_\(r.status)"
        let message = err?["message"] as? String ?? String(decoding: r.body.prefix(200), as: UTF8.self)
        let advice: String
        switch code {
        case "unknown_root": advice = "the tree moved on while proving; run the command again"
        case "double_spend": advice = "a note was already spent (is this key used by another wallet?); run `zkwallet sync` and try again"
        case "unauthorized": advice = "the server refused the deposit token: pass the operator's token with --token (the server keeps it in <data>/deposit-token)"
        case "overloaded", "unavailable": advice = "the server is busy; try again in \(r.headers["retry-after"] ?? "a few") s"
        case "invalid_proof": advice = "the server's keys differ from the cached proving key: delete the wallet's proving-keys folder and try again"
        default: advice = "see the server's log for details"
        }
        return WalletError("the server refused (\(code), HTTP \(r.status)): \(message) — \(advice)", code: code)
    }

    /// A server's public parameters (`GET /v1/params`): what the wallet pins.
    public struct Params: Sendable {
        public var circuitID: String
        public var verifyingKey: VerifyingKey
        /// Ed25519, 32 bytes.
        public var receiptPublicKey: [UInt8]

        public init(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8]) {
            self.circuitID = circuitID; self.verifyingKey = verifyingKey; self.receiptPublicKey = receiptPublicKey
        }

        /// `ParametersFingerprint` of the three: 64 hex digits.
        public var fingerprint: String {
            ParametersFingerprint.hex(circuitID: circuitID, verifyingKey: verifyingKey, receiptPublicKey: receiptPublicKey)
        }
    }

    public func params() throws -> Params {
        let o = try json("GET", "/v1/params")
        guard let id = o["circuit_id"] as? String, let key = (o["receipt_public_key"] as? String).flatMap(Hex.decode),
              let vkObject = o["verifying_key"] as? [String: Any] else {
            throw WalletError("\(base) does not look like a zksettle server (/v1/params lacks circuit_id, verifying_key or receipt_public_key)")
        }
        guard key.count == 32 else { throw WalletError("\(base) publishes a receipt key of \(key.count) bytes; an Ed25519 key has 32") }
        let vk: VerifyingKey
        do { vk = try SnarkJS.verifyingKey(from: try JSONSerialization.data(withJSONObject: vkObject)) } catch {
            throw WalletError("\(base) publishes a verifying key that cannot be used: \(error)")
        }
        return Params(circuitID: id, verifyingKey: vk, receiptPublicKey: key)
    }

    public func provingKey() throws -> Data {
        let r = try call("GET", "/v1/params/proving-key")
        guard r.status == 200 else { throw Self.explain(r, r.json as? [String: Any]) }
        return r.body
    }

    public func tree() throws -> (root: Fr, leafCount: Int) {
        let o = try json("GET", "/v1/tree")
        guard let root = (o["root"] as? String).flatMap({ try? Fr(decimal: $0) }), let n = o["leaf_count"] as? Int else {
            throw WalletError("unexpected /v1/tree answer from \(base)")
        }
        return (root, n)
    }

    public func path(_ leaf: Int) throws -> (path: [Fr], root: Fr) {
        let o = try json("GET", "/v1/tree/path/\(leaf)")
        guard let p = o["path"] as? [String], let root = (o["root"] as? String).flatMap({ try? Fr(decimal: $0) }) else {
            throw WalletError("unexpected /v1/tree/path answer from \(base)")
        }
        return (try p.map { try Fr(decimal: $0) }, root)
    }

    public struct EncryptedLeaf: Sendable {
        public var leafIndex: Int
        public var commitment: Fr
        public var ciphertext: [UInt8]
        public var batch: Int64

        public init(leafIndex: Int, commitment: Fr, ciphertext: [UInt8], batch: Int64) {
            self.leafIndex = leafIndex; self.commitment = commitment; self.ciphertext = ciphertext; self.batch = batch
        }
    }

    public func notes(from: Int, limit: Int) throws -> (notes: [EncryptedLeaf], next: Int, leafCount: Int) {
        let o = try json("GET", "/v1/notes?from=\(from)&limit=\(limit)")
        guard let list = o["notes"] as? [[String: Any]], let next = o["next"] as? Int, let count = o["leaf_count"] as? Int else {
            throw WalletError("unexpected /v1/notes answer from \(base)")
        }
        var out: [EncryptedLeaf] = []
        out.reserveCapacity(list.count)
        for n in list {
            guard let i = n["leaf_index"] as? Int, let cm = (n["commitment"] as? String).flatMap({ try? Fr(decimal: $0) }) else { continue }
            // A ciphertext that is not base64 is simply not ours: it never stops a sync.
            let ct = (n["encrypted_output"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
            out.append(EncryptedLeaf(leafIndex: i, commitment: cm, ciphertext: ct, batch: (n["batch"] as? NSNumber)?.int64Value ?? 0))
        }
        return (out, next, count)
    }

    /// Whether `nf` is spent, and by which transfer.
    public func nullifier(_ nf: Fr) throws -> (spent: Bool, transferID: String?) {
        let o = try json("GET", "/v1/nullifiers/\(nf.decimalString)")
        return (o["spent"] as? Bool ?? false, o["transfer_id"] as? String)
    }

    /// A settled transfer's public effects: its output leaves and its external amount.
    public func settledTransfer(_ id: String) throws -> (leafIndices: [Int], extAmount: Int64)? {
        let r = try call("GET", "/v1/transfers/\(id)")
        guard r.status == 200, let o = r.json as? [String: Any], o["status"] as? String == "settled",
              let receipt = o["receipt"] as? [String: Any],
              let leaves = (receipt["leaf_indices"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }) else { return nil }
        return (leaves, (o["ext_amount"] as? String).flatMap { Int64($0) } ?? 0)
    }

    /// 200 for known transfers, 404 for unknown ones.
    public func transferStatus(_ id: String) throws -> Int { try call("GET", "/v1/transfers/\(id)").status }

    public func submit(_ body: Data, depositToken: String?) throws -> [String: Any] {
        var headers: [String: String] = [:]
        if let depositToken { headers[TransferBody.depositTokenHeader] = depositToken }
        return try json("POST", "/v1/transfers", body: body, headers: headers)
    }
}
