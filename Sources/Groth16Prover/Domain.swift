import BN254
import Foundation

/// A radix-2 evaluation domain H = {ωⁱ} of size n = 2ᵏ in Fr (2-adicity 28), with the NTT and
/// the coset NTT over gH (g = 5, the multiplicative generator arkworks uses for BN254's Fr).
public struct EvaluationDomain: Sendable {
    public let size: Int
    public let logSize: Int
    public let omega: Fr
    public let omegaInverse: Fr
    public let sizeInverse: Fr
    public static let cosetGenerator = Fr(5)
    public static let twoAdicity = 28

    /// ω of order 2²⁸: 5^((r − 1) / 2²⁸).
    public static let rootOfUnity28: Fr = {
        let r1 = Limbs.subWithBorrow(FrParameters.modulus, Limbs(1, 0, 0, 0)).0
        // (r − 1) >> 28
        let l = [r1.v.0, r1.v.1, r1.v.2, r1.v.3]
        var e = [UInt](repeating: 0, count: 4)
        for i in 0..<4 { e[i] = (l[i] >> 28) | (i + 1 < 4 ? l[i + 1] << 36 : 0) }
        return Fr(5).pow(e)
    }()

    /// The smallest domain with at least `minimumSize` points.
    public init(minimumSize: Int) {
        var k = 0
        while 1 << k < minimumSize { k += 1 }
        precondition(k <= Self.twoAdicity, "a domain of \(minimumSize) points exceeds Fr's 2-adicity")
        logSize = k
        size = 1 << k
        var w = Self.rootOfUnity28
        for _ in k..<Self.twoAdicity { w = w.squared() }
        omega = w
        omegaInverse = w.inverse()
        sizeInverse = Fr(UInt64(size)).inverse()
    }

    /// Z(x) = xⁿ − 1 at x.
    public func vanishing(at x: Fr) -> Fr { x.pow([UInt(size)]) - .one }

    /// Evaluations on H from coefficients (in place).
    public func ntt(_ a: inout [Fr]) { transform(&a, omega) }

    /// Coefficients from evaluations on H (in place).
    public func inverseNTT(_ a: inout [Fr]) {
        transform(&a, omegaInverse)
        for i in 0..<size { a[i] *= sizeInverse }
    }

    /// Evaluations on the coset gH from coefficients.
    public func cosetNTT(_ a: inout [Fr]) {
        var g = Fr.one
        for i in 0..<size { a[i] *= g; g *= Self.cosetGenerator }
        ntt(&a)
    }

    /// Coefficients from evaluations on the coset gH.
    public func cosetInverseNTT(_ a: inout [Fr]) {
        inverseNTT(&a)
        let gi = Self.cosetGenerator.inverse()
        var g = Fr.one
        for i in 0..<size { a[i] *= g; g *= gi }
    }

    /// Iterative radix-2 Cooley–Tukey after a bit-reversal permutation.
    private func transform(_ a: inout [Fr], _ root: Fr) {
        precondition(a.count == size, "NTT of \(a.count) values on a domain of \(size)")
        let n = size
        a.withUnsafeMutableBufferPointer { a in
            var j = 0
            for i in 1..<max(n, 1) {
                var bit = n >> 1
                while j & bit != 0 { j ^= bit; bit >>= 1 }
                j |= bit
                if i < j { a.swapAt(i, j) }
            }
            var twiddles = [Fr](repeating: .one, count: max(n / 2, 1))
            var len = 2
            while len <= n {
                let half = len / 2
                // root^(n/len) generates the len-th roots.
                let step = root.pow([UInt(n / len)])
                var w = Fr.one
                for k in 0..<half { twiddles[k] = w; w *= step }
                var start = 0
                while start < n {
                    for k in 0..<half {
                        let u = a[start + k]
                        let v = a[start + k + half] * twiddles[k]
                        a[start + k] = u + v
                        a[start + k + half] = u - v
                    }
                    start += len
                }
                len <<= 1
            }
        }
    }

    /// The Lagrange basis of H evaluated at τ ∉ H: Lᵢ(τ) = Z(τ)/n · ωⁱ/(τ − ωⁱ).
    public func lagrangeAt(_ tau: Fr) -> [Fr] {
        let z = vanishing(at: tau)
        precondition(!z.isZero, "τ lies in the domain")
        var denominators = [Fr](repeating: .zero, count: size)
        var w = Fr.one
        for i in 0..<size { denominators[i] = tau - w; w *= omega }
        let inverses = batchInverse(denominators)
        let factor = z * sizeInverse
        var out = [Fr](repeating: .zero, count: size)
        w = .one
        for i in 0..<size { out[i] = factor * w * inverses[i]; w *= omega }
        return out
    }
}

/// Inverses of nonzero elements with one field inversion (Montgomery's trick).
public func batchInverse(_ xs: [Fr]) -> [Fr] {
    var prefix = [Fr](repeating: .one, count: xs.count)
    var acc = Fr.one
    for (i, x) in xs.enumerated() { prefix[i] = acc; acc *= x }
    var inv = acc.inverse()
    var out = [Fr](repeating: .zero, count: xs.count)
    for i in stride(from: xs.count - 1, through: 0, by: -1) {
        out[i] = inv * prefix[i]
        inv *= xs[i]
    }
    return out
}
