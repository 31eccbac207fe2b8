/// A point in affine coordinates; the point at infinity is flagged (its x, y are zero).
@frozen
public struct AffinePoint<C: CurveParameters>: Sendable, Equatable {
    public var x: C.Field
    public var y: C.Field
    public var isInfinity: Bool

    @inlinable
    public init(x: C.Field, y: C.Field) { self.x = x; self.y = y; self.isInfinity = false }

    @inlinable
    public static var infinity: Self {
        var p = Self(x: .zero, y: .zero)
        p.isInfinity = true
        return p
    }

    public static var generator: Self { Self(x: C.generator.x, y: C.generator.y) }

    /// y² = x³ + b (the point at infinity counts as on the curve).
    @inlinable
    public var isOnCurve: Bool {
        if isInfinity { return true }
        return y.squared() == x.squared() * x + C.b
    }

    @inlinable
    public static prefix func - (p: Self) -> Self {
        if p.isInfinity { return p }
        return Self(x: p.x, y: -p.y)
    }

    @inlinable
    public var jacobian: JacobianPoint<C> { JacobianPoint(self) }
}

/// A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity.
/// Formulas for a = 0 from the Explicit-Formulas Database (dbl-2009-l, add-2007-bl, madd-2007-bl).
@frozen
public struct JacobianPoint<C: CurveParameters>: Sendable, Equatable, CustomStringConvertible {
    public var x: C.Field
    public var y: C.Field
    public var z: C.Field

    @inlinable @inline(__always)
    public init(x: C.Field, y: C.Field, z: C.Field) { self.x = x; self.y = y; self.z = z }

    @inlinable
    public init(_ a: AffinePoint<C>) {
        if a.isInfinity { self = .infinity } else { self.init(x: a.x, y: a.y, z: .one) }
    }

    @inlinable @inline(__always)
    public static var infinity: Self { Self(x: .one, y: .one, z: .zero) }

    public static var generator: Self { Self(AffinePoint<C>.generator) }

    @inlinable @inline(__always)
    public var isInfinity: Bool { z.isZero }

    /// Projective equality: X1·Z2² = X2·Z1² and Y1·Z2³ = Y2·Z1³.
    @inlinable
    public static func == (a: Self, b: Self) -> Bool {
        if a.isInfinity || b.isInfinity { return a.isInfinity && b.isInfinity }
        let z1z1 = a.z.squared(), z2z2 = b.z.squared()
        if a.x * z2z2 != b.x * z1z1 { return false }
        return a.y * z2z2 * b.z == b.y * z1z1 * a.z
    }

    @inlinable
    public static prefix func - (p: Self) -> Self { Self(x: p.x, y: -p.y, z: p.z) }

    /// 2P (dbl-2009-l).
    @inlinable
    public func doubled() -> Self {
        if isInfinity { return self }
        let a = x.squared()
        let b = y.squared()
        let c = b.squared()
        let d = ((x + b).squared() - a - c).doubled()
        let e = a.doubled() + a
        let f = e.squared()
        let x3 = f - d.doubled()
        let y3 = e * (d - x3) - c.doubled().doubled().doubled()
        let z3 = (y * z).doubled()
        return Self(x: x3, y: y3, z: z3)
    }

    /// P + Q (add-2007-bl), handling infinity, P = Q and P = −Q.
    @inlinable
    public static func + (p: Self, q: Self) -> Self {
        if p.isInfinity { return q }
        if q.isInfinity { return p }
        let z1z1 = p.z.squared(), z2z2 = q.z.squared()
        let u1 = p.x * z2z2, u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2, s2 = q.y * p.z * z1z1
        let h = u2 - u1
        let r = (s2 - s1).doubled()
        if h.isZero {
            return r.isZero ? p.doubled() : .infinity
        }
        let i = h.doubled().squared()
        let j = h * i
        let v = u1 * i
        let x3 = r.squared() - j - v.doubled()
        let y3 = r * (v - x3) - (s1 * j).doubled()
        let z3 = ((p.z + q.z).squared() - z1z1 - z2z2) * h
        return Self(x: x3, y: y3, z: z3)
    }

    /// P + Q with Q affine (madd-2007-bl).
    @inlinable
    public func adding(_ q: AffinePoint<C>) -> Self {
        if q.isInfinity { return self }
        if isInfinity { return Self(q) }
        let z1z1 = z.squared()
        let u2 = q.x * z1z1
        let s2 = q.y * z * z1z1
        let h = u2 - x
        let r = (s2 - y).doubled()
        if h.isZero {
            return r.isZero ? doubled() : .infinity
        }
        let hh = h.squared()
        let i = hh.doubled().doubled()
        let j = h * i
        let v = x * i
        let x3 = r.squared() - j - v.doubled()
        let y3 = r * (v - x3) - (y * j).doubled()
        let z3 = (z + h).squared() - z1z1 - hh
        return Self(x: x3, y: y3, z: z3)
    }

