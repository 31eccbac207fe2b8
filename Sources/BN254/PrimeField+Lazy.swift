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

    /// `a -= b` on 512 bits (`mpn_sub_n`); returns the borrow.
    @inlinable @inline(__always)
    static func wideSubtract(_ a: inout WideLimbs, _ b: WideLimbs) -> Bool {
        var y = b
        return withUnsafeMutablePointer(to: &a) { ap in
            withUnsafeMutablePointer(to: &y) { yp in
                __gmpn_sub_n(limbPointer(ap), limbPointer(ap), limbPointer(yp), 8) != 0
            }
        }
    }

    /// `a += b` on 512 bits (`mpn_add_n`); returns the carry.
    @inlinable @inline(__always)
    static func wideAdd(_ a: inout WideLimbs, _ b: WideLimbs) -> Bool {
        var y = b
        return withUnsafeMutablePointer(to: &a) { ap in
            withUnsafeMutablePointer(to: &y) { yp in
                __gmpn_add_n(limbPointer(ap), limbPointer(ap), limbPointer(yp), 8) != 0
            }
        }
    }

    /// `a += m·2^256`: turns a wrapped-negative difference of products back into a value in
    /// [0, m·2^256) with the same residue after reduction.
    @inlinable @inline(__always)
    static func wideAddModulusHigh(_ a: inout WideLimbs) {
        var m = P.modulus
        withUnsafeMutablePointer(to: &a) { ap in
            withUnsafePointer(to: &m) { mp in
                let high = limbPointer(ap) + 4
                _ = __gmpn_add_n(high, high, limbPointer(mp), 4)
            }
        }
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
