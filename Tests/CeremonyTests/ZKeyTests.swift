import BN254
import Ceremony
import Foundation
import Groth16
import Groth16Prover
import R1CS
import Testing
import TestSupport

/// snarkjs's `.zkey` for circom-compat's multiplier (c = a·b, one public output), made by
/// `snarkjs zkey new` from the Hermez 2^10 ptau (Tests/Vectors/ceremony/README.md).
@Suite struct ZKeyTests {
    static func multiplier() throws -> [UInt8] { [UInt8](try Data(contentsOf: SharedVectors.url("ceremony/multiplier.zkey"))) }
    static func witness() throws -> [Fr] {
        let values = try #require(try SharedVectors.json("ceremony/multiplier-witness.json") as? [String])
        return try values.map { try Fr(decimal: $0) }
    }

    @Test func multiplierReadsWithTheSizesCircomCompatDocuments() throws {
        let key = try ZKey(bytes: Self.multiplier())
        #expect(key.variableCount == 4 && key.publicCount == 1 && key.domainSize == 4)
        #expect(key.ic.count == 2 && key.c.count == 2 && key.h.count == 4)
        #expect(key.constraintCount == 1)
        #expect(key.circuitHash.count == 64 && key.contributions.isEmpty)
        #expect(key.sectionOrder == ZKey.newKeyOrder)
    }

    @Test func itsVerifyingKeyIsTheOnePublishedBesideIt() throws {
        let key = try ZKey(bytes: Self.multiplier())
        let published = try SnarkJS.verifyingKey(from: Data(contentsOf: SharedVectors.url("ceremony/multiplier-verification_key.json")))
        #expect(key.verifyingKey == published)
    }

    @Test func writingWhatWasReadGivesTheSameBytes() throws {
        let bytes = try Self.multiplier()
        let key = try ZKey(bytes: bytes)
        #expect(key.encoded() == bytes)
        var other = key
        other.sectionOrder = ZKey.contributedOrder
        let reordered = other.encoded()
        #expect(reordered != bytes)
        var back = try ZKey(bytes: reordered)
        #expect(back.sectionOrder == ZKey.contributedOrder)
        back.sectionOrder = key.sectionOrder
        #expect(back == key)
    }

    @Test func aProofFromTheGivenWitnessVerifies() throws {
        let key = try ZKey(bytes: Self.multiplier())
        let z = try Self.witness()
        #expect(z.map(\.decimalString) == ["1", "33", "3", "11"])
        let (proof, publicInputs) = try key.prove(witness: z)
        #expect(publicInputs == [Fr(33)])
        let vk = try SnarkJS.verifyingKey(from: Data(contentsOf: SharedVectors.url("ceremony/multiplier-verification_key.json")))
        #expect(try Groth16.verify(PreparedVerifyingKey(vk), proof: proof, publicInputs: [Fr(33)]))
        #expect(try !Groth16.verify(PreparedVerifyingKey(vk), proof: proof, publicInputs: [Fr(34)]))
        // Through the prover's key form too (the one `keys import-zkey` writes): it round-trips.
        let pk = key.provingKey(circuitID: "multiplier")
        #expect(try ProvingKey(serialized: pk.serialized()) == pk)
    }

    @Test func aWitnessThatDoesNotSatisfyTheCircuitIsRefused() throws {
        let key = try ZKey(bytes: Self.multiplier())
        var z = try Self.witness()
        z[1] = Fr(34)  // 3·11 ≠ 34
        #expect(throws: ZKeyError.self) { try key.prove(witness: z) }
        #expect(throws: ZKeyError.self) { try key.prove(witness: Array(z.prefix(3))) }
    }

    @Test func damagedFilesAreRefusedWithAReason() throws {
        let bytes = try Self.multiplier()
        // Every single-byte change inside the points or coefficients is caught or changes the key.
        let key = try ZKey(bytes: bytes)
        var refused = 0, changed = 0
        for offset in stride(from: 24, to: bytes.count, by: 7) {
            var b = bytes
            b[offset] ^= 0x5a
            if let k = try? ZKey(bytes: b) { if k != key { changed += 1 } } else { refused += 1 }
        }
        #expect(refused > 0 && refused + changed == (bytes.count - 24 + 6) / 7)
        #expect(throws: Iden3FormatError.self) { try ZKey(bytes: Array(bytes.prefix(bytes.count - 1))) }
        #expect(throws: Iden3FormatError.self) { try ZKey(bytes: Array("ptau".utf8) + Array(bytes.dropFirst(4))) }
        // A point moved off its curve: y + 1.
        var offCurve = bytes
        offCurve[1452 + 32] ^= 1
        #expect(throws: Iden3FormatError.self) { try ZKey(bytes: offCurve) }
    }
}
