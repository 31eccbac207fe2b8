import BN254
import Foundation
import Groth16

/// Stages reported to a progress callback.
public enum ProverStage: String, Sendable {
    case qap, queries, witness, quotient, msm
}

/// A development Groth16 setup: fresh toxic waste (τ, α, β, γ, δ) from OpenSSL's CSPRNG, used
/// once and dropped. Anyone who kept it could forge proofs, so such keys are for development
/// and tests only (production keys come from a ceremony, DESIGN.md section 8).
///
/// The QAP is arkworks'/snarkjs's: constraint i is row i of a radix-2 domain; the constant and
/// every public input j also get a row m + j with Aⱼ = 1 (snarkjs's "x·0 = 0" constraints),
/// which makes the IC polynomials independent.
public enum DevelopmentSetup {
    public static func generate(r1cs: R1CS, circuitID: String = "",
                                progress: ((ProverStage, Double) -> Void)? = nil) throws -> (ProvingKey, VerifyingKey) {
        let n = r1cs.variableCount, pub = r1cs.publicCount, m = r1cs.constraints.count
        let domain = EvaluationDomain(minimumSize: m + pub + 1)
        var tau = SecureRandom.nonzeroScalar()
        while domain.vanishing(at: tau).isZero { tau = SecureRandom.nonzeroScalar() }
        let alpha = SecureRandom.nonzeroScalar(), beta = SecureRandom.nonzeroScalar()
        let gamma = SecureRandom.nonzeroScalar(), delta = SecureRandom.nonzeroScalar()

        progress?(.qap, 0)
        let lagrange = domain.lagrangeAt(tau)
        var at = [Fr](repeating: .zero, count: n), bt = at, ct = at
        for (i, c) in r1cs.constraints.enumerated() {
            let li = lagrange[i]
            for t in c.a { at[t.variable] += t.coefficient * li }
            for t in c.b { bt[t.variable] += t.coefficient * li }
            for t in c.c { ct[t.variable] += t.coefficient * li }
        }
        for j in 0...pub { at[j] += lagrange[m + j] }
        progress?(.qap, 1)

        let gammaInv = gamma.inverse(), deltaInv = delta.inverse()
        let icScalars = (0...pub).map { j in (beta * at[j] + alpha * bt[j] + ct[j]) * gammaInv }
        let lScalars = ((pub + 1)..<n).map { j in (beta * at[j] + alpha * bt[j] + ct[j]) * deltaInv }
        let zt = domain.vanishing(at: tau) * deltaInv
        var hScalars = [Fr](repeating: .zero, count: domain.size - 1)
        var power = Fr.one
        for i in 0..<(domain.size - 1) { hScalars[i] = power * zt; power *= tau }

        progress?(.queries, 0)
        let g1 = FixedBaseMultiplier(G1Affine.generator)
        let g2 = FixedBaseMultiplier(G2Affine.generator)
        let g1Points = g1.multiplyAll([alpha, beta, delta] + icScalars + at + bt + lScalars + hScalars)
        progress?(.queries, 0.6)
        let g2Points = g2.multiplyAll([beta, gamma, delta] + bt)
        progress?(.queries, 1)

        var k = 3
        func take(_ count: Int) -> [G1Affine] { defer { k += count }; return Array(g1Points[k..<k + count]) }
        let ic = take(pub + 1), a = take(n), b1 = take(n), l = take(n - pub - 1), h = take(domain.size - 1)
        let vk = VerifyingKey(alpha: g1Points[0], beta: g2Points[0], gamma: g2Points[1], delta: g2Points[2], ic: ic)
        let pk = ProvingKey(circuitID: circuitID, variableCount: n, publicCount: pub, domainSize: domain.size,
                            alpha1: g1Points[0], beta1: g1Points[1], beta2: g2Points[0], delta1: g1Points[2], delta2: g2Points[2],
                            a: a, b1: b1, b2: Array(g2Points[3...]), l: l, h: h, verifyingKey: vk, development: true)
        return (pk, vk)
    }
}
