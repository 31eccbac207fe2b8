import BN254
import Testing
import TestSupport

/// The NTT against its definition: root of unity orders, naive evaluation, round trips, and
/// the convolution property.
@Suite struct EvaluationDomainTests {
    @Test func rootOfUnityHasOrderTwoToThe28() {
        let w = EvaluationDomain.rootOfUnity28
        #expect(w == Fr(5).pow((GMPInteger.r - GMPInteger(1)).exactlyDivided(by: 1 << 28).limbs))
        #expect(w.pow([1 << 28]) == .one)
        #expect(w.pow([1 << 27]) != .one)
        for k in [1, 4, 12] {
            let d = EvaluationDomain(size: 1 << k)
            #expect(d.omega.pow([UInt(1 << k)]) == .one && d.omega.pow([UInt(1 << (k - 1))]) != .one)
        }
    }

    static func evaluate(_ coeffs: [Fr], at x: Fr) -> Fr { coeffs.reversed().reduce(Fr.zero) { $0 * x + $1 } }

    @Test(arguments: [1, 2, 8, 32])
    func agreesWithNaiveEvaluation(n: Int) {
        var rng = SeededGenerator(label: "ntt-\(n)")
        let d = EvaluationDomain(size: n)
        let coeffs = (0..<n).map { _ in rng.fr() }
        var v = coeffs
        d.ntt(&v)
        var coset = coeffs
        d.cosetNTT(&coset)
        for i in 0..<n {
            let x = d.element(i)
            #expect(v[i] == Self.evaluate(coeffs, at: x), "seed \(rng.seed)")
            #expect(coset[i] == Self.evaluate(coeffs, at: EvaluationDomain.cosetGenerator * x), "seed \(rng.seed)")
        }
        d.inverseNTT(&v)
        #expect(v == coeffs)
        d.cosetInverseNTT(&coset)
        #expect(coset == coeffs)
    }

    /// Large enough for the two-core stages (n ≥ 2^12).
    @Test func roundTripsAtSize8192() {
        var rng = SeededGenerator(label: "ntt-8192")
        let d = EvaluationDomain(size: 8192)
        let coeffs = (0..<8192).map { _ in rng.fr() }
        var v = coeffs
        d.ntt(&v)
        for i in [0, 1, 4097, 8191] { #expect(v[i] == Self.evaluate(coeffs, at: d.element(i)), "seed \(rng.seed)") }
        var one = v
        d.ntt(&one, parallelism: 1)
        d.inverseNTT(&v)
        #expect(v == coeffs)
        var c = coeffs
        d.cosetNTT(&c)
        d.cosetInverseNTT(&c, parallelism: 1)
        #expect(c == coeffs)
    }

    /// NTT(f)·NTT(g) = NTT(f·g) for deg f + deg g < n (cyclic convolution without wrap-around).
    @Test func pointwiseProductIsPolynomialProduct() {
        var rng = SeededGenerator(label: "ntt-convolution")
        let n = 64
        let d = EvaluationDomain(size: n)
        let f = (0..<n).map { i in i < 30 ? rng.fr() : .zero }
        let g = (0..<n).map { i in i < 34 ? rng.fr() : .zero }
        var product = [Fr](repeating: .zero, count: n)
        for i in 0..<30 { for j in 0..<34 { product[i + j] += f[i] * g[j] } }
        var ff = f, gg = g
        d.ntt(&ff); d.ntt(&gg)
        var fg = zip(ff, gg).map { $0 * $1 }
        d.inverseNTT(&fg)
        #expect(fg == product, "seed \(rng.seed)")
        // On the coset too: the prover's quotient relies on it.
        ff = f; gg = g
        d.cosetNTT(&ff); d.cosetNTT(&gg)
        fg = zip(ff, gg).map { $0 * $1 }
        d.cosetInverseNTT(&fg)
        #expect(fg == product)
    }

    @Test func lagrangeBasisInterpolates() {
        var rng = SeededGenerator(label: "lagrange")
        let d = EvaluationDomain(size: 16)
        let coeffs = (0..<16).map { _ in rng.fr() }
        var values = coeffs
        d.ntt(&values)
        let tau = rng.fr()
        let basis = d.lagrangeAt(tau)
        #expect(zip(values, basis).reduce(Fr.zero) { $0 + $1.0 * $1.1 } == Self.evaluate(coeffs, at: tau))
    }
}
