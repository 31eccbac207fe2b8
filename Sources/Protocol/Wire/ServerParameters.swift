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
    /// Which setup made the keys, as the server says (`setup`, `transcript_hash`): the wallet
    /// pins it with the fingerprint, and warns on development keys.
    public var setup: Setup = .development
    /// The keys come from a development setup (unsafe for real funds): `development_keys`.
    public var developmentKeys: Bool { setup == .development }
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
            "setup": setup.name,
            "transcript_hash": setup.transcriptHash.map { $0 as Any } ?? NSNull(),
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
        out.setup = try ServerAnswer.setup(o)
        out.provingKeyAvailable = o["proving_key_available"] as? Bool ?? false
        return out
    }
}

extension ServerParameters {
    /// Where a server's keys come from (`GET /v1/params`: `setup`, `transcript_hash`). The
    /// claim is the operator's: a wallet cannot check it (it has no transcript), so it pins the
    /// claim with the parameters and refuses a later different one for the same keys.
    public enum Setup: Sendable, Equatable {
        /// A setup run by one process (the server's first start): whoever ran it can forge proofs.
        case development
        /// A multi-party ceremony; the BLAKE2b-512 of its final `.zkey`, 128 lowercase hex digits.
        case ceremony(transcriptHash: String)

        /// `"development"` or `"ceremony"`.
        public var name: String {
            switch self { case .development: "development"; case .ceremony: "ceremony" }
        }

        public var transcriptHash: String? {
            if case .ceremony(let h) = self { return h }
            return nil
        }

        /// 128 lowercase hex digits.
        public static func isTranscriptHash(_ s: String) -> Bool {
            s.utf8.count == 128 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        }

        /// From its two fields as stored or sent; nil when they do not make a setup.
        public init?(name: String, transcriptHash: String?) {
            switch (name, transcriptHash) {
            case ("development", nil): self = .development
            case ("ceremony", let h?) where Self.isTranscriptHash(h): self = .ceremony(transcriptHash: h)
            default: return nil
            }
        }
    }
}

extension ServerAnswer {
    /// `setup` and `transcript_hash` of `/v1/params`, strictly: "development" with a null (or
    /// absent) hash, or "ceremony" with 128 lowercase hex digits; `development_keys`, when
    /// present, must agree. A server from before issue 18 says neither: its keys were the
    /// development setup's (the only one it had).
    public static func setup(_ o: [String: Any]) throws(Malformed) -> ServerParameters.Setup {
        let development = o["development_keys"].map { $0 as? Bool }
        if case .some(nil) = development { throw Malformed("/v1/params: development_keys is not a boolean") }
        guard let value = o["setup"] else {
            if development == false { throw Malformed("/v1/params: development_keys is false but no setup is named") }
            return .development
        }
        let hash = o["transcript_hash"].flatMap { $0 is NSNull ? nil : $0 }
        guard let name = value as? String else { throw Malformed("/v1/params: setup is not a string") }
        if hash != nil, !(hash is String) { throw Malformed("/v1/params: transcript_hash is not a string") }
        guard let setup = ServerParameters.Setup(name: name, transcriptHash: hash as? String) else {
            throw Malformed(name == "ceremony" ? "/v1/params: a ceremony's transcript_hash must be 128 lowercase hex digits"
                            : name == "development" ? "/v1/params: development keys have no transcript_hash"
                            : "/v1/params: unknown setup (expected development or ceremony)")
        }
        if let d = development, d != (setup == .development) {
            throw Malformed("/v1/params: development_keys contradicts setup \(name)")
        }
        return setup
    }

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
