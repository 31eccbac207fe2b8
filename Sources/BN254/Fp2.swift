/// Fp2 = Fp[u]/(u² + 1); the element c0 + c1·u (snarkjs writes it `[c0, c1]`).
@frozen
public struct Fp2: CurveField, Hashable, CustomStringConvertible {
    public var c0: Fp
    public var c1: Fp

    @inlinable @inline(__always)
    public init(_ c0: Fp, _ c1: Fp) { self.c0 = c0; self.c1 = c1 }

    @inlinable @inline(__always)
    public static var zero: Fp2 { Fp2(.zero, .zero) }
    @inlinable @inline(__always)
    public static var one: Fp2 { Fp2(.one, .zero) }

    @inlinable @inline(__always)
    public var isZero: Bool { c0.isZero && c1.isZero }

    @inlinable @inline(__always)
    public static func == (a: Fp2, b: Fp2) -> Bool { a.c0 == b.c0 && a.c1 == b.c1 }

    @inlinable @inline(__always)
    public static func + (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 + b.c0, a.c1 + b.c1) }
    @inlinable @inline(__always)
    public static func - (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 - b.c0, a.c1 - b.c1) }
    @inlinable @inline(__always)
    public static prefix func - (a: Fp2) -> Fp2 { Fp2(-a.c0, -a.c1) }
    @inlinable @inline(__always)
    public func doubled() -> Fp2 { Fp2(c0.doubled(), c1.doubled()) }
    @inlinable @inline(__always)
    public func halved() -> Fp2 { Fp2(c0.halved(), c1.halved()) }
    @inlinable @inline(__always)
    public static func += (a: inout Fp2, b: Fp2) { a = a + b }
    @inlinable @inline(__always)
    public static func -= (a: inout Fp2, b: Fp2) { a = a - b }
    @inlinable @inline(__always)
    public static func *= (a: inout Fp2, b: Fp2) { a = a * b }

    /// Karatsuba with lazy reduction: three `mpn_mul_n`, two REDCs.
    /// c0 = a0b0 − a1b1, c1 = (a0+a1)(b0+b1) − a0b0 − a1b1.
    @inlinable @inline(__always)
    public static func * (a: Fp2, b: Fp2) -> Fp2 {
        let t0 = Fp.wideProduct(a.c0.montgomery, b.c0.montgomery)
        let t1 = Fp.wideProduct(a.c1.montgomery, b.c1.montgomery)
        var t2 = Fp.wideProduct(Fp.unreducedSum(a.c0, a.c1), Fp.unreducedSum(b.c0, b.c1))
        _ = Fp.wideSubtract(&t2, t0)
        _ = Fp.wideSubtract(&t2, t1)  // a0b1 + a1b0 ≥ 0
        var d = Fp.wideDifference(t0, t1)
        return Fp2(Fp(montgomery: Fp.reduce(&d)), Fp(montgomery: Fp.reduce(&t2)))
    }

    /// (a0 + a1u)² = (a0+a1)(a0−a1) + 2a0a1·u: two products.
    @inlinable @inline(__always)
    public func squared() -> Fp2 {
        let a = c0 + c1, b = c0 - c1
        let m = c0 * c1
        return Fp2(a * b, m.doubled())
    }

    @inlinable @inline(__always)
    public func scaled(by s: Fp) -> Fp2 { Fp2(c0 * s, c1 * s) }

    /// Multiplication by the sextic non-residue ξ = 9 + u: (9a0 − a1) + (a0 + 9a1)u.
    @inlinable @inline(__always)
    public func mulByNonResidue() -> Fp2 {
        let a8 = c0.doubled().doubled().doubled()
        let b8 = c1.doubled().doubled().doubled()
        return Fp2(a8 + c0 - c1, b8 + c1 + c0)
    }

    /// The conjugate a0 − a1u, which is also the p-power Frobenius.
    @inlinable @inline(__always)
    public func conjugate() -> Fp2 { Fp2(c0, -c1) }

    /// 1 / (a0 + a1u) = (a0 − a1u) / (a0² + a1²); zero maps to zero.
    @inlinable
    public func inverse() -> Fp2 {
        let norm = c0.squared() + c1.squared()
        let inv = norm.inverse()
        return Fp2(c0 * inv, -(c1 * inv))
    }

    /// Exponentiation by a little-endian limb vector.
    public func pow(_ exponent: [UInt]) -> Fp2 {
        var result = Fp2.one
        var started = false
        for limb in exponent.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                if started { result = result.squared() }
                if (limb >> UInt(bit)) & 1 == 1 { result = started ? result * self : self; started = true }
            }
        }
        return result
    }

    /// Square root in Fp2 when one exists (complex method, p ≡ 3 mod 4), else `nil`.
    public func squareRoot() -> Fp2? {
        if isZero { return self }
        if c1.isZero {
            if let r = c0.squareRoot() { return Fp2(r, .zero) }
            // c0 is a non-residue in Fp: sqrt(c0) = sqrt(-c0)·u.
            guard let r = (-c0).squareRoot() else { return nil }
            return Fp2(.zero, r)
        }
        let norm = c0.squared() + c1.squared()
        guard let alpha = norm.squareRoot() else { return nil }
        var delta = (c0 + alpha).halved()
        var x0 = delta.squareRoot()
        if x0 == nil {
            delta = (c0 - alpha).halved()
            x0 = delta.squareRoot()
        }
        guard let a = x0, !a.isZero else { return nil }
        let b = c1 * (a.doubled()).inverse()
        let candidate = Fp2(a, b)
        return candidate.squared() == self ? candidate : nil
    }

    public var description: String { "[\(c0), \(c1)]" }
}
