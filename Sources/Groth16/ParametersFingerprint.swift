import BN254
import Primitives
import Foundation

extension VerifyingKey {
    /// The canonical byte encoding of the key, the input of `ParametersFingerprint`:
    ///
    ///     u32 IC count (big-endian)
    ///     α (G1) ‖ β (G2) ‖ γ (G2) ‖ δ (G2) ‖ IC[0] ‖ … ‖ IC[count − 1] (G1)
    ///
    /// A G1 point is x ‖ y, a G2 point x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1 (snarkjs's coordinate order:
    /// c0 is the real part), each coordinate the 32-byte big-endian canonical integer below p,
    /// affine and uncompressed. The point at infinity is all zeros ((0, 0) is on neither curve).
    /// 4 + 64 + 3·128 + 64·count bytes: 900 for the transfer circuit (8 IC points).
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + 64 + 3 * 128 + 64 * ic.count)
        let count = UInt32(ic.count)
        out += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        Self.append(alpha, to: &out)
        for p in [beta, gamma, delta] { Self.append(p, to: &out) }
        for p in ic { Self.append(p, to: &out) }
        return out
    }

    static func append(_ p: G1Affine, to out: inout [UInt8]) {
        if p.isInfinity { out += [UInt8](repeating: 0, count: 64); return }
        out += p.x.bigEndianBytes; out += p.y.bigEndianBytes
    }

    static func append(_ p: G2Affine, to out: inout [UInt8]) {
        if p.isInfinity { out += [UInt8](repeating: 0, count: 128); return }
        out += p.x.c0.bigEndianBytes; out += p.x.c1.bigEndianBytes; out += p.y.c0.bigEndianBytes; out += p.y.c1.bigEndianBytes
    }
}

/// The fingerprint of a server's public parameters: what a wallet pins on first contact (or
/// takes from the operator with `zkwallet init --trust`), what `zksettle-server` logs at start
/// and `zksettle-admin params fingerprint` prints. One computation for all three:
///
///     SHA-256( "zksettle/params/v1"                      18 ASCII bytes, the domain tag
///              ‖ u32 L ‖ circuit id                      L UTF-8 bytes
///              ‖ u32 V ‖ verifying key                   V = 900 bytes for the transfer
///                                                        circuit (`VerifyingKey.canonicalBytes`)
///              ‖ receipt public key )                    32 bytes (Ed25519)
///
/// u32 are big-endian. Two parameter sets have the same fingerprint only if they agree on all
/// three parts (the length prefixes keep the parts from sliding into each other), so a pinned
/// fingerprint fixes the statement proved (circuit id), the keys proofs are checked with, and
/// the key receipts must be signed by.
public enum ParametersFingerprint {
    public static let domainTag = "zksettle/params/v1"

    /// The bytes that are hashed (exposed for tests and for anyone re-implementing it).
    public static func preimage(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8]) -> [UInt8] {
        precondition(receiptPublicKey.count == 32, "an Ed25519 public key is 32 bytes")
        func u32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let id = Array(circuitID.utf8), vk = verifyingKey.canonicalBytes
        return Array(domainTag.utf8) + u32(id.count) + id + u32(vk.count) + vk + receiptPublicKey
    }

    /// The 32-byte digest.
    public static func digest(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8]) -> [UInt8] {
        SHA256.hash(preimage(circuitID: circuitID, verifyingKey: verifyingKey, receiptPublicKey: receiptPublicKey))
    }

    /// The digest as 64 lowercase hex digits: the form printed, logged and passed to `--trust`.
    public static func hex(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8]) -> String {
        Hex.encode(digest(circuitID: circuitID, verifyingKey: verifyingKey, receiptPublicKey: receiptPublicKey))
    }

    /// A fingerprint as typed by a person: 64 hex digits, case and surrounding space ignored
    /// (nil if it is anything else).
    public static func normalize(_ text: String) -> String? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard t.count == 64, t.allSatisfy({ $0.isHexDigit }) else { return nil }
        return t
    }
}
