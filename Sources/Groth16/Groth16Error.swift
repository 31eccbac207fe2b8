import BN254

/// Why a verifying key, proof or public input was refused before any pairing was computed.
/// Verification itself answers `false` for a well-formed proof that does not verify; malformed
/// input is an error carrying what was wrong and where (arkworks' split between `Ok(false)`
/// and `Err`).
public enum Groth16Error: Error, Equatable, CustomStringConvertible, Sendable {
    /// The bytes are not JSON of the expected shape.
    case malformedJSON(String)
    /// `protocol` or `curve` names something other than Groth16 over BN254.
    case unsupported(String)
    /// A number is not a canonical decimal below its modulus: (where, why).
    case badNumber(field: String, reason: FieldDecodingError)
    /// A projective coordinate z other than 1 (or the point at infinity).
    case notAffine(field: String)
    /// The point is not on its curve.
    case notOnCurve(field: String)
    /// The G2 point is on the twist but outside the order-r subgroup.
    case notInSubgroup(field: String)
    /// The number of public inputs does not match the verifying key.
    case wrongPublicInputCount(expected: Int, got: Int)
    /// A verifying key whose IC length disagrees with nPublic.
    case inconsistentKey(String)

    public var description: String {
        switch self {
        case .malformedJSON(let s): return "malformed JSON: \(s)"
        case .unsupported(let s): return "unsupported: \(s)"
        case .badNumber(let f, let r): return "\(f): \(r)"
        case .notAffine(let f): return "\(f): projective z must be 1 (or the point at infinity)"
        case .notOnCurve(let f): return "\(f): point is not on the curve"
        case .notInSubgroup(let f): return "\(f): point is not in the order-r subgroup"
        case .wrongPublicInputCount(let e, let g): return "wrong number of public inputs: expected \(e), got \(g)"
        case .inconsistentKey(let s): return "inconsistent verifying key: \(s)"
        }
    }

    /// A stable machine-readable code for logs and APIs.
    public var code: String {
        switch self {
        case .malformedJSON: return "malformed_json"
        case .unsupported: return "unsupported"
        case .badNumber: return "non_canonical"
        case .notAffine: return "not_affine"
        case .notOnCurve: return "not_on_curve"
        case .notInSubgroup: return "not_in_subgroup"
        case .wrongPublicInputCount: return "wrong_public_input_count"
        case .inconsistentKey: return "inconsistent_key"
        }
    }
}
