/// The BN parameter x of BN254 (p and r are polynomials in x; the ate loop count is 6x + 2).
public let bnParameterX: UInt64 = 4_965_661_367_192_848_881

extension AffinePoint where C == G2Curve {
    /// ψ = untwist ∘ Frobenius ∘ twist: (x, y) ↦ (x̄·ξ^((p−1)/3), ȳ·ξ^((p−1)/2)).
    /// On G2 it acts as multiplication by p (mod r).
    public func psi() -> Self {
        if isInfinity { return self }
        let g = FrobeniusConstants.shared.gamma[0]
        return Self(x: x.conjugate() * g[2], y: y.conjugate() * g[3])
    }

    /// ψ²: (x, y) ↦ (x·ξ^((p²−1)/3), y·ξ^((p²−1)/2)).
    public func psi2() -> Self {
        if isInfinity { return self }
        let g = FrobeniusConstants.shared.gamma[1]
        return Self(x: x * g[2], y: y * g[3])
    }

    /// Membership in the order-r subgroup, by the reference definition [r]Q = O.
    public var isInSubgroupReference: Bool {
        if isInfinity { return true }
        return jacobian.multiplied(by: FrParameters.modulus).isInfinity
    }

    /// Membership in the order-r subgroup with one 63-bit scalar multiplication:
    /// [x+1]Q + ψ([x]Q) + ψ²([x]Q) = ψ³([2x]Q) (El Housni, Guillevic, Piellard, "Co-factor
    /// clearing and subgroup membership testing on pairing-friendly curves", 2022, section 5.1
    /// for BN curves). Tests check it against [r]Q = O on points inside and outside G2.
    public var isInSubgroup: Bool {
        if isInfinity { return true }
        let q = jacobian
        let xq = q.multiplied(by: [UInt(bnParameterX)])
        let psiXQ = xq.psi()
        let lhs = xq + q + psiXQ + psiXQ.psi()
        let rhs = psiXQ.psi().psi().doubled()
        return lhs == rhs
    }

    /// The older criterion ψ(Q) = [6x²]Q (127-bit multiplication), kept as a cross-check.
    public var isInSubgroupPsi6x2: Bool {
        if isInfinity { return true }
        return G2Jacobian(psi()) == jacobian.multiplied(by: G2Curve.sixXSquared)
    }
}

extension JacobianPoint where C == G2Curve {
    /// ψ on Jacobian coordinates: conjugation is a field automorphism, so
    /// (X̄·γ₂, Ȳ·γ₃, Z̄) represents (x̄·γ₂, ȳ·γ₃) without an inversion.
    public func psi() -> Self {
        let g = FrobeniusConstants.shared.gamma[0]
        return Self(x: x.conjugate() * g[2], y: y.conjugate() * g[3], z: z.conjugate())
    }
}

extension G2Curve {
    /// 6x² as limbs (127 bits).
    static let sixXSquared: [UInt] = {
        let x = GMPInteger(UInt(bnParameterX))
        return (x * x * GMPInteger(6)).limbs
    }()
}

extension AffinePoint where C == G1Curve {
    /// G1 of BN254 has cofactor 1: every point on the curve is in the subgroup.
    public var isInSubgroup: Bool { isOnCurve }
}
