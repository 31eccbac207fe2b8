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
    /// Fixed-base tables of the IC points (the public-input commitment's bases).
    let icTables: [FixedBaseTable]

    public init(_ key: VerifyingKey) {
        self.key = key
        alphaBeta = Pairing.pairing(key.alpha, key.beta)
        negBeta = G2Prepared(-key.beta)
        negGamma = G2Prepared(-key.gamma)
        negDelta = G2Prepared(-key.delta)
        icTables = key.ic.map(FixedBaseTable.init)
    }

    public var publicInputCount: Int { key.publicInputCount }

    /// Σ sᵢ·IC[i] for scalars s (s[0] multiplies IC[0]). The verifier calls it with
    /// s = (1, public inputs…), the batch verifier with (Σρ, Σρ·x₁, …).
    func icCombination(_ scalars: [Fr]) -> G1Jacobian {
        precondition(scalars.count == icTables.count)
        var acc = G1Jacobian.infinity
        for (table, s) in zip(icTables, scalars) { table.accumulate(s, into: &acc) }
        return acc
    }
}

/// Multiples of a fixed G1 point for signed 7-bit windows: entry [k][j] = (j+1)·2^(7k)·P for
/// j < 64. A 254-bit scalar then costs at most 37 mixed additions and no doubling (about a
/// third of a windowed multiplication). 2,432 affine points (152 KiB) per base.
struct FixedBaseTable: Sendable {
    static let window = 7
    static let windows = 37  // ⌈(254 + 1) / 7⌉: the top window absorbs the recoding carry
    let entries: [G1Affine]  // windows × 64, row-major

    init(_ p: G1Affine) {
        let half = 1 << (Self.window - 1)
        var points: [G1Jacobian] = []
        points.reserveCapacity(Self.windows * half)
        var base = p.jacobian
        for _ in 0..<Self.windows {
            var m = base
            for _ in 0..<half { points.append(m); m = m + base }
            for _ in 0..<Self.window { base = base.doubled() }
        }
        entries = G1Jacobian.batchAffine(points)
    }

    /// acc += s·P, with digits in [−64, 64) recoded from 7-bit chunks.
    func accumulate(_ s: Fr, into acc: inout G1Jacobian) {
        let l = s.canonical
        let half = 1 << (Self.window - 1)
        var carry = 0
        for k in 0..<Self.windows {
            let bit = k * Self.window
            var chunk = 0
            for b in 0..<Self.window where bit + b < 256 && l.bit(bit + b) { chunk |= 1 << b }
            var d = chunk + carry
            carry = 0
            if d >= half { d -= 1 << Self.window; carry = 1 }
            if d > 0 { acc = acc.adding(entries[k * half + d - 1]) }
            else if d < 0 { acc = acc.adding(-entries[k * half - d - 1]) }
        }
        precondition(carry == 0, "scalar wider than the fixed-base table")
    }
}

@inline(__always)
func limbArray(_ l: Limbs) -> [UInt] { [l.v.0, l.v.1, l.v.2, l.v.3] }
