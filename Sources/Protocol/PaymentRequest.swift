import Foundation

/// A payment request: what a payee hands a payer so that nothing is retyped, in the spirit of
/// ZIP-321 (`zcash:` URIs):
///
///     zks:zks1q98r…uez5?amount=30&memo=lunch%20on%20friday
///
/// The address is the URI's path; `amount` (whole units, 1…2^63−1) and `memo` (UTF-8, at most
/// `NoteEncryption.maxMemoBytes` bytes, percent-encoded) are optional query parameters, each at
/// most once. Anything else is refused: a payer's wallet must not guess what a request means.
public struct PaymentRequest: Sendable, Equatable {
    public static let scheme = "zks"

    public var address: Address
    public var amount: UInt64?
    public var memo: String?

    public init(address: Address, amount: UInt64?, memo: String?) {
        self.address = address; self.amount = amount; self.memo = memo
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self { case .malformed(let why): "not a payment request: \(why) (a request looks like zks:zks1…?amount=30&memo=lunch)" }
        }
    }

    /// Characters left as they are in a parameter's value (RFC 3986 unreserved).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The URI: `zks:ADDRESS[?amount=N][&memo=…]`.
    public var uri: String {
        var params: [String] = []
        if let amount { params.append("amount=\(amount)") }
        if let memo, !memo.isEmpty { params.append("memo=" + (memo.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "")) }
        return "\(Self.scheme):\(address.encoded)" + (params.isEmpty ? "" : "?" + params.joined(separator: "&"))
    }

    /// Parses a request strictly: the scheme, a valid address, known parameters once each.
    public init(uri raw: String) throws(Failure) {
        let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n"))
        guard text.count <= 2048 else { throw .malformed("longer than 2048 characters") }
        guard let colon = text.firstIndex(of: ":"), text[..<colon].lowercased() == Self.scheme else {
            throw .malformed("it does not start with \(Self.scheme):")
        }
        let rest = text[text.index(after: colon)...]
        let (path, query) = rest.firstIndex(of: "?").map { (rest[..<$0], Optional(rest[rest.index(after: $0)...])) } ?? (rest, nil)
        do { address = try Address(encoded: String(path)) } catch { throw .malformed("the address: \(error)") }
        amount = nil
        memo = nil
        var seen: Set<String> = []
        for pair in (query.map { $0.split(separator: "&", omittingEmptySubsequences: false) } ?? []) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .malformed("parameter \"\(pair)\" has no value") }
            let name = String(parts[0])
            guard seen.insert(name).inserted else { throw .malformed("\(name) is given twice") }
            guard let value = String(parts[1]).removingPercentEncoding else { throw .malformed("\(name) is not percent-encoded UTF-8") }
            switch name {
            case "amount":
                // Digits as written: no percent-encoding, sign, point or spaces.
                let raw = String(parts[1])
                guard !raw.isEmpty, raw.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = UInt64(raw), v > 0, v <= UInt64(Int64.max) else {
                    throw .malformed("amount \"\(raw)\" is not a whole number of units from 1 to \(Int64.max)")
                }
                amount = v
            case "memo":
                guard value.utf8.count <= NoteEncryption.maxMemoBytes else {
                    throw .malformed("the memo is \(value.utf8.count) bytes; at most \(NoteEncryption.maxMemoBytes)")
                }
                memo = value
            default:
                throw .malformed("unknown parameter \(name) (this wallet knows amount and memo)")
            }
        }
    }
}
