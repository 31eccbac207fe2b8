import BN254
import Protocol

/// Why a transfer was refused. A closed list: each case has a stable `code`; the HTTP layer
/// (and only it) maps codes to statuses.
public enum Rejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request could not be decoded (JSON, numbers, points, counts).
    case malformed(String)
    /// Well-formed, but the Groth16 proof does not verify.
    case invalidProof
    /// The proof's root is not one the tree ever had (every past root is accepted).
    case unknownRoot(Fr)
    /// A nullifier was already spent (or is being spent) by another transfer.
    case doubleSpend(Fr)
    /// External data does not match the proof or is not acceptable.
    case badExtData(String)
    /// A deposit without a valid deposit voucher (missing, malformed, signed by another key,
    /// for another amount, expired), or deposits are disabled.
    case unauthorized(String)
    /// The deposit's voucher was already used (or is being used) by another deposit.
    case voucherUsed(String)
    /// The intake queue is full: retry after the given number of seconds.
    case overloaded(retryAfterSeconds: Int)
    /// The transfer's fee is below the operator's minimum (`--min-fee`).
    case feeTooLow(minimum: UInt64, given: UInt64)
    /// This client (source address) offers more than its share: too many transfers in flight,
    /// too many per second, or, while on probation for proofs that did not verify, a full
    /// single-verification queue. Retry after the given number of seconds.
    case rateLimited(retryAfterSeconds: Int, reason: String)
    /// The server is shutting down and takes no new transfers.
    case unavailable(String)
    /// The commitment tree is full.
    case treeFull
    /// The ledger could not be written; nothing was settled.
    case storageFailure(String)

    public var code: String {
        switch self {
        case .malformed: return "malformed"
        case .invalidProof: return "invalid_proof"
        case .unknownRoot: return "unknown_root"
        case .doubleSpend: return "double_spend"
        case .badExtData: return "bad_ext_data"
        case .unauthorized: return "unauthorized"
        case .voucherUsed: return "voucher_used"
        case .overloaded: return "overloaded"
        case .feeTooLow: return "fee_too_low"
        case .rateLimited: return "rate_limited"
        case .unavailable: return "unavailable"
        case .treeFull: return "tree_full"
        case .storageFailure: return "storage_failure"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let s): return "malformed request: \(s)"
        case .invalidProof: return "the proof does not verify for these public inputs"
        case .unknownRoot(let r): return "unknown Merkle root \(r): not a root of this ledger's tree; sync and prove against a root the server reports"
        case .doubleSpend(let nf): return "nullifier \(nf) is already spent"
        case .badExtData(let s): return "external data rejected: \(s)"
        case .unauthorized(let s): return s
        case .voucherUsed(let id): return "deposit voucher \(id) was already used: a voucher pays for one deposit; ask the operator for a new one"
        case .overloaded(let s): return "the server is at capacity; retry in \(s) s"
        case .feeTooLow(let minimum, let given):
            return "the fee \(given) is below this server's minimum fee of \(minimum) (GET /v1/params: min_fee); prove the transfer again with a fee of at least \(minimum)"
        case .rateLimited(let s, let reason): return "\(reason); retry in \(s) s"
        case .unavailable(let s): return s
        case .treeFull: return "the commitment tree is full"
        case .storageFailure(let s): return "the ledger could not be written: \(s)"
        }
    }

}

extension Rejection {
    /// A transfer that spends one nullifier twice is refused: by admission early, and by the
    /// sequencer again (the authority). The one statement of the rule for both.
    static func equalNullifiers(_ inputs: TransferPublicInputs) -> Rejection? {
        inputs.nullifiers[0] == inputs.nullifiers[1] ? .malformed("the two nullifiers are equal") : nil
    }

    /// A body or header that did not decode (`TransferBody`).
    public init(_ error: WireError) {
        switch error {
        case .malformed(let s): self = .malformed(s)
        case .unauthorized(let s): self = .unauthorized(s)
        }
    }
}
