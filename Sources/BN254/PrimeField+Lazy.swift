import CGMP

/// Lazy reduction: products kept double-width, combined, and reduced once.
///
/// A Montgomery reduction accepts any t < m·2^256. With m < 2^254, the sum or difference of up
/// to four products of reduced elements stays in range, so Fp2 and the towers can skip one
/// REDC per Karatsuba step (Aranha, Karabina, Longa, Gebotys, López: "Faster explicit formulas
/// for computing pairings over ordinary curves", Eurocrypt 2011).
extension PrimeField {
    /// The full 512-bit product of two (possibly unreduced, < 2^255) limb vectors (`mpn_mul_n`).
    @inlinable @inline(__always)
    static func wideProduct(_ a: Limbs, _ b: Limbs) -> WideLimbs {
        var wide = WideLimbs()
        var x = a, y = b
        withUnsafeMutablePointer(to: &wide) { w in
            withUnsafePointer(to: &x) { xp in
                withUnsafePointer(to: &y) { yp in
                    __gmpn_mul_n(limbPointer(w), limbPointer(xp), limbPointer(yp), 4)
                }
            }
        }
        return wide
    }

    /// `a -= b` on 512 bits; returns the borrow. Inline carry chain: an 8-limb subtraction is
    /// cheaper than a call (the products and reductions are what GMP is for).
    @inlinable @inline(__always)
    static func wideSubtract(_ a: inout WideLimbs, _ b: WideLimbs) -> Bool {
        var c: UInt = 0
        a.v.0 = sbb(a.v.0, b.v.0, &c); a.v.1 = sbb(a.v.1, b.v.1, &c)
        a.v.2 = sbb(a.v.2, b.v.2, &c); a.v.3 = sbb(a.v.3, b.v.3, &c)
        a.v.4 = sbb(a.v.4, b.v.4, &c); a.v.5 = sbb(a.v.5, b.v.5, &c)
        a.v.6 = sbb(a.v.6, b.v.6, &c); a.v.7 = sbb(a.v.7, b.v.7, &c)
        return c != 0
    }

    /// `a += b` on 512 bits; returns the carry.
    @inlinable @inline(__always)
    static func wideAdd(_ a: inout WideLimbs, _ b: WideLimbs) -> Bool {
        var c: UInt = 0
        a.v.0 = adc(a.v.0, b.v.0, &c); a.v.1 = adc(a.v.1, b.v.1, &c)
        a.v.2 = adc(a.v.2, b.v.2, &c); a.v.3 = adc(a.v.3, b.v.3, &c)
        a.v.4 = adc(a.v.4, b.v.4, &c); a.v.5 = adc(a.v.5, b.v.5, &c)
        a.v.6 = adc(a.v.6, b.v.6, &c); a.v.7 = adc(a.v.7, b.v.7, &c)
        return c != 0
    }

    /// `a += m·2^256`: turns a wrapped-negative difference of products back into a value in
    /// [0, m·2^256) with the same residue after reduction.
    @inlinable @inline(__always)
    static func wideAddModulusHigh(_ a: inout WideLimbs) {
        let m = P.modulus
        var c: UInt = 0
        a.v.4 = adc(a.v.4, m.v.0, &c); a.v.5 = adc(a.v.5, m.v.1, &c)
        a.v.6 = adc(a.v.6, m.v.2, &c); a.v.7 = adc(a.v.7, m.v.3, &c)
    }

    /// `a - b` as a non-negative double-width value (adds m·2^256 when it would be negative).
    @inlinable @inline(__always)
    static func wideDifference(_ a: WideLimbs, _ b: WideLimbs) -> WideLimbs {
        var d = a
        if wideSubtract(&d, b) { wideAddModulusHigh(&d) }
        return d
    }

    /// Sum of limbs without reduction; both < 2^255 so no carry out.
    @inlinable @inline(__always)
    static func unreducedSum(_ a: Self, _ b: Self) -> Limbs {
        Limbs.addWithCarry(a.montgomery, b.montgomery).0
    }
}
