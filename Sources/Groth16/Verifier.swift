import BN254
import Dispatch
import Primitives

/// Groth16 verification (snarkjs equation e(A, B) = e(α, β)·e(vk_x, γ)·e(C, δ)).
public enum Groth16 {
    /// Verifies one proof. `false` means well-formed but invalid; malformed input throws.
    /// Cost: two Miller loops on precomputed lines, one computed on the fly for B, one final
    /// exponentiation, and the public-input combination.
    public static func verify(_ pvk: PreparedVerifyingKey, proof: Proof, publicInputs: [Fr]) throws(Groth16Error) -> Bool {
        guard publicInputs.count == pvk.publicInputCount else {
            throw .wrongPublicInputCount(expected: pvk.publicInputCount, got: publicInputs.count)
        }
        // Two independent halves on two cores: the on-the-fly lines of B with e(A, B), and the
        // public-input commitment with the two fixed-line loops. Then one final exponentiation.
        let halves = parallelMap(2) { half -> MillerLoopResult in
            if half == 0 { return Pairing.multiMillerLoop([(proof.a, G2Prepared(proof.b))]) }
            let vkx = pvk.icCombination([.one] + publicInputs).affine
            return Pairing.multiMillerLoop([(vkx, pvk.negGamma), (proof.c, pvk.negDelta)])
        }
        return Pairing.finalExponentiation(halves[0] * halves[1]) == pvk.alphaBeta
    }

    /// Verifies many proofs at once with independent random 128-bit weights ρᵢ (OpenSSL CSPRNG,
    /// drawn as ρ = a + b·λ with 64-bit a, b; see `SecureRandom.glvWeight`):
    ///
    ///   ∏ e(ρᵢAᵢ, Bᵢ) · e((Σρᵢ)α, −β) · e(Σρᵢ·vk_xᵢ, −γ) · e(ΣρᵢCᵢ, −δ) = 1
    ///
    /// n + 3 Miller loops sharing one squaring chain (split across cores), one final
    /// exponentiation. A false proof passes with probability about 2⁻¹²⁸. When the product is
    /// not 1 the batch is bisected, with fresh weights, down to single proofs, so the outcome
    /// names every invalid proof.
    ///
    /// `parallelism` caps the threads one batch uses (default: all cores); a pool that runs a
    /// batch per core passes 1.
    public static func batchVerify(_ pvk: PreparedVerifyingKey, _ items: [(proof: Proof, publicInputs: [Fr])],
                                   parallelism: Int = coreCount) -> BatchOutcome {
        var outcome = BatchOutcome(valid: [Bool](repeating: false, count: items.count), failures: [:], batchChecks: 0)
        var candidates: [Int] = []
        for (i, item) in items.enumerated() {
            if item.publicInputs.count != pvk.publicInputCount {
                outcome.failures[i] = Groth16Error.wrongPublicInputCount(expected: pvk.publicInputCount, got: item.publicInputs.count).description
            } else {
                candidates.append(i)
            }
        }
        bisect(pvk, items, candidates, max(1, parallelism), &outcome)
        return outcome
    }

    static func bisect(_ pvk: PreparedVerifyingKey, _ items: [(proof: Proof, publicInputs: [Fr])], _ indices: [Int],
                       _ parallelism: Int, _ outcome: inout BatchOutcome) {
        if indices.isEmpty { return }
        if indices.count == 1 {
            let i = indices[0]
            let ok = (try? verify(pvk, proof: items[i].proof, publicInputs: items[i].publicInputs)) ?? false
            outcome.valid[i] = ok
            if !ok { outcome.failures[i] = "pairing check failed" }
            outcome.batchChecks += 1
            return
        }
        outcome.batchChecks += 1
        if batchCheck(pvk, indices.map { items[$0] }, parallelism: parallelism) {
            for i in indices { outcome.valid[i] = true }
            return
        }
        outcome.bisections += 1
        let mid = indices.count / 2
        bisect(pvk, items, Array(indices[..<mid]), parallelism, &outcome)
        bisect(pvk, items, Array(indices[mid...]), parallelism, &outcome)
    }

    /// One randomized batch equation over proofs whose input counts are right.
    static func batchCheck(_ pvk: PreparedVerifyingKey, _ items: [(proof: Proof, publicInputs: [Fr])], parallelism: Int) -> Bool {
        let n = items.count
        let draws = (0..<n).map { _ in SecureRandom.glvWeight() }
        let weights = draws.map(\.scalar)
        // Σρᵢ·(1, xᵢ₁, …, xᵢₖ): one IC combination for the whole batch.
        var icScalars = [Fr](repeating: .zero, count: pvk.publicInputCount + 1)
        for (w, item) in zip(weights, items) {
            icScalars[0] += w
            for (j, x) in item.publicInputs.enumerated() { icScalars[j + 1] += w * x }
        }
        let workers = max(1, min(parallelism, n))
        // Per-proof work (ρᵢAᵢ, ρᵢCᵢ, the lines of Bᵢ) in parallel chunks.
        let chunks = (0..<workers).map { w in stride(from: w, to: n, by: workers).map { $0 } }
        let partial = parallelMap(workers) { w -> (MillerLoopResult, G1Jacobian) in
            let scaledA = chunks[w].map { items[$0].proof.a.jacobian.multipliedGLV(draws[$0].a, draws[$0].b) }
            // Σρᵢ·Cᵢ over the chunk on one shared doubling chain.
            let sumC = G1Jacobian.linearCombinationGLV(chunks[w].map { items[$0].proof.c },
                                                       chunks[w].map { (draws[$0].a, draws[$0].b) })
            let affA = G1Jacobian.batchAffine(scaledA)
            let pairs = chunks[w].enumerated().map { (k, i) in (affA[k], G2Prepared(items[i].proof.b)) }
            return (Pairing.multiMillerLoop(pairs), sumC)
        }
        var ml = MillerLoopResult(.one)
        var sumC = G1Jacobian.infinity
        for w in 0..<workers { ml = ml * partial[w].0; sumC += partial[w].1 }
        let alphaTerm = pvk.key.alpha.jacobian.multiplied(by: icScalars[0])
        let fixed = G1Jacobian.batchAffine([alphaTerm, pvk.icCombination(icScalars), sumC])
        ml = ml * Pairing.multiMillerLoop([(fixed[0], pvk.negBeta), (fixed[1], pvk.negGamma), (fixed[2], pvk.negDelta)])
        return Pairing.finalExponentiation(ml).isOne
    }
}

/// What a batch verification found.
public struct BatchOutcome: Sendable {
    /// Per input position: did that proof verify?
    public var valid: [Bool]
    /// Why each rejected proof was rejected, by position.
    public var failures: [Int: String]
    /// Randomized batch equations (and single verifications) evaluated.
    public var batchChecks: Int
    /// Times a failing group was split in two.
    public var bisections: Int = 0

    public var allValid: Bool { failures.isEmpty && valid.allSatisfy { $0 } }
    public var invalidIndices: [Int] { valid.indices.filter { !valid[$0] } }
}
