/// Fp12 = Fp6[w]/(w² − v); the element c0 + c1·w. As a vector over Fp2 in powers of w:
/// c0 = (w⁰, w², w⁴), c1 = (w¹, w³, w⁵).
@frozen
public struct Fp12: Sendable, Equatable, CustomStringConvertible {
    public var c0: Fp6
    public var c1: Fp6

    @inlinable @inline(__always)
    public init(_ c0: Fp6, _ c1: Fp6) { self.c0 = c0; self.c1 = c1 }

    @inlinable @inline(__always)
    public static var one: Fp12 { Fp12(.one, .zero) }
    @inlinable @inline(__always)
    public static var zero: Fp12 { Fp12(.zero, .zero) }
    @inlinable
    public var isOne: Bool { self == .one }
    @inlinable
    public var isZero: Bool { c0.isZero && c1.isZero }

    @inlinable @inline(__always)
    public static func + (a: Fp12, b: Fp12) -> Fp12 { Fp12(a.c0 + b.c0, a.c1 + b.c1) }
    @inlinable @inline(__always)
    public static func - (a: Fp12, b: Fp12) -> Fp12 { Fp12(a.c0 - b.c0, a.c1 - b.c1) }

    /// Karatsuba over Fp6 (3 Fp6 products).
    @inlinable
    public static func * (a: Fp12, b: Fp12) -> Fp12 {
        let t0 = a.c0 * b.c0, t1 = a.c1 * b.c1
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1
        return Fp12(t0 + t1.mulByV(), c1)
    }

    @inlinable @inline(__always)
    public static func *= (a: inout Fp12, b: Fp12) { a = a * b }

    /// Complex squaring (2 Fp6 products).
    @inlinable
    public func squared() -> Fp12 {
        let ab = c0 * c1
        let t = (c0 + c1) * (c0 + c1.mulByV())
        return Fp12(t - ab - ab.mulByV(), ab.doubled())
    }

    /// The conjugate c0 − c1·w: the p⁶-Frobenius, and the inverse on the cyclotomic subgroup.
    @inlinable @inline(__always)
    public func conjugate() -> Fp12 { Fp12(c0, -c1) }

    public func inverse() -> Fp12 {
        let t = (c0.squared() - c1.squared().mulByV()).inverse()
        return Fp12(c0 * t, -(c1 * t))
    }

    /// Multiplication by the sparse line value ℓ0 + ℓ1·w + ℓ2·v·w (13 Fp2 products).
    /// This is the shape of every Miller-loop line on the D-type twist (see `Pairing.swift`).
    @inlinable
    public func mulByLine(_ l0: Fp2, _ l1: Fp2, _ l2: Fp2) -> Fp12 {
        let a = c0.scaled(by: l0)
        let b = c1.mulBy01(l1, l2)
        let c = (c0 + c1).mulBy01(l0 + l1, l2)
        return Fp12(a + b.mulByV(), c - a - b)
    }

    /// Multiplication by the product of two sparse line values ℓ = a0 + a1·w + a3·vw and
    /// ℓ' = b0 + b1·w + b3·vw (vw = w³), 23 Fp2 products where two `mulByLine` take 26.
    /// ℓℓ' = (a0b0 + ξa3b3) + (a0b1 + a1b0)w + a1b1·w² + (a0b3 + a3b0)w³ + (a1b3 + a3b1)w⁴
    /// (w⁶ = ξ): six products by Karatsuba, then a product by an element whose w⁵ term is zero
    /// (a full Fp6 product, a `mulBy01` and one more full product).
    @inlinable
    public func mulByLines(_ a0: Fp2, _ a1: Fp2, _ a3: Fp2, _ b0: Fp2, _ b1: Fp2, _ b3: Fp2) -> Fp12 {
        let x00 = a0 * b0, x11 = a1 * b1, x33 = a3 * b3
        let x01 = (a0 + a1) * (b0 + b1) - x00 - x11
        let x03 = (a0 + a3) * (b0 + b3) - x00 - x33
        let x13 = (a1 + a3) * (b1 + b3) - x11 - x33
        let g0 = Fp6(x00 + x33.mulByNonResidue(), x11, x13)  // w⁰, w², w⁴
        let (g10, g11) = (x01, x03)                           // w¹, w³ (w⁵ is zero)
        let t0 = c0 * g0
        let t1 = c1.mulBy01(g10, g11)
        let s = (c0 + c1) * Fp6(g0.c0 + g10, g0.c1 + g11, g0.c2)
        return Fp12(t0 + t1.mulByV(), s - t0 - t1)
    }

    /// Exponentiation by a little-endian limb vector (square and multiply; for tests and GT).
    public func pow(_ exponent: [UInt]) -> Fp12 {
        var result = Fp12.one
        var started = false
        for limb in exponent.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                if started { result = result.squared() }
                if (limb >> UInt(bit)) & 1 == 1 { result = started ? result * self : self; started = true }
            }
        }
        return result
    }

    /// The twelve Fp coefficients, c0.c0.c0 first, in the order snarkjs prints them.
    public var coefficients: [Fp] {
        [c0.c0, c0.c1, c0.c2, c1.c0, c1.c1, c1.c2].flatMap { [$0.c0, $0.c1] }
    }

    public var description: String { coefficients.map(\.description).description }
}
