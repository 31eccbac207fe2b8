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

    /// Membership in the order-r subgroup: ψ(Q) = [6x²]Q (Scott, "A note on group membership
    /// tests for G1, G2 and GT on BLS pairing-friendly curves", section on BN curves). About half
    /// the cost of [r]Q; tests check that both criteria agree on points in and outside G2.
    public var isInSubgroup: Bool {
        if isInfinity { return true }
        return G2Jacobian(psi()) == jacobian.multiplied(by: G2Curve.sixXSquared)
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
