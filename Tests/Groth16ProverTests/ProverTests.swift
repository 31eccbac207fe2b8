import BN254
import Foundation
import Groth16
import Groth16Prover
import Testing
import TestSupport

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
