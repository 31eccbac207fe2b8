import Dispatch

/// A radix-2 evaluation domain H = {ωⁱ : 0 ≤ i < n} of Fr for a power of two n ≤ 2²⁸, with the
/// number-theoretic transform over H and over the coset gH (g = 5).
///
/// r − 1 = 2²⁸·t with t odd (Fr's 2-adicity is 28) and 5 generates Fr^×, so ω₂₈ = 5^t has
/// order exactly 2²⁸ (checked when first used) and ω = ω₂₈^(2²⁸/n) has order n. The shift 5 is
/// outside every such H (5ⁿ ≠ 1), so Z(x) = xⁿ − 1 is the nonzero constant 5ⁿ − 1 on gH: that
/// is where the prover divides by Z. arkworks' `Radix2EvaluationDomain` uses the same generator.
///
/// Transforms run in place: iterative Cooley–Tukey (decimation in time) after a bit-reversal
/// permutation, with tables of ω^j and ω^−j (j < n/2) built once per domain. For n ≥ 2¹² every
/// stage is split across cores.
public struct EvaluationDomain: Sendable {
    public let size: Int
    public let logSize: Int
    /// A primitive n-th root of unity, and its inverse.
    public let omega: Fr
    public let omegaInverse: Fr
    /// 1/n.
    public let sizeInverse: Fr
    /// The multiplicative generator of Fr: the root of unity's source and the coset shift.
    public static let cosetGenerator = Fr(5)
    public static let cosetGeneratorInverse = Fr(5).inverse()
    public static let twoAdicity = 28

    /// ω₂₈ = 5^((r − 1)/2²⁸), a primitive 2²⁸-th root of unity.
    public static let rootOfUnity28: Fr = {
        let t = (GMPInteger.r - GMPInteger(1)).exactlyDivided(by: 1 << 28)
        let w = cosetGenerator.pow(t.limbs)
        var check = w
        for _ in 0..<27 { check = check.squared() }
        precondition(!check.isOne && check.squared().isOne, "5^((r−1)/2^28) is not a primitive 2^28-th root of unity")
        return w
    }()

    /// ω^j and ω^−j for j < n/2.
    let twiddles: [Fr]
    let inverseTwiddles: [Fr]
    /// The bit-reversal permutation of 0..<n.
    let bitReversal: [UInt32]

    /// The domain of exactly `size` points (a power of two, 1…2²⁸).
    public init(size: Int) {
        precondition(size >= 1 && size & (size - 1) == 0 && size <= 1 << Self.twoAdicity,
                     "a domain size must be a power of two ≤ 2^28, got \(size)")
        self.size = size
        logSize = size.trailingZeroBitCount
        var w = Self.rootOfUnity28
        for _ in logSize..<Self.twoAdicity { w = w.squared() }
        omega = w
        omegaInverse = w.inverse()
        sizeInverse = Fr(UInt64(size)).inverse()
        twiddles = Self.powers(of: w, count: size / 2)
        inverseTwiddles = Self.powers(of: omegaInverse, count: size / 2)
        var rev = [UInt32](repeating: 0, count: size)
        let top = UInt32(max(logSize - 1, 0))
        for i in stride(from: 1, to: size, by: 1) { rev[i] = (rev[i >> 1] >> 1) | (UInt32(i & 1) << top) }
        bitReversal = rev
    }

    /// The smallest domain with at least `minimumSize` points.
    public init(minimumSize: Int) {
        var n = 1
        while n < minimumSize { n <<= 1 }
        precondition(n <= 1 << Self.twoAdicity, "a domain of \(minimumSize) points exceeds Fr's 2-adicity")
        self.init(size: n)
    }

    /// 1, x, x², …, x^(count−1).
    public static func powers(of x: Fr, count: Int) -> [Fr] {
        var out = [Fr](repeating: .one, count: count)
        var acc = Fr.one
        for i in 0..<count { out[i] = acc; acc = acc * x }
        return out
    }

    /// ωⁱ.
    public func element(_ i: Int) -> Fr { omega.pow([UInt(i % size)]) }

    /// Z(x) = xⁿ − 1 at x.
    public func vanishing(at x: Fr) -> Fr { x.pow([UInt(size)]) - .one }

