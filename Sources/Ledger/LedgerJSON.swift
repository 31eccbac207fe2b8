import BN254
import Foundation
import Primitives
import Protocol

/// The JSON shapes of ledger records, shared by the HTTP API (which serves them) and
/// `zksettle-admin` (which prints them, and reads them back from the admin routes). Field
/// elements are canonical decimal strings, hashes and ids lower-case hex, times Unix ms,
/// amounts decimal strings (64-bit values do not fit JSON's safe integers).
public enum LedgerJSONError: Error, CustomStringConvertible {
    case field(String)
    public var description: String {
        switch self { case .field(let name): return "ledger JSON: \(name) is missing or malformed" }
    }
}

private func jsonValue<T>(_ o: [String: Any], _ key: String, _ type: T.Type = T.self) throws -> T {
    guard let v = o[key] as? T else { throw LedgerJSONError.field(key) }
    return v
}

private func jsonInt64(_ o: [String: Any], _ key: String) throws -> Int64 {
    if let n = o[key] as? NSNumber { return n.int64Value }
    if let s = o[key] as? String, let n = Int64(s) { return n }
    throw LedgerJSONError.field(key)
}

private func jsonFr(_ o: [String: Any], _ key: String) throws -> Fr {
    do { return try Fr(decimal: try jsonValue(o, key, String.self)) } catch { throw LedgerJSONError.field(key) }
}

private func jsonTransferID(_ o: [String: Any], _ key: String) throws -> TransferID {
    guard let id = TransferID(hex: try jsonValue(o, key, String.self)) else { throw LedgerJSONError.field(key) }
    return id
}

extension NullifierRecord {
    public var json: [String: Any] {
        ["nullifier": nullifier.decimalString, "spent": true, "transfer_id": transferID.hex, "batch": batch, "spent_at": spentAt]
    }

    public init(json o: [String: Any]) throws {
        self.init(nullifier: try jsonFr(o, "nullifier"), transferID: try jsonTransferID(o, "transfer_id"),
                  batch: try jsonInt64(o, "batch"), spentAt: try jsonInt64(o, "spent_at"))
    }
}

extension BatchHeader {
    public var json: [String: Any] {
        ["number": number, "hash": Hex.encode(hash), "previous_hash": Hex.encode(previousHash), "tree": tree, "root": root.decimalString,
         "leaf_count": leafCount, "transfer_count": transferIDs.count, "transfer_ids": transferIDs.map(\.hex),
         "created_at": createdAt]
    }

    public init(json o: [String: Any]) throws {
        guard let previous = Hex.decode(try jsonValue(o, "previous_hash", String.self)), previous.count == 32 else {
            throw LedgerJSONError.field("previous_hash")
        }
        let ids = try jsonValue(o, "transfer_ids", [String].self).map { hex -> TransferID in
            guard let id = TransferID(hex: hex) else { throw LedgerJSONError.field("transfer_ids") }
            return id
        }
        self.init(number: try jsonInt64(o, "number"), previousHash: previous,
                  tree: o["tree"] == nil ? 0 : try jsonInt64(o, "tree"), root: try jsonFr(o, "root"),
                  leafCount: try jsonInt64(o, "leaf_count"), transferIDs: ids, createdAt: try jsonInt64(o, "created_at"))
        if let served = o["hash"] as? String, served != Hex.encode(hash) { throw LedgerJSONError.field("hash (does not match the header)") }
    }
}

extension Payout {
    public var json: [String: Any] {
        var o: [String: Any] = ["id": id, "transfer_id": transferID.hex, "recipient": recipient,
                                "amount": amount, "status": status.rawValue, "created_at": createdAt]
        o["paid_at"] = paidAt ?? NSNull()
        return o
    }

    public init(json o: [String: Any]) throws {
        // An integer (a string from servers before issue 19).
        guard let amount = (o["amount"] as? NSNumber).flatMap({ UInt64(exactly: $0.int64Value) }) ?? (o["amount"] as? String).flatMap({ UInt64($0) }) else {
            throw LedgerJSONError.field("amount")
        }
        guard let status = Status(rawValue: try jsonValue(o, "status", String.self)) else { throw LedgerJSONError.field("status") }
        self.init(id: try jsonInt64(o, "id"), transferID: try jsonTransferID(o, "transfer_id"), recipient: try jsonValue(o, "recipient"),
                  amount: amount, status: status, createdAt: try jsonInt64(o, "created_at"),
                  paidAt: o["paid_at"] is NSNull ? nil : try? jsonInt64(o, "paid_at"))
    }
}

extension LedgerCounts {
    public var json: [String: Any] {
        ["batches": batches, "transfers": transfers, "nullifiers": nullifiers, "leaves": leaves, "pending_payouts": pendingPayouts,
         "vouchers_used": vouchersUsed, "fees_accrued": feesAccrued]
    }

    public init(json o: [String: Any]) throws {
        self.init(batches: try jsonInt64(o, "batches"), transfers: try jsonInt64(o, "transfers"), nullifiers: try jsonInt64(o, "nullifiers"),
                  leaves: try jsonInt64(o, "leaves"), pendingPayouts: try jsonInt64(o, "pending_payouts"),
                  vouchersUsed: try jsonInt64(o, "vouchers_used"), feesAccrued: try jsonInt64(o, "fees_accrued"))
    }
}

extension LedgerFault {
    public var json: [String: Any] {
        var o: [String: Any] = ["kind": kind.rawValue, "detail": detail]
        o["batch"] = batch ?? NSNull()
        return o
    }

    public init(json o: [String: Any]) throws {
        guard let kind = Kind(rawValue: try jsonValue(o, "kind", String.self)) else { throw LedgerJSONError.field("kind") }
        self.init(kind, batch: o["batch"] is NSNull ? nil : try? jsonInt64(o, "batch"), try jsonValue(o, "detail"))
    }
}
