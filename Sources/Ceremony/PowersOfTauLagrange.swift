import BN254
import Primitives

/// Writes from parallel workers into disjoint parts of one buffer.
struct PowersOfTauSharedBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// The inverse FFT over a group (snarkjs `G.ifft`, natural order in and out): out_j =
/// (1/n)·Σᵢ ω^(−ij)·Pᵢ with ω the primitive n-th root of unity of `EvaluationDomain`
/// (5^((r−1)/2²⁸) squared down, the same as ffjavascript's `Fr.w`). Butterflies of each stage
/// run on all cores; twiddles equal to 1 are skipped.
public enum GroupFFT {
    /// With `scaled: false` the factor 1/n is left out (a caller that multiplies its input by
    /// scalars anyway folds it in there, saving n products).
    public static func inverse<C: CurveParameters>(_ input: [AffinePoint<C>], scaled: Bool = true) -> [AffinePoint<C>] {
        let n = input.count
        precondition(n > 0 && n & (n - 1) == 0, "the group FFT needs a power-of-two size")
        if n == 1 { return input }
        let logN = n.trailingZeroBitCount
        let domain = EvaluationDomain(size: n)
        var a = [JacobianPoint<C>](repeating: .infinity, count: n)
        for i in 0..<n {
            var r = 0, x = i
            for _ in 0..<logN { r = r << 1 | (x & 1); x >>= 1 }
            a[r] = input[i].jacobian
        }
        let workers = max(1, MSM.defaultParallelism)
        a.withUnsafeMutableBufferPointer { buf in
            let shared = PowersOfTauSharedBuffer(base: buf.baseAddress!)
            var m = 2
            while m <= n {
                let half = m / 2
                let wm = domain.omegaInverse.pow([UInt(n / m)])
                let twiddles = EvaluationDomain.powers(of: wm, count: half)
                let butterflies = n / 2
                let parts = min(butterflies, 4 * workers)
                let size = m
                _ = parallelMap(parts) { part in
                    let lo = butterflies * part / parts, hi = butterflies * (part + 1) / parts
                    for b in lo..<hi {
                        let block = b / half, j = b % half
                        let i0 = block * size + j, i1 = i0 + half
                        let u = shared.base[i0]
                        let t = j == 0 ? shared.base[i1] : shared.base[i1].multiplied(by: twiddles[j])
                        shared.base[i0] = u + t
                        shared.base[i1] = u - t
                    }
                    return 0
                }
                m *= 2
            }
        }
        let nInv = domain.sizeInverse
        let done = a
        let parts = min(n, 4 * workers)
        let out: [[AffinePoint<C>]] = parallelMap(parts) { part in
            let lo = n * part / parts, hi = n * (part + 1) / parts
            return JacobianPoint<C>.batchAffine((lo..<hi).map { scaled ? done[$0].multiplied(by: nInv) : done[$0] })
        }
        return Array(out.joined())
    }
}

extension PowersOfTau {
    /// The first 2^level points of a section for the Lagrange transform; τG1's level power+1
    /// lacks its last power (snarkjs puts the point at infinity there).
    static func levelInput<C: CurveParameters>(_ points: [AffinePoint<C>], level: Int) -> [AffinePoint<C>] {
        let n = 1 << level
        if n <= points.count { return Array(points[0..<n]) }
        return Array(points) + [AffinePoint<C>](repeating: .infinity, count: n - points.count)
    }

    func checkLevel(_ level: Int, max: Int) throws(PowersOfTauError) {
        guard (0...max).contains(level) else { throw .section("Lagrange level \(level) is outside 0…\(max) for a power-\(power) file") }
    }

    /// L_j(τ)·G1 for j < 2^level (level ≤ power + 1), from section 12 when present, else
    /// computed by an inverse FFT of the powers.
    public func lagrangeTauG1(level: Int) throws(PowersOfTauError) -> [G1Affine] {
        try checkLevel(level, max: power + 1)
        if let l = lagrange { return Array(l.tauG1[((1 << level) - 1)..<((1 << (level + 1)) - 1)]) }
        return GroupFFT.inverse(Self.levelInput(tauG1, level: level))
    }

    /// L²ⁿ₂ᵢ₊₁(τ)·G1 for i < n = 2^level (level ≤ power): the odd half of level + 1, which is
    /// phase 2's H query, without the 2n-point FFT. Since ω₂ₙⁿ = −1,
    ///     L²ⁿ₂ᵢ₊₁(τ) = (1/2n)·Σ_{l<n} ωₙ^(−il)·ω₂ₙ^(−l)·(τˡ − τ^(l+n)),
    /// an n-point inverse FFT (unscaled) of zₗ = (ω₂ₙ^(−l)/2n)·(τˡ − τ^(l+n))·G1: n products
    /// and n/2·log n butterflies instead of n·log 2n and 2n.
    public func lagrangeTauG1OddPoints(level: Int) throws(PowersOfTauError) -> [G1Affine] {
        try checkLevel(level + 1, max: power + 1)
        let n = 1 << level
        if let l = lagrange {
            let start = (1 << (level + 1)) - 1
            return (0..<n).map { l.tauG1[start + 2 * $0 + 1] }
        }
        let powers = Self.levelInput(tauG1, level: level + 1)
        let twiddles = EvaluationDomain.powers(of: EvaluationDomain(size: 2 * n).omegaInverse, count: n)
        let scale = Fr(UInt64(2 * n)).inverse()
        let parts = max(1, min(n, 4 * MSM.defaultParallelism))
        let chunks: [[G1Jacobian]] = parallelMap(parts) { part in
            let lo = n * part / parts, hi = n * (part + 1) / parts
            return (lo..<hi).map { l in (powers[l].jacobian - powers[l + n].jacobian).multiplied(by: twiddles[l] * scale) }
        }
        return GroupFFT.inverse(G1Jacobian.batchAffine(chunks.flatMap { $0 }), scaled: false)
    }

