import BN254
import Circuits
import Groth16Prover
import R1CS
import TestSupport
import Testing

/// `.r1cs` (version 1) and `.wtns` (version 2) as iden3 lays them out: header fields at their
/// byte offsets, round trips of the transfer circuit and of an honest witness, strict decoding.
@Suite struct Iden3FormatTests {
    private func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) } }
    private func u64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * $1) } }

    /// r as 32 little-endian bytes (the header's prime), from its decimal form.
    private var primeLE: [UInt8] { Array(try! Limbs(decimal: FrParameters.modulusDecimal).bigEndianBytes.reversed()) }

    @Test func r1csHeaderLayout() {
        let bytes = R1CSFile.encode(TransferCircuit.r1cs)
        #expect(Array(bytes[0..<4]) == Array("r1cs".utf8))
        #expect(u32(bytes, 4) == 1)          // version
        #expect(u32(bytes, 8) == 3)          // sections: header, constraints, wire map
        #expect(u32(bytes, 12) == 1)         // header section…
        #expect(u64(bytes, 16) == 64)        // …of 4 + 32 + 4·4 + 8 + 4 bytes
        #expect(u32(bytes, 24) == 32)        // field size
        #expect(Array(bytes[28..<60]) == primeLE)
        #expect(u32(bytes, 60) == UInt32(TransferCircuit.r1cs.variableCount))  // nWires
        #expect(u32(bytes, 64) == 0)         // nPubOut
        #expect(u32(bytes, 68) == 7)         // nPubIn
        #expect(u32(bytes, 72) == 0)         // nPrvIn (not distinguished)
        #expect(u64(bytes, 76) == UInt64(TransferCircuit.r1cs.variableCount))  // nLabels
        #expect(u32(bytes, 84) == UInt32(TransferCircuit.constraintCount))
        #expect(u32(bytes, 88) == 2)         // constraints section
        let constraintsSize = Int(u64(bytes, 92))
        let mapAt = 100 + constraintsSize
        #expect(u32(bytes, mapAt) == 3 && Int(u64(bytes, mapAt + 4)) == 8 * TransferCircuit.r1cs.variableCount)
        #expect(mapAt + 12 + 8 * TransferCircuit.r1cs.variableCount == bytes.count)
        #expect(u64(bytes, mapAt + 12 + 8 * 5) == 5)  // identity wire → label map
    }

    @Test func r1csRoundTripOfTheTransferCircuit() throws {
        let r1cs = TransferCircuit.r1cs
        let bytes = R1CSFile.encode(r1cs)
        let (header, decoded) = try R1CSFile.decode(bytes)
        #expect(header.fieldSize == 32 && header.prime == FrParameters.modulus)
        #expect(header.wireCount == UInt32(r1cs.variableCount) && header.labelCount == UInt64(r1cs.variableCount))
        #expect(header.publicOutputCount == 0 && header.publicInputCount == 7 && header.privateInputCount == 0)
        #expect(header.constraintCount == UInt32(r1cs.constraints.count))
        #expect(decoded.variableCount == r1cs.variableCount && decoded.publicCount == 7)
        #expect(decoded.constraints == r1cs.constraints)
        let terms = r1cs.constraints.reduce(0) { $0 + $1.a.count + $1.b.count + $1.c.count }
        print("[r1cs] \(r1cs.constraints.count) constraints, \(terms) nonzero terms, \(bytes.count) bytes")
    }

    /// A hand-encoded constraint: (3·w1) · (w0) = (w2 + (r−1)·w0), checked byte by byte.
    @Test func r1csConstraintEncoding() throws {
        let c = Constraint(a: [Term(1, Fr(3))], b: [Term(0, .one)], c: [Term(0, -Fr.one), Term(2, .one)])
        let bytes = R1CSFile.encode(R1CS(variableCount: 3, publicCount: 1, constraints: [c]))
        let body = 100  // after the 12-byte file header, the 76-byte header section and the section header
        #expect(u32(bytes, 88) == 2)
        #expect(u64(bytes, 92) == UInt64(3 * 4 + 4 * 36))
        #expect(u32(bytes, body) == 1 && u32(bytes, body + 4) == 1)
        #expect(Array(bytes[(body + 8)..<(body + 40)]) == [3] + Array(repeating: 0, count: 31))  // plain, not Montgomery
        #expect(u32(bytes, body + 40) == 1 && u32(bytes, body + 44) == 0)
        #expect(u32(bytes, body + 80) == 2 && u32(bytes, body + 84) == 0)
        var rMinusOne = primeLE
        rMinusOne[0] -= 1
        #expect(Array(bytes[(body + 88)..<(body + 120)]) == rMinusOne)
        #expect(u32(bytes, body + 120) == 2)
        let (_, decoded) = try R1CSFile.decode(bytes)
        #expect(decoded.constraints == [c])
    }

    @Test func witnessRoundTripAndLayout() throws {
        var g = SeededGenerator(label: "wtns")
        let w = TransferExample.random(using: &g)
        let z = try TransferCircuit.assignment(w)
        let bytes = WitnessFile.encode(z)
        #expect(Array(bytes[0..<4]) == Array("wtns".utf8))
        #expect(u32(bytes, 4) == 2 && u32(bytes, 8) == 2)
        #expect(u32(bytes, 12) == 1 && u64(bytes, 16) == 40)
        #expect(u32(bytes, 24) == 32 && Array(bytes[28..<60]) == primeLE)
        #expect(u32(bytes, 60) == UInt32(z.count))
        #expect(u32(bytes, 64) == 2 && u64(bytes, 68) == UInt64(32 * z.count))
        #expect(Array(bytes[76..<108]) == [1] + Array(repeating: 0, count: 31))  // z[0] = 1, plain form
        #expect(Array(bytes[108..<140]) == Array(w.root.bigEndianBytes.reversed()))  // z[1] = root
        #expect(bytes.count == 76 + 32 * z.count)
        #expect(try WitnessFile.decode(bytes) == z)
    }

    @Test func decodersRefuseMalformedFiles() {
        let z: [Fr] = [.one, Fr(5)]
        var bytes = WitnessFile.encode(z)
        #expect(throws: Iden3FormatError.badMagic(expected: "wtns")) { try WitnessFile.decode(Array("wtnx".utf8) + bytes.dropFirst(4)) }
        #expect(throws: Iden3FormatError.self) { try WitnessFile.decode(Array(bytes.dropLast())) }
        // A value ≥ r is not canonical.
        for k in 0..<32 { bytes[108 + k] = 0xff }
        #expect(throws: Iden3FormatError.self) { try WitnessFile.decode(bytes) }
        let r1cs = R1CSFile.encode(R1CS(variableCount: 2, publicCount: 1, constraints: [Constraint(a: [Term(1, .one)], b: [Term(0, .one)], c: [Term(1, .one)])]))
        var wrongPrime = r1cs
        wrongPrime[28] ^= 1
        #expect(throws: Iden3FormatError.self) { try R1CSFile.decode(wrongPrime) }
        #expect(throws: Iden3FormatError.self) { try R1CSFile.decode(Array(r1cs.dropLast(9))) }
        #expect(throws: Iden3FormatError.unsupportedVersion(2)) {
            var v = r1cs; v[4] = 2; _ = try R1CSFile.decode(v)
        }
    }
}
