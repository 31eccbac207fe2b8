import BN254
import Groth16
import Groth16Prover
import R1CS

/// Why a `.zkey` cannot be used, or a witness cannot be proved with it.
public struct ZKeyError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ZKey {
    /// The key in this library's prover form: A, B1, B2 as they are, L = section 8, the odd-coset
    /// H query, IC, α, β, γ, δ. Not a development key (whoever made it, it did not come from
    /// `DevelopmentSetup`).
    public func provingKey(circuitID: String) -> ProvingKey {
        ProvingKey(circuitID: circuitID, variableCount: variableCount, publicCount: publicCount, constraintCount: constraintCount,
                   domainSize: domainSize, alpha1: alpha1, beta1: beta1, beta2: beta2, delta1: delta1, delta2: delta2,
                   a: a, b1: b1, b2: b2, l: c, h: h, verifyingKey: verifyingKey, development: false, hQuery: .oddCoset)
    }

    /// The row evaluations of the domain for an assignment: aⱼ = Σ A[j][k]·z_k and bⱼ from
    /// section 4 (input rows included), and cⱼ = aⱼ·bⱼ (snarkjs's prover does the same: for a
    /// satisfying assignment the C row equals it; for any other the proof fails to verify).
    public func rowEvaluations(_ z: [Fr]) -> ([Fr], [Fr], [Fr]) {
        var a = [Fr](repeating: .zero, count: domainSize), b = a
        for k in coefficients {
            let term = k.value.isOne ? z[Int(k.signal)] : k.value * z[Int(k.signal)]
            if k.matrix == 0 { a[Int(k.row)] += term } else { b[Int(k.row)] += term }
        }
        var c = a
        for j in 0..<domainSize { c[j] *= b[j] }
        return (a, b, c)
    }

    /// A snarkjs-compatible Groth16 proof for the full witness `z` (z[0] = 1, the public
    /// signals, the rest; as in a `.wtns` file), and its public inputs z[1…nPublic].
    /// The proof is verified against the key's own verifying key before it is returned, so a
    /// witness that does not satisfy the circuit is refused rather than turned into a bad proof.
    public func prove(witness z: [Fr], progress: ((ProverStage, Double) -> Void)? = nil) throws(ZKeyError) -> (proof: Proof, publicInputs: [Fr]) {
        guard z.count == variableCount else {
            throw ZKeyError("the witness has \(z.count) values; the key's circuit has \(variableCount) signals")
        }
        guard z[0] == .one else { throw ZKeyError("the witness's first value (the constant signal) must be 1") }
        progress?(.witness, 0)
        let rows = rowEvaluations(z)
        progress?(.witness, 1)
        let proof = Prover.prove(provingKey: provingKey(circuitID: ""), rows: rows, assignment: z, progress: progress)
        let publicInputs = Array(z[1...publicCount])
        let ok = (try? Groth16.verify(PreparedVerifyingKey(verifyingKey), proof: proof, publicInputs: publicInputs)) ?? false
        guard ok else {
            throw ZKeyError("the proof does not verify: the witness does not satisfy this key's circuit (or the key is not well formed)")
        }
        return (proof, publicInputs)
    }
}
