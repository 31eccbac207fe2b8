import BN254
import Foundation
import Groth16
import Primitives
import R1CS

/// Stages reported to a progress callback: setup (`qap`, `queries`) and proving (`witness`,
/// `quotient`, `msm`). Fractions run from 0 to 1 within a stage.
public enum ProverStage: String, Sendable {
    case qap, queries, witness, quotient, msm
}

/// A development Groth16 setup: fresh toxic waste (τ, α, β, γ, δ), each uniform and nonzero
/// from OpenSSL's CSPRNG (γ is random too, not the generator), used once and then overwritten.
/// Anyone who kept it could forge proofs, so such keys are for development and tests only
/// (production keys come from a ceremony, DESIGN.md section 8); the key says so in its label.
///
/// The QAP is arkworks' and snarkjs's (both do exactly this): constraint j is row j of the
/// smallest radix-2 domain with m + publicCount + 1 rows, and the constant and every public
/// input k get an extra row m + k with A = z_k, B = C = 0 (snarkjs's "input·0 = 0"
/// constraints). Those rows make the IC polynomials linearly independent, so a proof cannot
/// trade one public input for another. Polynomials are evaluated at τ through the Lagrange
/// basis of the domain: u_k(τ) = Σ_j A[j][k]·L_j(τ), and likewise v from B, w from C.
///
/// Key points (G = the generators): A_k = u_k(τ)·G₁, B_k = v_k(τ)·G₁ and ·G₂,
/// IC_k = ((β·u_k + α·v_k + w_k)/γ)·G₁ for k ≤ publicCount, L_k = (…/δ)·G₁ for the rest,
/// H_i = (τⁱ·Z(τ)/δ)·G₁ for i < n − 1. All by fixed-base tables on all cores.
public enum DevelopmentSetup {
    public static func generate(r1cs: R1CS, circuitID: String = "",
                                progress: ((ProverStage, Double) -> Void)? = nil) throws -> (ProvingKey, VerifyingKey) {
        let n = r1cs.variableCount, pub = r1cs.publicCount, m = r1cs.constraints.count
        precondition(n > pub && pub >= 0, "an R1CS needs the constant variable and its public inputs")
        let domain = EvaluationDomain(minimumSize: m + pub + 1)
        var tau = SecureRandom.nonzeroScalar()
        while domain.vanishing(at: tau).isZero { tau = SecureRandom.nonzeroScalar() }
        var alpha = SecureRandom.nonzeroScalar(), beta = SecureRandom.nonzeroScalar(), gamma = SecureRandom.nonzeroScalar(), delta = SecureRandom.nonzeroScalar()

        progress?(.qap, 0)
        var lagrange = domain.lagrangeAt(tau)
        var at = [Fr](repeating: .zero, count: n), bt = at, ct = at
        for (j, c) in r1cs.constraints.enumerated() {
            let lj = lagrange[j]
            for t in c.a { at[t.variable] += t.coefficient * lj }
            for t in c.b { bt[t.variable] += t.coefficient * lj }
            for t in c.c { ct[t.variable] += t.coefficient * lj }
        }
        for k in 0...pub { at[k] += lagrange[m + k] }
        var gammaInverse = gamma.inverse(), deltaInverse = delta.inverse()
        var icScalars = (0...pub).map { k in (beta * at[k] + alpha * bt[k] + ct[k]) * gammaInverse }
        var lScalars = ((pub + 1)..<n).map { k in (beta * at[k] + alpha * bt[k] + ct[k]) * deltaInverse }
        let zt = domain.vanishing(at: tau) * deltaInverse
        var hScalars = [Fr](repeating: .zero, count: domain.size - 1)
        var power = Fr.one
        for i in 0..<(domain.size - 1) { hScalars[i] = power * zt; power *= tau }
        progress?(.qap, 1)

        progress?(.queries, 0)
        var g1Scalars = [alpha, beta, delta] + icScalars + at + bt + lScalars + hScalars
        var g2Scalars = [beta, gamma, delta] + bt
        let total = Double(g1Scalars.count + 3 * g2Scalars.count)  // a G2 product costs ~3 G1 ones
        let g1 = FixedBaseMultiplier(G1Affine.generator, expectedProducts: g1Scalars.count)
        let g1Points = g1.multiplyAll(g1Scalars) { done in progress?(.queries, Double(done) / total) }
        let g2 = FixedBaseMultiplier(G2Affine.generator, expectedProducts: g2Scalars.count)
        let g2Points = g2.multiplyAll(g2Scalars) { done in progress?(.queries, Double(g1Scalars.count + 3 * done) / total) }
        progress?(.queries, 1)

        // Overwrite the toxic waste and everything derived from it (best effort: Swift may
        // have copied values elsewhere; the process should not outlive the setup for long).
        for i in lagrange.indices { lagrange[i] = .zero }
        for i in 0..<n { at[i] = .zero; bt[i] = .zero; ct[i] = .zero }
        for i in icScalars.indices { icScalars[i] = .zero }
        for i in lScalars.indices { lScalars[i] = .zero }
        for i in hScalars.indices { hScalars[i] = .zero }
        for i in g1Scalars.indices { g1Scalars[i] = .zero }
        for i in g2Scalars.indices { g2Scalars[i] = .zero }
        tau = .zero; alpha = .zero; beta = .zero; gamma = .zero; delta = .zero; gammaInverse = .zero; deltaInverse = .zero

        var k = 3
        func take(_ count: Int) -> [G1Affine] { defer { k += count }; return Array(g1Points[k..<k + count]) }
        let ic = take(pub + 1), a = take(n), b1 = take(n), l = take(n - pub - 1), h = take(domain.size - 1)
        let vk = VerifyingKey(alpha: g1Points[0], beta: g2Points[0], gamma: g2Points[1], delta: g2Points[2], ic: ic)
        let pk = ProvingKey(circuitID: circuitID, variableCount: n, publicCount: pub, constraintCount: m, domainSize: domain.size,
                            alpha1: g1Points[0], beta1: g1Points[1], beta2: g2Points[0], delta1: g1Points[2], delta2: g2Points[2],
                            a: a, b1: b1, b2: Array(g2Points[3...]), l: l, h: h, verifyingKey: vk, development: true)
        return (pk, vk)
    }
}
