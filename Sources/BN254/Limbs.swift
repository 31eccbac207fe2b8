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

    /// `a + b`, wrapping at 2^256, and the carry out.
    @inlinable @inline(__always)
    public static func addWithCarry(_ a: Limbs, _ b: Limbs) -> (Limbs, Bool) {
        let (s0, c0) = a.v.0.addingReportingOverflow(b.v.0)
        var (s1, c1) = a.v.1.addingReportingOverflow(b.v.1)
        var c: Bool
        if c0 { (s1, c) = s1.addingReportingOverflow(1); c1 = c1 || c }
        var (s2, c2) = a.v.2.addingReportingOverflow(b.v.2)
        if c1 { (s2, c) = s2.addingReportingOverflow(1); c2 = c2 || c }
        var (s3, c3) = a.v.3.addingReportingOverflow(b.v.3)
        if c2 { (s3, c) = s3.addingReportingOverflow(1); c3 = c3 || c }
        return (Limbs(s0, s1, s2, s3), c3)
    }

    /// `a - b`, wrapping at 2^256, and the borrow out.
    @inlinable @inline(__always)
    public static func subWithBorrow(_ a: Limbs, _ b: Limbs) -> (Limbs, Bool) {
        let (d0, b0) = a.v.0.subtractingReportingOverflow(b.v.0)
        var (d1, b1) = a.v.1.subtractingReportingOverflow(b.v.1)
        var c: Bool
        if b0 { (d1, c) = d1.subtractingReportingOverflow(1); b1 = b1 || c }
        var (d2, b2) = a.v.2.subtractingReportingOverflow(b.v.2)
        if b1 { (d2, c) = d2.subtractingReportingOverflow(1); b2 = b2 || c }
        var (d3, b3) = a.v.3.subtractingReportingOverflow(b.v.3)
        if b2 { (d3, c) = d3.subtractingReportingOverflow(1); b3 = b3 || c }
        return (Limbs(d0, d1, d2, d3), b3)
    }
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
