import BN254
import Groth16

/// [s]·G for many s and one fixed G (the development setup's tens of thousands of key points).
///
/// A table of d·2^(ck)·G for signed digits 1 ≤ d ≤ 2^(c−1) in each of ⌈255/c⌉ windows makes
/// each product one addition per window and no doubling; `multiplyAll` does those additions
/// in affine coordinates for thousands of products at once, one inversion per window. The window grows with the number of products
/// (the table costs 2^(c−1) additions per window, once).
public struct FixedBaseMultiplier<C: CurveParameters>: Sendable {
    let window: Int
    let windows: Int
    let table: [AffinePoint<C>]  // windows × 2^(c−1), row-major

    /// A table for about `expectedProducts` multiplications (sets the window size).
    public init(_ base: AffinePoint<C>, expectedProducts: Int = 1 << 14) {
        var c = 4
        // Minimise products·⌈255/c⌉ + ⌈255/c⌉·2^(c−1), capped at 2^13 entries per window.
        var best = Int.max
        for w in 4...14 {
            let cost = ((255 + w - 1) / w) * (max(expectedProducts, 1) + (1 << (w - 1)))
            if cost < best { best = cost; c = w }
        }
        window = c
        windows = (255 + c - 1) / c
        let half = 1 << (c - 1)
        var points: [JacobianPoint<C>] = []
        points.reserveCapacity(windows * half)
        var b = base.jacobian
        for _ in 0..<windows {
            var m = b
            for _ in 0..<half { points.append(m); m = m + b }
            for _ in 0..<c { b = b.doubled() }
        }
        table = JacobianPoint<C>.batchAffine(points)
    }

    public func multiply(_ s: Fr) -> JacobianPoint<C> {
        if s.isZero { return .infinity }
        let k = s.canonical
        let c = window, half = 1 << (c - 1), mask = UInt(1 << c) - 1
        var acc = JacobianPoint<C>.infinity
        var carry = 0
        table.withUnsafeBufferPointer { t in
            for i in 0..<windows {
                let bit = i * c, limb = bit >> 6, shift = bit & 63
                var chunk = limb < 4 ? k[limb] >> UInt(shift) : 0
                if shift + c > 64 && limb + 1 < 4 { chunk |= k[limb + 1] << UInt(64 - shift) }
                var d = Int(chunk & mask) + carry
                if d > half { d -= 1 << c; carry = 1 } else { carry = 0 }
                if d > 0 { acc = acc.adding(t[i * half + d - 1]) } else if d < 0 { acc = acc.adding(-t[i * half - d - 1]) }
            }
        }
        return acc
    }

    /// Affine [sᵢ]·G for all i on all cores. Each chunk of products advances window by
    /// window in affine coordinates, one shared inversion per window (`AffinePoint.batchAdd`).
    /// `progress(done)` is called on the calling thread after each round of chunks with the
    /// number of products finished.
    public func multiplyAll(_ scalars: [Fr], progress: ((Int) -> Void)? = nil) -> [AffinePoint<C>] {
        if scalars.isEmpty { return [] }
        let threads = MSM.defaultParallelism
        let chunk = 2048
        var out: [AffinePoint<C>] = []
        out.reserveCapacity(scalars.count)
        var start = 0
        while start < scalars.count {
            let end = min(scalars.count, start + chunk * threads)
            let lo = start
            let pieces: [[AffinePoint<C>]] = parallelMap((end - lo + chunk - 1) / chunk) { p in
                multiplyChunk(scalars[(lo + p * chunk)..<min(end, lo + (p + 1) * chunk)])
            }
            for piece in pieces { out += piece }
            start = end
            progress?(start)
        }
        return out
    }

    /// [s]·G for a slice of scalars: signed digits, then one batch-affine addition per window.
    func multiplyChunk(_ scalars: ArraySlice<Fr>) -> [AffinePoint<C>] {
        let k = scalars.map(\.canonical)
        let n = k.count
        let c = window, half = 1 << (c - 1), mask = UInt(1 << c) - 1
        var carry = [Int](repeating: 0, count: n)
        var acc = [AffinePoint<C>](repeating: .infinity, count: n)
        var addends = [AffinePoint<C>](repeating: .infinity, count: n)
        for i in 0..<windows {
            let bit = i * c, limb = bit >> 6, shift = bit & 63
            for j in 0..<n {
                var chunk = limb < 4 ? k[j][limb] >> UInt(shift) : 0
                if shift + c > 64 && limb + 1 < 4 { chunk |= k[j][limb + 1] << UInt(64 - shift) }
                var d = Int(chunk & mask) + carry[j]
                if d > half { d -= 1 << c; carry[j] = 1 } else { carry[j] = 0 }
                addends[j] = d > 0 ? table[i * half + d - 1] : d < 0 ? -table[i * half - d - 1] : .infinity
            }
            AffinePoint<C>.batchAdd(&acc, addends)
        }
        return acc
    }
}
