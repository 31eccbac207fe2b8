import BN254

/// A Groth16 verifying key (snarkjs `verification_key.json`).
public struct VerifyingKey: Sendable, Equatable {
    public var alpha: G1Affine
    public var beta: G2Affine
    public var gamma: G2Affine
    public var delta: G2Affine
    /// IC[0] + Σ publicᵢ·IC[i+1] is the public-input commitment; count = nPublic + 1.
    public var ic: [G1Affine]

    public init(alpha: G1Affine, beta: G2Affine, gamma: G2Affine, delta: G2Affine, ic: [G1Affine]) {
        self.alpha = alpha; self.beta = beta; self.gamma = gamma; self.delta = delta; self.ic = ic
    }

    /// The number of public inputs the key expects.
    public var publicInputCount: Int { ic.count - 1 }
}

/// A Groth16 proof (snarkjs `proof.json`): A ∈ G1, B ∈ G2, C ∈ G1.
///
/// A value of this type has passed the point checks (on the curve; B in the order-r subgroup),
/// so the verifier does not repeat them.
public struct Proof: Sendable, Equatable {
    public let a: G1Affine
    public let b: G2Affine
    public let c: G1Affine

    /// Checks that A and C are on G1 and B is on the twist and in G2.
    public init(a: G1Affine, b: G2Affine, c: G1Affine) throws(Groth16Error) {
        guard a.isOnCurve else { throw .notOnCurve(field: "pi_a") }
        guard b.isOnCurve else { throw .notOnCurve(field: "pi_b") }
        guard b.isInSubgroup else { throw .notInSubgroup(field: "pi_b") }
        guard c.isOnCurve else { throw .notOnCurve(field: "pi_c") }
        self.a = a; self.b = b; self.c = c
    }

    /// For points the caller has already checked (a decoder, or the prover's own output).
    public init(unchecked a: G1Affine, _ b: G2Affine, _ c: G1Affine) { self.a = a; self.b = b; self.c = c }
}
