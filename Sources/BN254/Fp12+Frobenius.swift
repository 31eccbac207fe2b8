/// Frobenius coefficients γ[k][j] = ξ^(j·(p^k − 1)/6) for k = 1, 2, 3 and j = 0…5, computed
/// once from their definition (the untwisted basis element w^j maps to w^(j·p^k) =
/// w^j·ξ^(j(p^k−1)/6) since w⁶ = ξ).
public struct FrobeniusConstants: Sendable {
    public let gamma: [[Fp2]]  // gamma[k-1][j]

    static let shared = FrobeniusConstants()

    init() {
        let p = GMPInteger.p
        let xi = Fp2(Fp(9), Fp(1))
        var table: [[Fp2]] = []
        for k in 1...3 {
            let base = (p.power(UInt(k)) - GMPInteger(1)).exactlyDivided(by: 6)
            table.append((0..<6).map { j in xi.pow((base * GMPInteger(UInt(j))).limbs) })
        }
        gamma = table
    }
}

extension Fp12 {
    /// x ↦ x^(p^k) for k = 1, 2, 3.
    public func frobenius(_ k: Int) -> Fp12 {
        precondition((1...3).contains(k))
        let g = FrobeniusConstants.shared.gamma[k - 1]
        @inline(__always) func f(_ a: Fp2, _ j: Int) -> Fp2 {
            let c = k % 2 == 1 ? a.conjugate() : a
            return j == 0 ? c : c * g[j]
        }
        return Fp12(Fp6(f(c0.c0, 0), f(c0.c1, 2), f(c0.c2, 4)),
                    Fp6(f(c1.c0, 1), f(c1.c1, 3), f(c1.c2, 5)))
    }

    /// Granger–Scott squaring for elements of the cyclotomic subgroup (after the easy part of
    /// the final exponentiation). Seen as Fp4[z]/(z³ − s) with s = w³, f = A + Bz + Cz² where
    /// A = (w⁰, w³), B = (w¹, w⁴), C = (w², w⁵); then f² = (3A² − 2Ā) + (3sC² + 2B̄)z + (3B² − 2C̄)z².
    @inlinable
    public func cyclotomicSquared() -> Fp12 {
        // Fp4 squares: (x + ys)² = (x² + ξy²) + 2xy·s.
        @inline(__always) func sq4(_ x: Fp2, _ y: Fp2) -> (Fp2, Fp2) {
            let x2 = x.squared(), y2 = y.squared()
            return (x2 + y2.mulByNonResidue(), (x + y).squared() - x2 - y2)
        }
        let (a0, b1) = (c0.c0, c1.c1)  // A
        let (b0, a2) = (c1.c0, c0.c2)  // B
        let (a1, b2) = (c0.c1, c1.c2)  // C
        let (t00, t01) = sq4(a0, b1)
        let (v0, v1) = sq4(b0, a2)
        let (u0, u1) = sq4(a1, b2)
        // A' = 3A² − 2Ā
        let na0 = (t00 - a0).doubled() + t00
        let nb1 = (t01 + b1).doubled() + t01
        // B' = 3sC² + 2B̄ with s·(u0 + u1 s) = ξu1 + u0 s
        let su0 = u1.mulByNonResidue()
        let nb0 = (su0 + b0).doubled() + su0
        let na2 = (u0 - a2).doubled() + u0
        // C' = 3B² − 2C̄
        let na1 = (v0 - a1).doubled() + v0
        let nb2 = (v1 + b2).doubled() + v1
        return Fp12(Fp6(na0, na1, na2), Fp6(nb0, nb1, nb2))
    }

    /// x ↦ x^e for a cyclotomic element: signed digits with conjugation as the free inverse.
    /// Long exponents use width-4 digits (±1, ±3, ±5, ±7) over a table of x, x³, x⁵, x⁷: for the
    /// BN parameter x = 4965661367192848881 that is 63 squarings and 16 multiplications, where
    /// the plain NAF (width 2, kept for short exponents) takes 62 and 23, and binary 62 and 27.
    public func cyclotomicPowNAF(_ e: UInt64) -> Fp12 {
        let width = e >> 16 == 0 ? 2 : 4
        let digits = wnaf([UInt(e)], width: width)
        var table = [self]
        if width > 2 {
            let square = cyclotomicSquared()
            for _ in 1..<(1 << (width - 2)) { table.append(table[table.count - 1] * square) }
        }
        var result = Fp12.one
        var started = false
        for d in digits.reversed() {
            if started { result = result.cyclotomicSquared() }
            if d != 0 {
                let entry = table[Int(d.magnitude) >> 1]
                let term = d > 0 ? entry : entry.conjugate()
                result = started ? result * term : term
                started = true
            }
        }
        return result
    }

    /// x ↦ x^e for a cyclotomic element and a 64-bit exponent (plain binary; reference).
    @inlinable
    public func cyclotomicPow(_ e: UInt64) -> Fp12 {
        var result = Fp12.one
        var started = false
        for bit in stride(from: 63, through: 0, by: -1) {
            if started { result = result.cyclotomicSquared() }
            if (e >> UInt64(bit)) & 1 == 1 { result = started ? result * self : self; started = true }
        }
        return result
    }
}
