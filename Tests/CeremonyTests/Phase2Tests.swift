import BN254
import Ceremony
import Foundation
import Groth16
import Groth16Prover
import Primitives
import R1CS
import Testing
import TestSupport

/// Phase 2 for circom-compat's multiplier on the Hermez Powers-of-Tau file: new, two
/// contributions and a beacon, verify, prove; and every check refusing what it should.
@Suite struct Phase2Tests {
    static func inputs() throws -> (R1CS, PowersOfTau) {
        let r1cs = try R1CSFile.decode([UInt8](Data(contentsOf: SharedVectors.url("ceremony/multiplier.r1cs")))).r1cs
        let ptau = try PowersOfTau.read([UInt8](Data(contentsOf: SharedVectors.url("ceremony/powersOfTau28_hez_final_10.ptau"))))
        return (r1cs, ptau)
    }

    static func ceremony() throws -> (ZKey, R1CS, PowersOfTau) {
        let (r1cs, ptau) = try Self.inputs()
        let initial = try Phase2.newKey(r1cs: r1cs, ptau: ptau)
        let (first, _) = try Phase2.contribute(initial, name: "alice")
        let (second, _) = try Phase2.contribute(first, name: "bob")
        let (final, _) = try Phase2.beacon(second, hashHex: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", iterationsExponent: 10, name: "beacon")
        return (final, r1cs, ptau)
    }

    @Test func aCeremonyVerifiesAndItsKeyProves() throws {
        let (key, r1cs, ptau) = try Self.ceremony()
        #expect(key.contributions.map(\.name) == ["alice", "bob", "beacon"])
        let report = try Phase2.verify(key, r1cs: r1cs, ptau: ptau)
        #expect(report.contributions.map(\.index) == [1, 2, 3] && report.contributions.last?.isBeacon == true)
        // The file round-trips, and a proof from it verifies under its verifying key.
        let back = try ZKey(bytes: key.encoded())
        #expect(back == key)
        let z = [Fr.one, Fr(33), Fr(3), Fr(11)]
        let (proof, publicInputs) = try back.prove(witness: z)
        #expect(try Groth16.verify(PreparedVerifyingKey(key.verifyingKey), proof: proof, publicInputs: publicInputs))
        // δ moved away from the generator: the key is not the initial one's.
        #expect(key.delta2 != .generator)
    }

    @Test func theInitialKeyAloneProvesButIsNotFinal() throws {
        let (r1cs, ptau) = try Self.inputs()
        let initial = try Phase2.newKey(r1cs: r1cs, ptau: ptau)
        try ZKeyCircuitCheck.check(initial, against: r1cs)
        #expect(initial.delta1 == G1Affine.generator && initial.contributions.isEmpty && initial.circuitHash.count == 64)
        _ = try initial.prove(witness: [Fr.one, Fr(33), Fr(3), Fr(11)])
        let report = try Phase2.verify(initial, r1cs: r1cs, ptau: ptau)
        #expect(report.contributions.isEmpty)
    }

    @Test func aSwappedProofOfKnowledgeIsRefusedAndNamed() throws {
        let (key, r1cs, ptau) = try Self.ceremony()
        var swapped = key
        swapped.contributions[1].g2SPX = key.contributions[0].g2SPX
        #expect(throws: Phase2Error.contribution(index: 2, name: "bob", reason: "its proof of knowledge fails (s·x and sp·x are not the same multiple)")) {
            try Phase2.verify(swapped, r1cs: r1cs, ptau: ptau)
        }
        // Another's whole public key (s, s·x, sp·x) does not fit this transcript either.
        var borrowed = key
        borrowed.contributions[1].g1S = key.contributions[0].g1S
        borrowed.contributions[1].g1SX = key.contributions[0].g1SX
        borrowed.contributions[1].g2SPX = key.contributions[0].g2SPX
        #expect(throws: Phase2Error.self) { try Phase2.verify(borrowed, r1cs: r1cs, ptau: ptau) }
    }

    @Test func everyOtherTamperingIsRefused() throws {
        let (key, r1cs, ptau) = try Self.ceremony()
        func refused(_ change: (inout ZKey) -> Void) -> Bool {
            var k = key
            change(&k)
            return (try? Phase2.verify(k, r1cs: r1cs, ptau: ptau)) == nil
        }
        let g = G1Affine.generator
        #expect(refused { $0.c[0] = g })                                  // one C point
        #expect(refused { $0.h[3] = g })                                  // one H point
        #expect(refused { $0.a[1] = g })                                  // A is the initial key's
        #expect(refused { $0.ic[0] = g })
        #expect(refused { $0.delta1 = g })                                // δ₁ is the last δ after
        #expect(refused { $0.delta2 = .generator })                       // δ₂ matches δ₁
        #expect(refused { $0.contributions[0].transcript[0] ^= 1 })       // the transcript chain
        #expect(refused { $0.contributions[2].beaconHash![0] ^= 1 })      // the beacon is recomputed
        #expect(refused { $0.circuitHash[5] ^= 1 })
        #expect(refused { $0.contributions.remove(at: 1) })               // a contribution left out
    }

    @Test func theHQueryFromHalfAnFFTIsTheOddHalfOfTheWholeOne() throws {
        let (_, ptau) = try Self.inputs()
        for level in 0...4 {
            let whole: [G1Affine] = try ptau.lagrangeTauG1(level: level + 1)
            let odd: [G1Affine] = try ptau.lagrangeTauG1OddPoints(level: level)
            let expected: [G1Affine] = (0..<(1 << level)).map { whole[2 * $0 + 1] }
            #expect(odd == expected, "level \(level)")
        }
        // At the top level the last power is missing (snarkjs's convention: infinity).
        var top = ptau
        top.tauG1 = Array(ptau.tauG1.prefix(PowersOfTau.tauG1Count(power: 3)))
        top.power = 3
        let topWhole: [G1Affine] = try top.lagrangeTauG1(level: 4)
        let topOdd: [G1Affine] = try top.lagrangeTauG1OddPoints(level: 3)
        let topExpected: [G1Affine] = (0..<8).map { topWhole[2 * $0 + 1] }
        #expect(topOdd == topExpected)
    }

    @Test func aPtauTooSmallIsRefusedWithThePowerNeeded() throws {
        let (r1cs, ptau) = try Self.inputs()
        #expect(Phase2.requiredPower(r1cs) == 3)
        var small = ptau
        small.power = 2
        #expect(throws: Phase2Error.ptauTooSmall(power: 2, needed: 3)) { try Phase2.newKey(r1cs: r1cs, ptau: small) }
    }

    @Test func aBadBeaconIsRefused() throws {
        let (r1cs, ptau) = try Self.inputs()
        let initial = try Phase2.newKey(r1cs: r1cs, ptau: ptau)
        #expect(throws: Phase2Error.self) { try Phase2.beacon(initial, hashHex: "zz", iterationsExponent: 10, name: nil) }
        #expect(throws: Phase2Error.self) { try Phase2.beacon(initial, hashHex: "00", iterationsExponent: 9, name: nil) }
    }
}