    /// L_j(τ)·G2 for j < 2^level (level ≤ power).
    public func lagrangeTauG2(level: Int) throws(PowersOfTauError) -> [G2Affine] {
        try checkLevel(level, max: power)
        if let l = lagrange { return Array(l.tauG2[((1 << level) - 1)..<((1 << (level + 1)) - 1)]) }
        return GroupFFT.inverse(Self.levelInput(tauG2, level: level))
    }

    /// α·L_j(τ)·G1 for j < 2^level (level ≤ power).
    public func lagrangeAlphaTauG1(level: Int) throws(PowersOfTauError) -> [G1Affine] {
        try checkLevel(level, max: power)
        if let l = lagrange { return Array(l.alphaTauG1[((1 << level) - 1)..<((1 << (level + 1)) - 1)]) }
        return GroupFFT.inverse(Self.levelInput(alphaTauG1, level: level))
    }

    /// β·L_j(τ)·G1 for j < 2^level (level ≤ power).
    public func lagrangeBetaTauG1(level: Int) throws(PowersOfTauError) -> [G1Affine] {
        try checkLevel(level, max: power)
        if let l = lagrange { return Array(l.betaTauG1[((1 << level) - 1)..<((1 << (level + 1)) - 1)]) }
        return GroupFFT.inverse(Self.levelInput(betaTauG1, level: level))
    }

    /// snarkjs `powersoftau prepare phase2`: the same file with sections 12–15, the Lagrange
    /// points at every level (τG1 up to power + 1).
    public func preparedForPhase2(progress: (String) -> Void = { _ in }) -> PowersOfTau {
        func all<C: CurveParameters>(_ points: [AffinePoint<C>], levels: Int, _ name: String) -> [AffinePoint<C>] {
            var out: [AffinePoint<C>] = []
            out.reserveCapacity((1 << (levels + 1)) - 1)
            for k in 0...levels {
                progress("\(name): level \(k) (\(1 << k) points)")
                out.append(contentsOf: GroupFFT.inverse(Self.levelInput(points, level: k)))
            }
            return out
        }
        var next = self
        next.lagrange = PowersOfTauLagrange(tauG1: all(tauG1, levels: power + 1, "tauG1"), tauG2: all(tauG2, levels: power, "tauG2"),
                                            alphaTauG1: all(alphaTauG1, levels: power, "alphaTauG1"),
                                            betaTauG1: all(betaTauG1, levels: power, "betaTauG1"))
        return next
    }

    /// Checks sections 12–15 against the powers, one random linear combination per section
    /// over all levels: with random r_k at level k, Σ_k Σᵢ r_{k,i}·Pᵢ = Σ_k Σ_j NTT(r_k)_j·L_{k,j},
    /// since Σ_j ω^(ij)·L_j(τ) = τ^i for i < 2^k.
    func verifyLagrange(progress: (String) -> Void) throws(PowersOfTauError) {
        guard let l = lagrange else { return }
        func check<C: CurveParameters>(_ points: [AffinePoint<C>], _ lagrangePoints: [AffinePoint<C>], levels: Int, _ name: String) -> Bool {
            progress("Lagrange \(name): levels 0…\(levels)")
            let top = 1 << levels
            var powerScalars = [Fr](repeating: .zero, count: top)
            var lagrangeScalars: [Fr] = []
            lagrangeScalars.reserveCapacity(2 * top - 1)
            for k in 0...levels {
                let n = 1 << k
                var r = (0..<n).map { _ in SecureRandom.scalar() }
                if n > points.count { r[n - 1] = .zero }  // τG1's missing top power
                for i in 0..<n { powerScalars[i] += r[i] }
                if n > 1 { EvaluationDomain(size: n).ntt(&r) }
                lagrangeScalars.append(contentsOf: r)
            }
            let lhs = MSM.multiply(Self.levelInput(points, level: levels), powerScalars)
            let rhs = MSM.multiply(lagrangePoints, lagrangeScalars)
            return lhs == rhs
        }
        guard check(tauG1, l.tauG1, levels: power + 1, "tauG1") else { throw .section("section 12 (Lagrange tauG1) does not match the powers of tau") }
        guard check(tauG2, l.tauG2, levels: power, "tauG2") else { throw .section("section 13 (Lagrange tauG2) does not match the powers of tau") }
        guard check(alphaTauG1, l.alphaTauG1, levels: power, "alphaTauG1") else { throw .section("section 14 (Lagrange alphaTauG1) does not match the powers") }
        guard check(betaTauG1, l.betaTauG1, levels: power, "betaTauG1") else { throw .section("section 15 (Lagrange betaTauG1) does not match the powers") }
    }
}
