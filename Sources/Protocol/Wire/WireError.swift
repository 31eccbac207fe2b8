/// Why a v1 body or header could not be decoded. The settlement pipeline maps it to its own
/// `Rejection` (`malformed`, or `unauthorized` for a voucher that does not parse); clients show
/// the description.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON, a number, a point or a count is not what v1 says.
    case malformed(String)
    /// The deposit voucher beside the body does not parse (it is a credential, so its failure is
    /// an authorization failure, not a malformed body).
    case unauthorized(String)

    public var description: String {
        switch self {
        case .malformed(let s): return "malformed request: \(s)"
        case .unauthorized(let s): return s
        }
    }
}
