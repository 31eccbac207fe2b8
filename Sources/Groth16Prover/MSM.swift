import BN254
import Foundation
import Groth16

/// Multi-scalar multiplication Σ sᵢ·Pᵢ by Pippenger's bucket method, windows split across
/// cores. Variable time: for the prover's own witness on its own machine only.
public enum MSM {
    /// Window width for n points: about log2(n) − 4 (balances n additions per window
    /// against 2^c bucket additions), at least 4.
    static func window(for n: Int) -> Int {
        var log = 0
        while 1 << (log + 1) <= n { log += 1 }
        return max(4, min(16, log - 4))
    }

    public static func multiply<C: CurveParameters>(_ points: [AffinePoint<C>], _ scalars: [Fr],
                                                    threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> JacobianPoint<C> {
        precondition(points.count == scalars.count, "MSM of \(points.count) points and \(scalars.count) scalars")
        let n = points.count
        if n == 0 { return .infinity }
        let k = scalars.map(\.canonical)
        let c = window(for: n)
        let windows = (256 + c - 1) / c
        let parts = max(1, min(threads, windows))
        // Part p sums the windows w ≡ p (mod parts), top down, as Σ S(w)·2^(c·(w − p)).
        let sums: [JacobianPoint<C>] = parallelMap(parts) { part in
            guard part < windows else { return .infinity }
            var total = JacobianPoint<C>.infinity
            var w = part + ((windows - 1 - part) / parts) * parts
            while w >= part {
                if !total.isInfinity { for _ in 0..<(c * parts) { total = total.doubled() } }
                total = total + windowSum(points, k, window: w, width: c)
                w -= parts
            }
            return total
        }
        // Shift part p by p·c bits and add.
        var result = JacobianPoint<C>.infinity
        for (p, s) in sums.enumerated() {
            var shifted = s
            for _ in 0..<(p * c) { shifted = shifted.doubled() }
            result = result + shifted
        }
        return result
    }

    /// Σ over points of digit_w(sᵢ)·Pᵢ for one window, by buckets and a running sum.
    static func windowSum<C: CurveParameters>(_ points: [AffinePoint<C>], _ k: [Limbs], window w: Int, width c: Int) -> JacobianPoint<C> {
        var buckets = [JacobianPoint<C>](repeating: .infinity, count: (1 << c) - 1)
        let bit = w * c
        for i in 0..<points.count {
            let d = digit(k[i], bit, c)
            if d == 0 || points[i].isInfinity { continue }
            buckets[d - 1] = buckets[d - 1].adding(points[i])
        }
        var running = JacobianPoint<C>.infinity
        var sum = JacobianPoint<C>.infinity
        for b in stride(from: buckets.count - 1, through: 0, by: -1) {
            running = running + buckets[b]
            sum = sum + running
        }
        return sum
    }

    @inline(__always)
    static func digit(_ k: Limbs, _ bit: Int, _ c: Int) -> Int {
        if bit >= 256 { return 0 }
        let limb = bit >> 6, offset = bit & 63
        var v = k[limb] >> UInt(offset)
        if offset + c > 64 && limb + 1 < 4 { v |= k[limb + 1] << UInt(64 - offset) }
        return Int(v & ((1 << UInt(c)) - 1))
    }
}

/// [s]·G for many s and one fixed G: a table of d·2^(8i)·G (d < 256) makes each product 32
/// mixed additions. For the development setup, which multiplies tens of thousands of scalars.
public struct FixedBaseMultiplier<C: CurveParameters>: Sendable {
    static var windows: Int { 32 }
    let table: [AffinePoint<C>]  // windows × 255, row-major

    public init(_ base: AffinePoint<C>) {
        var points: [JacobianPoint<C>] = []
        points.reserveCapacity(Self.windows * 255)
        var b = base.jacobian
        for _ in 0..<Self.windows {
            var m = b
            for _ in 0..<255 { points.append(m); m = m + b }
            for _ in 0..<8 { b = b.doubled() }
        }
        table = JacobianPoint<C>.batchAffine(points)
    }

    public func multiply(_ s: Fr) -> JacobianPoint<C> {
        let k = s.canonical
        var acc = JacobianPoint<C>.infinity
        for i in 0..<Self.windows {
            let d = Int((k[i >> 3] >> UInt((i & 7) * 8)) & 0xff)
            if d != 0 { acc = acc.adding(table[i * 255 + d - 1]) }
        }
        return acc
    }

    /// Affine [sᵢ]·G for all i, on all cores.
    public func multiplyAll(_ scalars: [Fr]) -> [AffinePoint<C>] {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let chunk = (scalars.count + threads - 1) / max(threads, 1)
        if scalars.isEmpty { return [] }
        let parts = (scalars.count + chunk - 1) / chunk
        let pieces: [[AffinePoint<C>]] = parallelMap(parts) { p in
            let range = (p * chunk)..<min(scalars.count, (p + 1) * chunk)
            return JacobianPoint<C>.batchAffine(range.map { multiply(scalars[$0]) })
        }
        return pieces.flatMap { $0 }
    }
}