    /// The Lagrange basis of H evaluated at τ ∉ H: Lᵢ(τ) = Z(τ)/n · ωⁱ/(τ − ωⁱ), so that the
    /// polynomial with values eᵢ on H takes the value Σ eᵢ·Lᵢ(τ) at τ. One inversion in all.
    public func lagrangeAt(_ tau: Fr) -> [Fr] {
        let z = vanishing(at: tau)
        precondition(!z.isZero, "τ lies in the domain")
        var denominators = [Fr](repeating: .zero, count: size)
        var w = Fr.one
        for i in 0..<size { denominators[i] = tau - w; w *= omega }
        var out = batchInverse(denominators)
        var factor = z * sizeInverse
        for i in 0..<size { out[i] *= factor; factor *= omega }
        return out
    }

    // MARK: Transforms

    /// Evaluations on H from coefficients (in place).
    public func ntt(_ a: inout [Fr], parallelism: Int = MSM.defaultParallelism) {
        transform(&a, twiddles, parallelism)
    }

    /// Coefficients from evaluations on H (in place).
    public func inverseNTT(_ a: inout [Fr], parallelism: Int = MSM.defaultParallelism) {
        transform(&a, inverseTwiddles, parallelism)
        scale(&a, by: sizeInverse, ratio: .one, parallelism)
    }

    /// Evaluations on the coset gH from coefficients: coefficient i times gⁱ, then the NTT.
    public func cosetNTT(_ a: inout [Fr], parallelism: Int = MSM.defaultParallelism) {
        precondition(a.count == size, "NTT of \(a.count) values on a domain of \(size)")
        scale(&a, by: .one, ratio: Self.cosetGenerator, parallelism)
        transform(&a, twiddles, parallelism)
    }

    /// Coefficients from evaluations on the coset gH.
    public func cosetInverseNTT(_ a: inout [Fr], parallelism: Int = MSM.defaultParallelism) {
        transform(&a, inverseTwiddles, parallelism)
        scale(&a, by: sizeInverse, ratio: Self.cosetGeneratorInverse, parallelism)
    }

    /// a[i] *= c·ratioⁱ.
    private func scale(_ a: inout [Fr], by c: Fr, ratio: Fr, _ parallelism: Int) {
        let n = size
        let chunks = n >= 1 << 12 ? max(1, parallelism) : 1
        let plain = ratio.isOne
        a.withUnsafeMutableBufferPointer { buf in
            let p = SendablePointer(buf.baseAddress!)
            parallelChunks(n, chunks) { lo, hi in
                if plain {
                    for i in lo..<hi { p.pointer[i] *= c }
                    return
                }
                var f = c * ratio.pow([UInt(lo)])
                for i in lo..<hi { p.pointer[i] *= f; f *= ratio }
            }
        }
    }

    /// In-place radix-2 DIT transform with twiddles tw[j] = w^j (j < n/2).
    private func transform(_ a: inout [Fr], _ tw: [Fr], _ parallelism: Int) {
        precondition(a.count == size, "NTT of \(a.count) values on a domain of \(size)")
        let n = size
        if n == 1 { return }
        a.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            bitReversal.withUnsafeBufferPointer { rev in
                for i in 0..<n {
                    let j = Int(rev[i])
                    if i < j { let t = p[i]; p[i] = p[j]; p[j] = t }
                }
            }
            let threads = n >= 1 << 12 ? max(1, parallelism) : 1
            let sp = SendablePointer(p)
            tw.withUnsafeBufferPointer { twb in
                let t = SendablePointer(UnsafeMutablePointer(mutating: twb.baseAddress!))
                var half = 1
                while half < n {
                    let len = half << 1
                    let blocks = n / len
                    let step = blocks
                    let h = half
                    if blocks >= threads {
                        parallelChunks(blocks, threads) { lo, hi in
                            for blk in lo..<hi { butterflies(sp.pointer + blk * len, h, 0, h, step, t.pointer) }
                        }
                    } else {
                        for blk in 0..<blocks {
                            parallelChunks(h, threads) { lo, hi in
                                butterflies(sp.pointer + blk * len, h, lo, hi, step, t.pointer)
                            }
                        }
                    }
                    half = len
                }
            }
        }
    }
}

/// Butterflies j ∈ [lo, hi) of one block of 2·half values:
/// (u, v) ← (u + w^(j·step)·v, u − w^(j·step)·v).
@inline(__always)
private func butterflies(_ block: UnsafeMutablePointer<Fr>, _ half: Int, _ lo: Int, _ hi: Int, _ step: Int,
                         _ tw: UnsafeMutablePointer<Fr>) {
    var j = lo
    if j == 0 && hi > 0 {
        let u = block[0], v = block[half]
        block[0] = u + v
        block[half] = u - v
        j = 1
    }
    while j < hi {
        let u = block[j]
        let v = block[j + half] * tw[j * step]
        block[j] = u + v
        block[j + half] = u - v
        j += 1
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
