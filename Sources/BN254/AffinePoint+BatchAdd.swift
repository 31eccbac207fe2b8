/// Montgomery's trick, the half both batch-affine sums share (`AffinePoint.batchAdd` and the
/// MSM's bucket rounds): given `product` = Π den[i] over the i with `kinds[i] < 2`, and
/// `prefixes[i]` the product of those before i, replaces each such den[i] by 1/den[i] with one
/// field inversion and three multiplications per element. Over raw buffers, so the MSM still
/// allocates nothing per round.
@inlinable @inline(__always)
func invertInPlace<F: CurveField>(_ den: UnsafeMutablePointer<F>, prefixes: UnsafePointer<F>, kinds: UnsafePointer<UInt8>,
                                  count: Int, product: F) {
    var inv = product.inverse()
    var i = count - 1
    while i >= 0 {
        if kinds[i] < 2 {
            let d = den[i]
            den[i] = inv * prefixes[i]
            inv = inv * d
        }
        i -= 1
    }
}

extension AffinePoint {
    /// The denominator of p + q in affine coordinates and the kind of sum: 0 add (x_q − x_p),
    /// 1 double (2·y_p), 2 one side is infinity (nothing to invert), 3 P + (−P) = infinity.
    @inlinable @inline(__always)
    static func sumDenominator(_ p: Self, _ q: Self) -> (kind: UInt8, den: C.Field) {
        if p.isInfinity || q.isInfinity { return (2, .one) }
        let d = q.x - p.x
        if !d.isZero { return (0, d) }
        return q.y == p.y ? (1, p.y.doubled()) : (3, .one)
    }

    /// p + q of kind 0 or 1, given `inverse` = 1/denominator (the chord or tangent slope).
    @inlinable @inline(__always)
    static func sum(_ p: Self, _ q: Self, kind: UInt8, inverse: C.Field) -> Self {
        let lambda: C.Field
        if kind == 0 {
            lambda = (q.y - p.y) * inverse
        } else {
            let xx = p.x.squared()
            lambda = (xx.doubled() + xx) * inverse
        }
        let x3 = lambda.squared() - p.x - q.x
        return Self(x: x3, y: lambda * (p.x - x3) - p.y)
    }

    /// `points[i] += addends[i]` for every i, in affine coordinates with one shared field
    /// inversion (Montgomery's trick): about 6 multiplications per sum instead of 11 for a
    /// mixed Jacobian addition. Handles infinity on either side, doubling (equal points) and
    /// P + (−P). Used where many independent sums advance in lockstep (fixed-base tables);
    /// the MSM's bucket rounds use the same kernel.
    @inlinable
    public static func batchAdd(_ points: inout [Self], _ addends: [Self]) {
        precondition(points.count == addends.count, "batchAdd of \(points.count) points and \(addends.count) addends")
        let n = points.count
        if n == 0 { return }
        var kinds = [UInt8](repeating: 2, count: n)
        var den = [C.Field](repeating: .one, count: n)
        var prefix = [C.Field](repeating: .one, count: n)
        var acc = C.Field.one
        for i in 0..<n {
            let (kind, d) = sumDenominator(points[i], addends[i])
            switch kind {
            case 2: if points[i].isInfinity { points[i] = addends[i] }
            case 3: points[i] = .infinity
            default:
                kinds[i] = kind
                den[i] = d
                prefix[i] = acc
                acc = acc * d
            }
        }
        den.withUnsafeMutableBufferPointer { d in
            prefix.withUnsafeBufferPointer { p in
                kinds.withUnsafeBufferPointer { k in
                    invertInPlace(d.baseAddress!, prefixes: p.baseAddress!, kinds: k.baseAddress!, count: n, product: acc)
                }
            }
        }
        for i in 0..<n where kinds[i] < 2 {
            points[i] = sum(points[i], addends[i], kind: kinds[i], inverse: den[i])
        }
    }
}
