import Foundation

/// The body of `POST /v1/admin/vouchers`: `{"amount": N, "expires_in": S}`, both integers of
/// magnitude at most 2^53 - 1 (decimal strings or JSON numbers), `amount` ≥ 1, no other key.
/// The admin tool encodes it, the server decodes it.
public struct VoucherOrder: Sendable, Equatable {
    public var amount: Int64
    /// Seconds of validity (nil: the server's default, a day).
    public var expiresIn: Int64?

    public init(amount: Int64, expiresIn: Int64?) { self.amount = amount; self.expiresIn = expiresIn }

    static let maxSafeInteger: UInt64 = (1 << 53) - 1

    public func encode() -> Data {
        var out: [String: Any] = ["amount": amount]
        if let expiresIn { out["expires_in"] = expiresIn }
        return JSONWriter.encode(out)
    }

    public static func decode(_ data: Data) throws(WireError) -> VoucherOrder {
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .malformed("the body must be a JSON object: {\"amount\": N, \"expires_in\": seconds}")
        }
        if let extra = obj.keys.first(where: { $0 != "amount" && $0 != "expires_in" }) {
            throw .malformed("unknown field \"\(extra.prefix(40))\": expected amount and expires_in")
        }
        func integer(_ name: String) throws(WireError) -> Int64? {
            guard let v = obj[name] else { return nil }
            guard let i = TransferBody.integer(v, Int64.self), i.magnitude <= maxSafeInteger else {
                throw .malformed("\(name): expected an integer of magnitude at most 2^53 - 1")
            }
            return i
        }
        guard let amount = try integer("amount"), amount >= 1 else { throw .malformed("amount: expected an integer ≥ 1") }
        return VoucherOrder(amount: amount, expiresIn: try integer("expires_in"))
    }
}