    @inlinable
    public static func - (p: Self, q: Self) -> Self { p + (-q) }

    @inlinable
    public static func += (p: inout Self, q: Self) { p = p + q }

    /// Affine form (one inversion).
    @inlinable
    public var affine: AffinePoint<C> {
        if isInfinity { return .infinity }
        let zi = z.inverse()
        let zi2 = zi.squared()
        return AffinePoint(x: x * zi2, y: y * zi2 * zi)
    }

    /// Affine forms of many points with one inversion (Montgomery's trick).
    public static func batchAffine(_ points: [Self]) -> [AffinePoint<C>] {
        var prefix = [C.Field]()
        prefix.reserveCapacity(points.count)
        var acc = C.Field.one
        for p in points {
            prefix.append(acc)
            if !p.isInfinity { acc = acc * p.z }
        }
        var inv = acc.inverse()
        var out = [AffinePoint<C>](repeating: .infinity, count: points.count)
        for i in stride(from: points.count - 1, through: 0, by: -1) {
            let p = points[i]
            if p.isInfinity { continue }
            let zi = inv * prefix[i]
            inv = inv * p.z
            let zi2 = zi.squared()
            out[i] = AffinePoint(x: p.x * zi2, y: p.y * zi2 * zi)
        }
        return out
    }

    /// Is the point on the curve (Y² = X³ + b·Z⁶)?
    @inlinable
    public var isOnCurve: Bool {
        if isInfinity { return true }
        let z2 = z.squared()
        let z6 = z2.squared() * z2
        return y.squared() == x.squared() * x + C.b * z6
    }

    public var description: String {
        let a = affine
        return a.isInfinity ? "infinity" : "(\(a.x), \(a.y))"
    }
}

extension JacobianPoint {
    /// [k]P for a scalar given as little-endian limbs, width-5 wNAF (variable time: public data only).
    public func multiplied(by k: [UInt]) -> Self {
        let naf = wnaf(k, width: 5)
        if naf.isEmpty || isInfinity { return .infinity }
        // Odd multiples P, 3P, …, 15P.
        let p2 = doubled()
        var table = [self]
        for i in 1..<8 { table.append(table[i - 1] + p2) }
        var acc = Self.infinity
        for d in naf.reversed() {
            acc = acc.doubled()
            if d > 0 { acc = acc + table[Int(d) >> 1] } else if d < 0 { acc = acc - table[Int(-d) >> 1] }
        }
        return acc
    }

    public func multiplied(by k: Limbs) -> Self { multiplied(by: [k.v.0, k.v.1, k.v.2, k.v.3]) }

    /// [k]P for a scalar-field element (its canonical value).
    public func multiplied(by k: Fr) -> Self { multiplied(by: k.canonical) }

    public static func * (k: Fr, p: Self) -> Self { p.multiplied(by: k) }
}

/// Width-w non-adjacent form of a non-negative integer, least significant digit first.
/// Digits are odd in (−2^(w−1), 2^(w−1)) or zero.
public func wnaf(_ k: [UInt], width w: Int) -> [Int8] {
    var n = k
    var out: [Int8] = []
    out.reserveCapacity(n.count * 64 + 1)
    let mask = UInt(1 << w) - 1
    let half = 1 << (w - 1)
    @inline(__always) func isZero() -> Bool { n.allSatisfy { $0 == 0 } }
    @inline(__always) func shiftRight() {
        for i in 0..<n.count {
            n[i] = (n[i] >> 1) | (i + 1 < n.count ? n[i + 1] << 63 : 0)
        }
    }
    while !isZero() {
        if n[0] & 1 == 1 {
            var d = Int(n[0] & mask)
            if d >= half { d -= 1 << w }
            out.append(Int8(d))
            // n -= d
            if d > 0 {
                var borrow = UInt(d)
                for i in 0..<n.count where borrow != 0 {
                    let (r, o) = n[i].subtractingReportingOverflow(borrow)
                    n[i] = r; borrow = o ? 1 : 0
                }
            } else {
                var carry = UInt(-d)
                for i in 0..<n.count where carry != 0 {
                    let (r, o) = n[i].addingReportingOverflow(carry)
                    n[i] = r; carry = o ? 1 : 0
                }
                if carry != 0 { n.append(carry) }
            }
        } else {
            out.append(0)
        }
        shiftRight()
    }
    return out
}

public typealias G1Affine = AffinePoint<G1Curve>
public typealias G1Jacobian = JacobianPoint<G1Curve>
public typealias G2Affine = AffinePoint<G2Curve>
public typealias G2Jacobian = JacobianPoint<G2Curve>
