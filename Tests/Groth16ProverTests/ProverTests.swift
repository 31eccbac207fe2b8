import BN254
import Foundation
import Groth16
import Groth16Prover
import Testing
import TestSupport

@Suite struct DomainAndMSMTests {
    @Test func nttRoundTripsAndAgreesWithNaiveEvaluation() {
        var rng = SeededGenerator(label: "ntt")
        let d = EvaluationDomain(minimumSize: 16)
        #expect(d.omega.pow([16]) == .one && d.omega.pow([8]) != .one)
        #expect(EvaluationDomain.rootOfUnity28.pow([1 << 28]) == .one && EvaluationDomain.rootOfUnity28.pow([1 << 27]) != .one)
        let coeffs = (0..<16).map { _ in Fr(rng.next()) }
        var v = coeffs
        d.ntt(&v)
        for i in [0, 1, 5, 15] {
            let x = d.omega.pow([UInt(i)])
            var acc = Fr.zero
            for c in coeffs.reversed() { acc = acc * x + c }
            #expect(v[i] == acc)
        }
        d.inverseNTT(&v)
        #expect(v == coeffs)
        var w = coeffs
        d.cosetNTT(&w)
        d.cosetInverseNTT(&w)
        #expect(w == coeffs)
    }

    @Test func msmEqualsTheNaiveSum() {
        var rng = SeededGenerator(label: "msm")
        for n in [0, 1, 7, 100, 600] {
            let points = (0..<n).map { _ in G1Jacobian.generator.multiplied(by: Fr(rng.next())).affine }
            var scalars = (0..<n).map { _ in Fr(rng.next()) * Fr(rng.next()) * Fr(rng.next()) }
            if n > 3 { scalars[0] = .zero; scalars[1] = -Fr.one; scalars[2] = .one }
            var expected = G1Jacobian.infinity
            for (p, s) in zip(points, scalars) { expected = expected + p.jacobian.multiplied(by: s) }
            #expect(MSM.multiply(points, scalars) == expected, "n = \(n)")
            #expect(MSM.multiply(points, scalars, threads: 1) == expected)
        }
        let g2 = (0..<20).map { _ in G2Jacobian.generator.multiplied(by: Fr(rng.next())).affine }
        let s2 = (0..<20).map { _ in Fr(rng.next()) }
        var e2 = G2Jacobian.infinity
        for (p, s) in zip(g2, s2) { e2 = e2 + p.jacobian.multiplied(by: s) }
        #expect(MSM.multiply(g2, s2) == e2)
    }
}

/// x³ + x + 5 = y with y public: z = [1, y, x, x², x³].
func cubic(_ x: Fr) -> (R1CS, [Fr]) {
    let c = [Constraint(a: [Term(2, .one)], b: [Term(2, .one)], c: [Term(3, .one)]),
             Constraint(a: [Term(3, .one)], b: [Term(2, .one)], c: [Term(4, .one)]),
             Constraint(a: [Term(4, .one), Term(2, .one), Term(0, Fr(5))], b: [Term(0, .one)], c: [Term(1, .one)])]
    let y = x * x * x + x + Fr(5)
    return (R1CS(variableCount: 5, publicCount: 1, constraints: c), [.one, y, x, x * x, x * x * x])
}

@Suite struct ProveAndVerifyTests {
    @Test func proofsVerifyAndDifferEachTime() throws {
        let (r1cs, z) = cubic(Fr(3))
        let (pk, vk0) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "cubic")
        let vk = PreparedVerifyingKey(vk0)
        let p1 = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
        let p2 = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
        #expect(p1 != p2)
        #expect(try Groth16.verify(vk, proof: p1, publicInputs: [z[1]]))
        #expect(try Groth16.verify(vk, proof: p2, publicInputs: [z[1]]))
        #expect(try !Groth16.verify(vk, proof: p1, publicInputs: [z[1] + .one]))
        // The verifying key survives snarkjs JSON.
        #expect(try SnarkJS.verifyingKey(from: SnarkJS.encode(vk0)) == vk0)
        // A false statement is refused, or its proof does not verify.
        var bad = z
        bad[1] += .one
        #expect(throws: ProverError.unsatisfied(constraint: 2)) { try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: bad, checkSatisfied: true) }
        let forged = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: bad)
        #expect(try !Groth16.verify(vk, proof: forged, publicInputs: [bad[1]]))
    }

    @Test func provingKeyFileRoundTripsAndRefusesDamage() throws {
        let (r1cs, _) = cubic(Fr(1))
        let (pk, _) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "cubic")
        let bytes = pk.serialized()
        #expect(try ProvingKey(serialized: bytes) == pk)
        #expect(throws: ProvingKeyError.self) { try ProvingKey(serialized: Array(bytes.dropLast(5))) }
        var magic = bytes
        magic[0] = 0x41
        #expect(throws: ProvingKeyError.notAProvingKey) { try ProvingKey(serialized: magic) }
        var version = bytes
        version[6] = 9
        #expect(throws: ProvingKeyError.unsupportedVersion(9)) { try ProvingKey(serialized: version) }
    }
}
