import BN254
import Foundation
import Groth16
import Groth16Prover
import Testing
import TestSupport

@Suite struct ProveAndVerifyTests {
    @Test func cubicProofsVerifyAndDifferEachTime() throws {
        let (r1cs, z) = cubic(Fr(3))
        let (pk, vk0) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "cubic")
        #expect(pk.label == "development key: unsafe for real funds")
        let vk = PreparedVerifyingKey(vk0)
        let p1 = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
        let p2 = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
        #expect(p1 != p2)
        #expect(try Groth16.verify(vk, proof: p1, publicInputs: [z[1]]))
        #expect(try Groth16.verify(vk, proof: p2, publicInputs: [z[1]]))
        #expect(try !Groth16.verify(vk, proof: p1, publicInputs: [z[1] + .one]))
        // The verifying key and the proof survive snarkjs JSON.
        #expect(try SnarkJS.verifyingKey(from: SnarkJS.encode(vk0)) == vk0)
        let decoded = try SnarkJS.proof(from: SnarkJS.encode(p1))
        #expect(decoded == p1)
        #expect(try Groth16.verify(vk, proof: decoded, publicInputs: SnarkJS.publicInputs(from: SnarkJS.encode(publicInputs: [z[1]]))))
    }

    /// A false statement is refused by default; forced through, its proof does not verify.
    @Test func falseStatementsAreRefusedOrFail() throws {
        let (r1cs, z) = cubic(Fr(3))
        let (pk, vk0) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "cubic")
        let vk = PreparedVerifyingKey(vk0)
        var bad = z
        bad[1] += .one
        #expect(throws: ProverError.unsatisfied(constraint: 2)) { try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: bad) }
        let forged = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: bad, checkSatisfied: false)
        #expect(try !Groth16.verify(vk, proof: forged, publicInputs: [bad[1]]))
        #expect(throws: ProverError.wrongAssignmentLength(expected: 5, got: 4)) { try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: Array(z.dropLast())) }
        var notOne = z
        notOne[0] = Fr(2)
        #expect(throws: ProverError.constantNotOne) { try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: notOne) }
        // A key for another circuit is refused.
        let (other, w) = SyntheticCircuit.make(constraints: 10, publicInputs: 1, seed: 3)
        #expect(throws: ProverError.self) { try Prover.prove(provingKey: pk, r1cs: other, assignment: w) }
    }

    /// A synthetic 2^12-constraint circuit (3 public inputs): setup, prove, verify, and the
    /// same proof refused for each altered public input.
    @Test func syntheticCircuitOf4096Constraints() throws {
        let (r1cs, z) = SyntheticCircuit.make(constraints: 4096 - 4, publicInputs: 3, seed: 42)
        #expect(r1cs.firstUnsatisfied(z) == nil)
        var stages: [ProverStage] = []
        let (pk, vk0) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "synthetic") { stage, _ in
            if stages.last != stage { stages.append(stage) }
        }
        #expect(stages == [.qap, .queries])
        #expect(pk.domainSize == 4096)
        let vk = PreparedVerifyingKey(vk0)
        var proveStages: [ProverStage] = []
        let proof = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z) { stage, _ in
            if proveStages.last != stage { proveStages.append(stage) }
        }
        #expect(proveStages == [.witness, .quotient, .msm])
        let inputs = Array(z[1...3])
        #expect(try Groth16.verify(vk, proof: proof, publicInputs: inputs))
        for i in 0..<3 {
            var wrong = inputs
            wrong[i] += .one
            #expect(try !Groth16.verify(vk, proof: proof, publicInputs: wrong))
        }
        // An unsatisfying private value is caught at its first constraint.
        var bad = z
        bad[r1cs.variableCount - 1] += .one
        #expect(throws: ProverError.unsatisfied(constraint: r1cs.constraints.count - 1)) {
            try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: bad)
        }
    }

    /// A circuit without public inputs (only the constant row is added to the QAP).
    @Test func noPublicInputs() throws {
        let (r1cs, z) = SyntheticCircuit.make(constraints: 50, publicInputs: 0, seed: 5)
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: r1cs)
        let proof = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
        #expect(try Groth16.verify(PreparedVerifyingKey(vk), proof: proof, publicInputs: []))
    }
}

@Suite struct ProvingKeyFileTests {
    static let key: ProvingKey = {
        let (r1cs, _) = SyntheticCircuit.make(constraints: 60, publicInputs: 2, seed: 9)
        return try! DevelopmentSetup.generate(r1cs: r1cs, circuitID: "synthetic-60").0
    }()

    @Test func roundTripsThroughAFile() throws {
        let pk = Self.key
        #expect(pk.a.contains { $0.isInfinity })  // variables outside A: encoded as zeros
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pk-\(UUID().uuidString).zkspk")
        defer { try? FileManager.default.removeItem(at: url) }
        try pk.write(to: url)
        #expect(try ProvingKey.load(from: url) == pk)
        #expect(try ProvingKey.load(from: url, verifyPoints: true) == pk)
        let bytes = try Data(contentsOf: url)
        #expect(Array(bytes.prefix(5)) == Array("ZKSPK".utf8))
        #expect(String(decoding: bytes, as: UTF8.self).contains("development key: unsafe for real funds"))
    }

    @Test func refusesDamage() throws {
        let bytes = Self.key.serialized()
        #expect(throws: ProvingKeyError.truncated(expected: bytes.count, got: bytes.count - 5)) { try ProvingKey(serialized: Array(bytes.dropLast(5))) }
        #expect(throws: ProvingKeyError.self) { try ProvingKey(serialized: Array(bytes.prefix(40))) }
        #expect(throws: ProvingKeyError.notAProvingKey) { try ProvingKey(serialized: []) }
        var magic = bytes
        magic[0] = 0x41
        #expect(throws: ProvingKeyError.notAProvingKey) { try ProvingKey(serialized: magic) }
        var version = bytes
        version[6] = 9
        #expect(throws: ProvingKeyError.unsupportedVersion(9)) { try ProvingKey(serialized: version) }
        var flipped = bytes
        flipped[bytes.count - 1000] ^= 1
        #expect(throws: ProvingKeyError.checksumMismatch) { try ProvingKey(serialized: flipped) }
        #expect(throws: ProvingKeyError.self) { try ProvingKey(serialized: bytes + [0]) }
        #expect(throws: ProvingKeyError.self) {
            try ProvingKey.load(from: URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString)"))
        }
    }

    /// A point off the curve with a valid checksum: found only by `verifyPoints`.
    @Test func verifyPointsFindsABadPoint() throws {
        var pk = Self.key
        pk.h[3] = G1Affine(x: pk.h[3].x, y: pk.h[3].y + .one)
        let bytes = pk.serialized()
        #expect(try ProvingKey(serialized: bytes) == pk)
        #expect(throws: ProvingKeyError.badPoint("h[3] is not on G1")) { try ProvingKey(serialized: bytes, verifyPoints: true) }
    }
}
