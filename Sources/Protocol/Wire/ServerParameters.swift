import BN254
import Foundation
import Groth16
import Primitives

/// `GET /v1/params`: everything a wallet needs to prove and to check receipts, as the server
/// publishes it and the wallet pins it (the fingerprint covers the circuit id, the verifying key
/// and the receipt key). One type for both sides: the server encodes it once at start, the
/// wallet and the admin tool decode it.
public struct ServerParameters: Sendable {
    public var circuitID: String
    public var verifyingKey: VerifyingKey
    /// The server's Ed25519 receipt key (32 bytes).
    public var receiptPublicKey: [UInt8]
    /// The lowest fee the server takes for a transfer that spends notes (`--min-fee`). Not
    /// part of the fingerprint: the operator may change it, and the wallet pays what it says.
    public var minFee: UInt64
    /// Leaves per tree (`tree_capacity`).
    public var treeCapacity: Int = 1 << 20
    /// How many recent roots `/v1/tree` lists as `accepted_roots`. Every root the tree ever had
    /// is accepted as an anchor, not only those.
    public var rootWindow: Int = 0
    public var maxBatch: Int = 0
    /// The operator's deposit key (nil: deposits are disabled).
    public var depositPublicKey: [UInt8]?
    /// The keys come from a development setup (unsafe for real funds).
    public var developmentKeys = false
    public var provingKeyAvailable = false

    public init(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8], minFee: UInt64 = 0) {
        self.circuitID = circuitID; self.verifyingKey = verifyingKey; self.receiptPublicKey = receiptPublicKey
        self.minFee = minFee
    }

    /// `ParametersFingerprint` of the circuit id, the verifying key and the receipt key: 64 hex digits.
    public var fingerprint: String {
        ParametersFingerprint.hex(circuitID: circuitID, verifyingKey: verifyingKey, receiptPublicKey: receiptPublicKey)
    }

    // MARK: Encoding (the server, once at start)

    /// The body. The verifying key is snarkjs's own text made compact and spliced in: no
    /// encode → parse → encode.
    public func encode() -> Data {
        var out: [String: Any] = [
            "protocol": "zksettle/v1",
            "circuit_id": circuitID,
            "verifying_key": JSONWriter.Raw.compacting(SnarkJS.encode(verifyingKey)),
            "tree_depth": MerkleTree.depth,
            "tree_capacity": treeCapacity,
            "root_window": rootWindow,
            "receipt_public_key": Hex.encode(receiptPublicKey),
            "deposits_enabled": depositPublicKey != nil,
            "max_batch": maxBatch,
            "min_fee": String(minFee),
            "development_keys": developmentKeys,
            "proving_key_available": provingKeyAvailable,
        ]
        if let key = depositPublicKey { out["deposit_public_key"] = Hex.encode(key) }
        if developmentKeys { out["warning"] = "development keys from a local setup: unsafe for real funds" }
        return JSONWriter.encode(out)
    }

    // MARK: Decoding (the wallet, the admin tool)

    /// The parameters a server publishes: the pinned three strictly (`ServerAnswer.params`), the
    /// verifying key checked by `SnarkJS.verifyingKey` (points on the curve, in their subgroups),
    /// the rest when present and well-typed.
    public static func decode(_ data: Data) throws(ServerAnswer.Malformed) -> ServerParameters {
        let o = try ServerAnswer.object(data, "/v1/params")
        let p = try ServerAnswer.params(o)
        let vk: VerifyingKey
        do { vk = try SnarkJS.verifyingKey(from: p.verifyingKeyJSON) } catch {
            throw ServerAnswer.Malformed("/v1/params: the verifying key cannot be used: \(error)")
        }
        var out = ServerParameters(circuitID: p.circuitID, verifyingKey: vk, receiptPublicKey: p.receiptPublicKey, minFee: p.minFee)
        if let n = ServerAnswer.int(o["tree_capacity"]), ServerAnswer.isTreeCapacity(n) { out.treeCapacity = n }
        if let n = ServerAnswer.int(o["root_window"]), n >= 0 { out.rootWindow = n }
        if let n = ServerAnswer.int(o["max_batch"]), n >= 0 { out.maxBatch = n }
        out.depositPublicKey = (o["deposit_public_key"] as? String).flatMap(Hex.decode).flatMap { $0.count == 32 ? $0 : nil }
        out.developmentKeys = o["development_keys"] as? Bool ?? false
        out.provingKeyAvailable = o["proving_key_available"] as? Bool ?? false
        return out
    }
}

extension ServerAnswer {
    /// `GET /v1/params`: the circuit id (1 to 128 letters, digits, `.`, `_`, `-`: it names a
    /// cache file), the verifying key's JSON (for `SnarkJS.verifyingKey`, in Groth16) and the
    /// 32-byte Ed25519 receipt key, and the lowest fee a transfer must pay (`min_fee`, a
    /// decimal string; 0 when absent: servers before issue 14 took free transfers).
    public static func params(_ data: Data) throws(Malformed) -> (circuitID: String, verifyingKeyJSON: Data, receiptPublicKey: [UInt8], minFee: UInt64) {
        try params(try object(data, "/v1/params"))
    }

    static func params(_ o: [String: Any]) throws(Malformed) -> (circuitID: String, verifyingKeyJSON: Data, receiptPublicKey: [UInt8], minFee: UInt64) {
        guard let id = o["circuit_id"] as? String, (1...128).contains(id.utf8.count),
              id.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 46 || $0 == 95 || $0 == 45 }) else {
            throw Malformed("/v1/params: no usable circuit_id")
        }
        guard let key = (o["receipt_public_key"] as? String).flatMap(Hex.decode), key.count == 32 else {
            throw Malformed("/v1/params: receipt_public_key is not 32 bytes of hex (an Ed25519 key)")
        }
        guard let vk = o["verifying_key"] as? [String: Any], let vkJSON = try? JSONSerialization.data(withJSONObject: vk) else {
            throw Malformed("/v1/params: no verifying_key object")
        }
        var minFee: UInt64 = 0
        if let value = o["min_fee"] {
            guard let text = value as? String, !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let fee = UInt64(text), fee <= UInt64(Int64.max) else {
                throw Malformed("/v1/params: min_fee is not a decimal fee of at most \(Int64.max)")
            }
            minFee = fee
        }
        return (id, vkJSON, key, minFee)
    }

}
