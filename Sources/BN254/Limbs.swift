import CGMP

/// Four 64-bit limbs, least significant first: the storage of every field element.
///
/// A homogeneous tuple has C layout, so a pointer to `Limbs` is a valid `mp_limb_t *` for GMP.
@frozen
public struct Limbs: Sendable {
    public var v: (UInt, UInt, UInt, UInt)

    @inlinable @inline(__always)
    public init(_ l0: UInt, _ l1: UInt, _ l2: UInt, _ l3: UInt) { v = (l0, l1, l2, l3) }

    @inlinable @inline(__always)
    public static var zero: Limbs { Limbs(0, 0, 0, 0) }

    @inlinable @inline(__always)
    public var isZero: Bool { (v.0 | v.1 | v.2 | v.3) == 0 }

    @inlinable @inline(__always)
    public static func == (a: Limbs, b: Limbs) -> Bool {
        ((a.v.0 ^ b.v.0) | (a.v.1 ^ b.v.1) | (a.v.2 ^ b.v.2) | (a.v.3 ^ b.v.3)) == 0
    }

    /// `a >= b` as unsigned 256-bit integers.
    @inlinable @inline(__always)
    public static func >= (a: Limbs, b: Limbs) -> Bool {
        if a.v.3 != b.v.3 { return a.v.3 > b.v.3 }
        if a.v.2 != b.v.2 { return a.v.2 > b.v.2 }
        if a.v.1 != b.v.1 { return a.v.1 > b.v.1 }
        return a.v.0 >= b.v.0
    }

    /// Limb `i` (0 = least significant).
    @inlinable
    public subscript(i: Int) -> UInt {
        switch i {
        case 0: return v.0
        case 1: return v.1
        case 2: return v.2
        default: return v.3
        }
    }

    /// Bit `i` (0 = least significant).
    @inlinable
    public func bit(_ i: Int) -> Bool { (self[i >> 6] >> UInt(i & 63)) & 1 == 1 }

    /// Number of significant bits.
    @inlinable
    public var bitWidth: Int {
        if v.3 != 0 { return 256 - v.3.leadingZeroBitCount }
        if v.2 != 0 { return 192 - v.2.leadingZeroBitCount }
        if v.1 != 0 { return 128 - v.1.leadingZeroBitCount }
        return 64 - v.0.leadingZeroBitCount
    }

    /// `a + b`, wrapping at 2^256, and the carry out (0 or 1). Branch-free (compiles to adc).
    @inlinable @inline(__always)
    public static func add(_ a: Limbs, _ b: Limbs) -> (Limbs, UInt) {
        var c: UInt = 0
        let s0 = adc(a.v.0, b.v.0, &c)
        let s1 = adc(a.v.1, b.v.1, &c)
        let s2 = adc(a.v.2, b.v.2, &c)
        let s3 = adc(a.v.3, b.v.3, &c)
        return (Limbs(s0, s1, s2, s3), c)
    }

    /// `a - b`, wrapping at 2^256, and the borrow out (0 or 1). Branch-free (compiles to sbb).
    @inlinable @inline(__always)
    public static func sub(_ a: Limbs, _ b: Limbs) -> (Limbs, UInt) {
        var c: UInt = 0
        let d0 = sbb(a.v.0, b.v.0, &c)
        let d1 = sbb(a.v.1, b.v.1, &c)
        let d2 = sbb(a.v.2, b.v.2, &c)
        let d3 = sbb(a.v.3, b.v.3, &c)
        return (Limbs(d0, d1, d2, d3), c)
    }

    /// `mask ? a : b` limb-wise for a mask of all ones or all zeros.
    @inlinable @inline(__always)
    public static func select(_ mask: UInt, _ a: Limbs, _ b: Limbs) -> Limbs {
        Limbs((a.v.0 & mask) | (b.v.0 & ~mask), (a.v.1 & mask) | (b.v.1 & ~mask),
              (a.v.2 & mask) | (b.v.2 & ~mask), (a.v.3 & mask) | (b.v.3 & ~mask))
    }

    /// `a + b` with a Bool carry (kept for callers that branch on it).
    @inlinable @inline(__always)
    public static func addWithCarry(_ a: Limbs, _ b: Limbs) -> (Limbs, Bool) {
        let (s, c) = add(a, b)
        return (s, c != 0)
    }

    /// `a - b` with a Bool borrow.
    @inlinable @inline(__always)
    public static func subWithBorrow(_ a: Limbs, _ b: Limbs) -> (Limbs, Bool) {
        let (d, c) = sub(a, b)
        return (d, c != 0)
    }
}

/// Add with carry: returns a + b + carry mod 2^64 and sets carry to the carry out.
/// Written on UInt128 so that LLVM emits an add/adc chain rather than branches.
@inlinable @inline(__always)
public func adc(_ a: UInt, _ b: UInt, _ carry: inout UInt) -> UInt {
    let t = UInt128(a) &+ UInt128(b) &+ UInt128(carry)
    carry = UInt(truncatingIfNeeded: t >> 64)
    return UInt(truncatingIfNeeded: t)
}

/// Subtract with borrow: returns a − b − borrow mod 2^64 and sets borrow to the borrow out.
/// Written as a + ~b + (1 − borrow) on the add-with-carry above: LLVM turns a chain of these
/// into one sub/sbb chain, where the UInt128 subtraction compiled to four instructions a limb
/// (an add, an adc of −1, an arithmetic shift and an adc, to rebuild the borrow).
@inlinable @inline(__always)
public func sbb(_ a: UInt, _ b: UInt, _ borrow: inout UInt) -> UInt {
    var carry = 1 &- borrow
    let d = adc(a, ~b, &carry)
    borrow = 1 &- carry
    return d
}

/// Eight limbs: an unreduced double-width product, input of Montgomery reduction.
@frozen
public struct WideLimbs: Sendable {
    public var v: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt)
    @inlinable @inline(__always)
    public init() { v = (0, 0, 0, 0, 0, 0, 0, 0) }
}

/// Raw limb pointers for GMP calls. The pointers are only valid inside the caller's
/// `withUnsafe…Pointer` scope.
@inlinable @inline(__always)
func limbPointer(_ p: UnsafeMutablePointer<Limbs>) -> UnsafeMutablePointer<mp_limb_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: mp_limb_t.self)
}

@inlinable @inline(__always)
func limbPointer(_ p: UnsafePointer<Limbs>) -> UnsafePointer<mp_limb_t> {
    UnsafeRawPointer(p).assumingMemoryBound(to: mp_limb_t.self)
}

@inlinable @inline(__always)
func limbPointer(_ p: UnsafeMutablePointer<WideLimbs>) -> UnsafeMutablePointer<mp_limb_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: mp_limb_t.self)
}
