import BN254

/// A verifying key prepared once for many verifications (arkworks' `PreparedVerifyingKey`):
/// e(α, β) as a finished pairing value, the Miller-loop lines of −β, −γ and −δ, and the
/// odd multiples of the IC points used by the public-input combination.
public struct PreparedVerifyingKey: Sendable {
    public let key: VerifyingKey
    /// e(α, β), computed here (never taken from a key file's `vk_alphabeta_12`).
    public let alphaBeta: GT
    let negBeta: G2Prepared
    let negGamma: G2Prepared
    let negDelta: G2Prepared
    /// For each IC point P: P, 3P, 5P, …, 15P (affine), for width-5 wNAF.
    let icTables: [[G1Affine]]

    public init(_ key: VerifyingKey) {
        self.key = key
        alphaBeta = Pairing.pairing(key.alpha, key.beta)
        negBeta = G2Prepared(-key.beta)
        negGamma = G2Prepared(-key.gamma)
        negDelta = G2Prepared(-key.delta)
        icTables = key.ic.map { p in
            let j = p.jacobian, twice = j.doubled()
            var odd = [j]
            for i in 1..<8 { odd.append(odd[i - 1] + twice) }
            return G1Jacobian.batchAffine(odd)
        }
    }

    public var publicInputCount: Int { key.publicInputCount }

    /// Σ sᵢ·IC[i] for scalars s (s[0] multiplies IC[0]): interleaved width-5 wNAF, one shared
    /// doubling chain (Straus). The verifier calls it with s = (1, public inputs…), and the
    /// batch verifier with (Σρ, Σρ·x₁, …).
    func icCombination(_ scalars: [Fr]) -> G1Jacobian {
        precondition(scalars.count == icTables.count)
        let digits = scalars.map { s in wnaf(limbArray(s.canonical), width: 5) }
        let top = digits.map(\.count).max() ?? 0
        var acc = G1Jacobian.infinity
        for bit in stride(from: top - 1, through: 0, by: -1) {
            acc = acc.doubled()
            for (k, d) in digits.enumerated() where bit < d.count {
                let v = d[bit]
                if v > 0 { acc = acc.adding(icTables[k][Int(v) >> 1]) }
                else if v < 0 { acc = acc.adding(-icTables[k][Int(-v) >> 1]) }
            }
        }
        return acc
    }
}

@inline(__always)
func limbArray(_ l: Limbs) -> [UInt] { [l.v.0, l.v.1, l.v.2, l.v.3] }
