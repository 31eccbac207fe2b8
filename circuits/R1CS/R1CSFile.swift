import BN254

/// iden3's `.r1cs` format, version 1 (iden3/r1csfile `doc/r1cs_bin_format.md`), as circom
/// writes it and snarkjs, arkworks (ark-circom) and groth16py read it.
///
/// Sections: 1 = header (field size 32, prime r, nWires, nPubOut, nPubIn, nPrvIn, nLabels
/// (u64), mConstraints); 2 = constraints (for each, A, B, C as a u32 term count then (u32
/// wire, 32-byte coefficient) pairs in ascending wire order); 3 = wire → label map (u64 per
/// wire). Coefficients are plain little-endian integers below r.
///
/// Our circuits have no public outputs: the public inputs are `nPubIn`, wires 1…nPubIn. Labels
/// are the wires themselves (nLabels = nWires, the identity map), since nothing is optimized away.
/// `nPrvIn` is 0 by default: the builder does not set the statement's private inputs apart
/// from intermediate wires, and no prover reads the count (it only labels wires).
public enum R1CSFile {
    public struct Header: Equatable, Sendable {
        public var fieldSize: UInt32
        public var prime: Limbs
        public var wireCount: UInt32
        public var publicOutputCount: UInt32
        public var publicInputCount: UInt32
        public var privateInputCount: UInt32
        public var labelCount: UInt64
        public var constraintCount: UInt32

        public static func == (a: Header, b: Header) -> Bool {
            a.fieldSize == b.fieldSize && a.prime == b.prime && a.wireCount == b.wireCount
                && a.publicOutputCount == b.publicOutputCount && a.publicInputCount == b.publicInputCount
                && a.privateInputCount == b.privateInputCount && a.labelCount == b.labelCount
                && a.constraintCount == b.constraintCount
        }
    }

    /// The file's bytes. `privateInputCount` is informational (wires after the public inputs
    /// that are inputs of the statement rather than intermediates).
    public static func encode(_ r1cs: R1CS, privateInputCount: Int = 0) -> [UInt8] {
        let terms = r1cs.constraints.reduce(0) { $0 + $1.a.count + $1.b.count + $1.c.count }
        var w = Iden3Writer(magic: "r1cs", version: 1, sections: 3,
                            capacity: 200 + 36 * terms + 12 * r1cs.constraints.count + 8 * r1cs.variableCount)
        w.section(1) { w in
            w.u32(32)
            w.limbs(FrParameters.modulus)
            w.u32(UInt32(r1cs.variableCount))
            w.u32(0)
            w.u32(UInt32(r1cs.publicCount))
            w.u32(UInt32(privateInputCount))
            w.u64(UInt64(r1cs.variableCount))
            w.u32(UInt32(r1cs.constraints.count))
        }
        w.section(2) { w in
            func lc(_ terms: LinearCombination) {
                let sorted = zip(terms, terms.dropFirst()).allSatisfy { $0.variable < $1.variable }
                    ? terms : terms.sorted { $0.variable < $1.variable }
                w.u32(UInt32(sorted.count))
                for t in sorted {
                    w.u32(UInt32(t.variable))
                    w.field(t.coefficient)
                }
            }
            for c in r1cs.constraints { lc(c.a); lc(c.b); lc(c.c) }
        }
        w.section(3) { w in
            for i in 0..<r1cs.variableCount { w.u64(UInt64(i)) }
        }
        return w.bytes
    }

    /// Parses a `.r1cs` file over the BN254 scalar field. Public outputs and public inputs
    /// both become public variables (outputs first, as in the file's wire order).
    public static func decode(_ bytes: [UInt8]) throws(Iden3FormatError) -> (header: Header, r1cs: R1CS) {
        let (_, sections) = try Iden3Reader.sections(bytes, magic: "r1cs", versions: 1...1)
        guard let h = sections[1] else { throw .missingSection(1) }
        guard let cRange = sections[2] else { throw .missingSection(2) }
        var r = Iden3Reader(bytes, from: h.lowerBound, to: h.upperBound)
        try r.expectScalarField()
        let header = Header(fieldSize: 32, prime: FrParameters.modulus,
                            wireCount: try r.u32("nWires"), publicOutputCount: try r.u32("nPubOut"),
                            publicInputCount: try r.u32("nPubIn"), privateInputCount: try r.u32("nPrvIn"),
                            labelCount: try r.u64("nLabels"), constraintCount: try r.u32("mConstraints"))
        let wires = Int(header.wireCount)
        let publics = Int(header.publicOutputCount) + Int(header.publicInputCount)
        guard wires >= 1 + publics + Int(header.privateInputCount) else {
            throw .invalid("\(wires) wires cannot hold 1 + \(publics) public + \(header.privateInputCount) private inputs")
        }

        var c = Iden3Reader(bytes, from: cRange.lowerBound, to: cRange.upperBound)
        func lc() throws(Iden3FormatError) -> LinearCombination {
            let n = Int(try c.u32("a term count"))
            guard n <= c.remaining / 36 else { throw .truncated("a linear combination") }
            var out: LinearCombination = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                let wire = Int(try c.u32("a wire id"))
                guard wire < wires else { throw .invalid("wire \(wire) outside 0..<\(wires)") }
                if let last = out.last, last.variable >= wire { throw .invalid("terms not in ascending wire order") }
                out.append(Term(wire, try c.field("a coefficient")))
            }
            return out
        }
        var constraints: [Constraint] = []
        constraints.reserveCapacity(Int(header.constraintCount))
        for _ in 0..<header.constraintCount {
            let a = try lc(), b = try lc(), cc = try lc()
            constraints.append(Constraint(a: a, b: b, c: cc))
        }
        guard c.remaining == 0 else { throw .invalid("\(c.remaining) bytes after the last constraint") }
        if let m = sections[3], m.count != 8 * wires {
            throw .invalid("wire map of \(m.count) bytes for \(wires) wires")
        }
        return (header, R1CS(variableCount: wires, publicCount: publics, constraints: constraints))
    }
}
