import BN254
import Foundation
import Primitives

/// The answer for a settled transfer (`POST /v1/transfers`, `GET /v1/transfers/{id}`): the
/// signed receipt and the transfer's public effects.
///
///     {"status": "settled", "transfer_id": hex, "receipt": {…}, "public_inputs": [7 decimals],
///      "ext_amount": "-250", "fee": "0"}
///
/// The receipt is unverified until the caller checks it with the key it trusts
/// (`checkReceipt`); the server is not trusted.
public struct SettlementAnswer: Sendable, Equatable {
    public var receipt: Receipt
    /// Empty when the answer does not carry them (they are not signed; nothing relies on them).
    public var publicInputs: [Fr]
    public var extAmount: Int64
    public var fee: UInt64
    /// A withdrawal's payout (the id the operator pays and marks paid by); nil otherwise, or
    /// from a server that does not say.
    public var payoutID: Int64?

    public init(receipt: Receipt, publicInputs: [Fr], extAmount: Int64, fee: UInt64, payoutID: Int64? = nil) {
        self.receipt = receipt; self.publicInputs = publicInputs; self.extAmount = extAmount; self.fee = fee; self.payoutID = payoutID
    }

    public var transferIDHex: String { Hex.encode(receipt.transferID) }

    /// Whether the receipt names `transferID` (hex) and its signature verifies with `receiptKey`,
    /// the key the caller pinned: a receipt signed by any other key is not verified, whatever key
    /// the server now claims.
    public func checkReceipt(transferID: String, receiptKey: [UInt8]) -> Bool {
        transferIDHex == transferID && receipt.verify(publicKey: receiptKey)
    }

    // MARK: Encoding (the server, on every settlement: through the hand-written `JSONWriter`)

    public func encode() -> Data { JSONWriter.encode(json) }

    public var json: [String: Any] {
        var o: [String: Any] = [
            "status": "settled",
            "transfer_id": transferIDHex,
            "receipt": Self.json(receipt),
            "public_inputs": publicInputs.map(\.decimalString),
            "ext_amount": String(extAmount),
            "fee": String(fee),
        ]
        if let payoutID { o["payout_id"] = payoutID }
        return o
    }

    /// A receipt in JSON; `signature` is Ed25519 over `Receipt.signedBytes` (hex).
    public static func json(_ r: Receipt) -> [String: Any] {
        [
            "transfer_id": Hex.encode(r.transferID),
            "batch": r.batch,
            "tree": r.tree,
            "leaf_indices": r.leafIndices,
            "root": r.root.decimalString,
            "settled_at": r.settledAt,
            "signature": Hex.encode(r.signature),
        ]
    }

    // MARK: Decoding (the wallet)

    /// A settlement answer: the receipt strictly (`ServerAnswer.receipt`'s checks), and the
    /// public effects when present (canonical field elements, decimal-string integers).
    public static func decode(_ data: Data) throws(ServerAnswer.Malformed) -> SettlementAnswer {
        let o = try ServerAnswer.object(data, "settlement")
        let receipt = try ServerAnswer.receipt(o)
        var inputs: [Fr] = []
        if let list = o["public_inputs"] {
            guard let items = list as? [Any], items.count <= 16 else { throw ServerAnswer.Malformed("settlement: public_inputs is not a list of field elements") }
            for item in items {
                guard let v = ServerAnswer.fr(item) else { throw ServerAnswer.Malformed("settlement: a public input is not a canonical field element") }
                inputs.append(v)
            }
        }
        let ext = o["ext_amount"].map { TransferBody.integer($0, Int64.self) } ?? 0
        let fee = o["fee"].map { TransferBody.integer($0, UInt64.self) } ?? 0
        guard let ext, let fee else { throw ServerAnswer.Malformed("settlement: ext_amount or fee is not a decimal integer") }
        var payoutID: Int64?
        if let v = o["payout_id"], !(v is NSNull) {
            guard let id = v as? Int, id >= 1 else { throw ServerAnswer.Malformed("settlement: payout_id is not a positive integer") }
            payoutID = Int64(id)
        }
        return SettlementAnswer(receipt: receipt, publicInputs: inputs, extAmount: ext, fee: fee, payoutID: payoutID)
    }
}

/// The answer for a transfer admitted but not yet settled (`POST /v1/transfers?wait=false`,
/// `GET /v1/transfers/{id}`): `{"status": "pending", "transfer_id": hex}`.
public struct PendingAnswer: Sendable, Equatable {
    public var transferID: TransferID

    public init(transferID: TransferID) { self.transferID = transferID }

    public func encode() -> Data { JSONWriter.encode(["status": "pending", "transfer_id": transferID.hex]) }

    public static func decode(_ data: Data) throws(ServerAnswer.Malformed) -> PendingAnswer {
        let o = try ServerAnswer.object(data, "pending")
        guard o["status"] as? String == "pending", let id = (o["transfer_id"] as? String).flatMap({ TransferID(hex: $0) }) else {
            throw ServerAnswer.Malformed("not a pending transfer's answer")
        }
        return PendingAnswer(transferID: id)
    }
}
