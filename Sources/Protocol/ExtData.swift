import BN254
import Primitives

/// The external data of a transfer: what the proof binds without the circuit seeing it.
///
/// `extAmount` is signed: > 0 a deposit (money entering, authorized by the operator), < 0 a
/// withdrawal (a payout owed to `recipient`), 0 a private transfer. `fee` goes to the operator.
/// `publicAmount = extAmount − fee (mod r)` is the circuit's public input that balances values.
public struct ExtData: Sendable, Equatable, Codable {
    public var recipient: String
    public var extAmount: Int64
    public var fee: UInt64
    /// The two encrypted output notes (fixed size, see the wallet's note encryption).
    public var encryptedOutputs: [[UInt8]]

    public static let maxRecipientBytes = 256
    public static let maxEncryptedOutputBytes = 1024

    public init(recipient: String, extAmount: Int64, fee: UInt64, encryptedOutputs: [[UInt8]]) {
        self.recipient = recipient
        self.extAmount = extAmount
        self.fee = fee
        self.encryptedOutputs = encryptedOutputs
    }

    /// Why external data is refused.
    public enum Problem: Error, Equatable, CustomStringConvertible, Sendable {
        case recipientTooLong(Int)
        case recipientRequiredForWithdrawal
        case recipientOnlyForWithdrawal
        case wrongOutputCount(Int)
        case outputTooLarge(index: Int, bytes: Int)
        case feeExceedsWithdrawal
        case amountOutOfRange

        public var description: String {
            switch self {
            case .recipientTooLong(let n): return "recipient is \(n) bytes; at most \(ExtData.maxRecipientBytes)"
            case .recipientRequiredForWithdrawal: return "a withdrawal (extAmount < 0) needs a recipient"
            case .recipientOnlyForWithdrawal: return "recipient must be empty unless extAmount < 0"
            case .wrongOutputCount(let n): return "expected 2 encrypted outputs, got \(n)"
            case .outputTooLarge(let i, let n): return "encrypted output \(i) is \(n) bytes; at most \(ExtData.maxEncryptedOutputBytes)"
            case .feeExceedsWithdrawal: return "extAmount - fee overflows"
            case .amountOutOfRange: return "extAmount must be above -2^63"
            }
        }
    }

    /// Structural checks that need no ledger.
    public func validate() throws(Problem) {
        let r = Array(recipient.utf8)
        if r.count > Self.maxRecipientBytes { throw .recipientTooLong(r.count) }
        if extAmount == .min { throw .amountOutOfRange }
        if extAmount < 0 && r.isEmpty { throw .recipientRequiredForWithdrawal }
        if extAmount >= 0 && !r.isEmpty { throw .recipientOnlyForWithdrawal }
        if encryptedOutputs.count != 2 { throw .wrongOutputCount(encryptedOutputs.count) }
        for (i, o) in encryptedOutputs.enumerated() where o.count > Self.maxEncryptedOutputBytes {
            throw .outputTooLarge(index: i, bytes: o.count)
        }
        if extAmount.subtractingReportingOverflow(Int64(clamping: fee)).overflow || fee > UInt64(Int64.max) {
            throw .feeExceedsWithdrawal
        }
    }

    /// The canonical encoding, version 1. Every integer is big-endian; every variable-length
    /// field is preceded by its length:
    ///
    ///     "zksettle/extdata/v1"            19 bytes, domain separation
    ///     u16 len ‖ recipient               UTF-8, len ≤ 256
    ///     i64 extAmount                     two's complement
    ///     u64 fee
    ///     u32 len ‖ encryptedOutputs[0]
    ///     u32 len ‖ encryptedOutputs[1]
    ///
    /// `extDataHash = SHA-256(encoding) mod r` (DESIGN.md section 4). Any change to this layout
    /// is a new version with a new tag.
    public var canonicalEncoding: [UInt8] {
        var out = Array("zksettle/extdata/v1".utf8)
        let r = Array(recipient.utf8)
        out += be(UInt64(r.count), bytes: 2) + r
        out += be(UInt64(bitPattern: extAmount), bytes: 8)
        out += be(fee, bytes: 8)
        for o in encryptedOutputs { out += be(UInt64(o.count), bytes: 4) + o }
        return out
    }

    /// Parses `canonicalEncoding` back (the ledger stores external data in this form).
    public init(canonicalEncoding bytes: [UInt8]) throws(DecodingError) {
        var i = 0
        func take(_ n: Int) throws(DecodingError) -> ArraySlice<UInt8> {
            guard n >= 0, i + n <= bytes.count else { throw .truncated }
            defer { i += n }
            return bytes[i..<i + n]
        }
        func int(_ n: Int) throws(DecodingError) -> UInt64 { try take(n).reduce(0) { $0 << 8 | UInt64($1) } }
        guard Array(try take(19)) == Array("zksettle/extdata/v1".utf8) else { throw .wrongTag }
        let rlen = Int(try int(2))
        guard let recipient = String(validating: try take(rlen), as: UTF8.self) else { throw .badUTF8 }
        let extAmount = Int64(bitPattern: try int(8))
        let fee = try int(8)
        var outputs: [[UInt8]] = []
        while i < bytes.count { outputs.append(Array(try take(Int(try int(4))))) }
        self.init(recipient: recipient, extAmount: extAmount, fee: fee, encryptedOutputs: outputs)
    }

    public enum DecodingError: Error, Equatable, Sendable { case truncated, wrongTag, badUTF8 }

    /// SHA-256 of the canonical encoding, reduced mod r: the `extDataHash` public input.
    public var hash: Fr { Fr(reducingBigEndian: SHA256.hash(canonicalEncoding)) }

    /// `extAmount − fee (mod r)`: the `publicAmount` public input.
    public var publicAmount: Fr {
        let ext = extAmount >= 0 ? Fr(UInt64(extAmount)) : -Fr(UInt64(extAmount.magnitude))
        return ext - Fr(fee)
    }
}

@inline(__always)
func be(_ v: UInt64, bytes n: Int) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * (n - 1 - $0))) }
}
