import BN254
import Foundation

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
