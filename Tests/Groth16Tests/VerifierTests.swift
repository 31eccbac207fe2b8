import BN254
import Foundation
import Groth16
import Testing
import TestSupport

/// Loads a circuit's key and its valid proofs from the reference vectors (Tests/Vectors).
struct CircuitFixture {
    let pvk: PreparedVerifyingKey
    let valid: [(proof: Proof, publicInputs: [Fr])]
    let invalid: [(proof: Proof, publicInputs: [Fr])]

    init(_ circuit: String) throws {
        let cases = ManifestCase.all.filter { $0.id.hasPrefix(circuit + "/") }
        let key = try SnarkJS.verifyingKey(from: cases[0].data("\(circuit)/verification_key.json"))
        pvk = PreparedVerifyingKey(key)
        func load(_ c: ManifestCase) throws -> (proof: Proof, publicInputs: [Fr]) {
            (try SnarkJS.proof(from: c.data(c.proof)), try SnarkJS.publicInputs(from: c.data(c.publicInputs)))
        }
        valid = try cases.filter { $0.category == "valid" }.map(load)
        invalid = try cases.filter { $0.category == "pairing" && $0.vk == "\(circuit)/verification_key.json" }.map(load)
    }
}

@Suite struct BatchVerificationTests {
    @Test(arguments: ["multiplier", "poseidon_preimage", "merkle_poseidon_d20", "transfer_v1"])
    func batchOfValidProofsAccepts(_ circuit: String) throws {
        let f = try CircuitFixture(circuit)
        #expect(f.valid.count >= 2)
        let items = Array(repeating: f.valid, count: 4).flatMap { $0 }
        let outcome = Groth16.batchVerify(f.pvk, items)
        #expect(outcome.allValid)
        #expect(outcome.batchChecks == 1 && outcome.bisections == 0)
    }

    @Test func oneInvalidProofIsNamed() throws {
        var rng = SeededGenerator(label: "batch-bad-position")
        let f = try CircuitFixture("transfer_v1")
        #expect(!f.invalid.isEmpty)
        var items = Array(repeating: f.valid, count: 8).flatMap { $0 }.prefix(15).map { $0 }
        let bad = Int(rng.next() % 16)
        items.insert(f.invalid[0], at: bad)
        let outcome = Groth16.batchVerify(f.pvk, items)
        #expect(!outcome.allValid)
        #expect(outcome.invalidIndices == [bad])
        #expect(outcome.failures[bad] != nil)
        #expect(outcome.bisections >= 1)
    }

    @Test func everyInvalidProofIsNamedAndCountsAreChecked() throws {
        let f = try CircuitFixture("poseidon_preimage")
        var items = f.valid + f.invalid + f.valid
        let tooFew = (proof: f.valid[0].proof, publicInputs: Array(f.valid[0].publicInputs.dropLast()))
        items.append(tooFew)
        let outcome = Groth16.batchVerify(f.pvk, items)
        let expectedBad = Array(f.valid.count..<(f.valid.count + f.invalid.count)) + [items.count - 1]
        #expect(outcome.invalidIndices == expectedBad)
        #expect(outcome.failures[items.count - 1]!.contains("wrong number of public inputs"))
    }

    @Test func emptyBatchIsTriviallyValid() throws {
        let f = try CircuitFixture("multiplier")
        #expect(Groth16.batchVerify(f.pvk, []).allValid)
    }
}

@Suite struct VerifierPropertyTests {
    /// Groth16 proofs are malleable: A' = A/r₁, B' = r₁B + r₂δ, C' = C + (r₂/r₁)A verifies too.
    @Test func rerandomizedProofVerifies() throws {
        var rng = SeededGenerator(label: "rerandomize")
        let f = try CircuitFixture("merkle_poseidon_d20")
        let (p, x) = f.valid[0]
        let r1 = rng.frValue(), r2 = rng.frValue()
        let a = p.a.jacobian.multiplied(by: r1.inverse())
        let b = p.b.jacobian.multiplied(by: r1) + f.pvk.key.delta.jacobian.multiplied(by: r2)
        let c = p.c.jacobian + p.a.jacobian.multiplied(by: r2 * r1.inverse())
        let q = try Proof(a: a.affine, b: b.affine, c: c.affine)
        #expect(try Groth16.verify(f.pvk, proof: q, publicInputs: x))
        #expect(q != p)
        // Any other change breaks it.
        let q2 = try Proof(a: a.affine, b: b.affine, c: (c + G1Jacobian.generator).affine)
        #expect(try !Groth16.verify(f.pvk, proof: q2, publicInputs: x))
    }

    @Test func everyPublicInputIsBound() throws {
        let f = try CircuitFixture("transfer_v1")
        let (p, x) = f.valid[0]
        #expect(x.count == 7)
        #expect(try Groth16.verify(f.pvk, proof: p, publicInputs: x))
        for i in 0..<x.count {
            var y = x
            y[i] += .one
            #expect(try !Groth16.verify(f.pvk, proof: p, publicInputs: y), "public[\(i)]")
        }
    }

    @Test func validatingInitRejectsBadPoints() throws {
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        #expect(throws: Groth16Error.notOnCurve(field: "pi_a")) { try Proof(a: G1Affine(x: .one, y: Fp(3)), b: g2, c: g1) }
        #expect(throws: Groth16Error.notOnCurve(field: "pi_c")) { try Proof(a: g1, b: g2, c: G1Affine(x: .one, y: Fp(3))) }
        let swapped = G2Affine(x: Fp2(g2.x.c1, g2.x.c0), y: Fp2(g2.y.c1, g2.y.c0))
        #expect(throws: Groth16Error.notOnCurve(field: "pi_b")) { try Proof(a: g1, b: swapped, c: g1) }
        let doc = try SharedVectors.json("bn254.json") as! [String: Any]
        let ns = (doc["g2_not_in_subgroup"] as! [String: Any])["point"] as! [[String]]
        let q = G2Affine(x: Fp2(try Fp(decimal: ns[0][0]), try Fp(decimal: ns[0][1])), y: Fp2(try Fp(decimal: ns[1][0]), try Fp(decimal: ns[1][1])))
        #expect(throws: Groth16Error.notInSubgroup(field: "pi_b")) { try Proof(a: g1, b: q, c: g1) }
    }
}

extension SeededGenerator {
    mutating func frValue() -> Fr {
        while true {
            let l = Limbs(UInt(next()), UInt(next()), UInt(next()), UInt(next() >> 2))
            if let x = Fr(canonical: l), !x.isZero { return x }
        }
    }
}
