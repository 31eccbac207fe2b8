import BN254

/// iden3's `.wtns` format, version 2 (snarkjs `wtns_utils`, circom's witness calculators):
/// section 1 = header (u32 field size 32, the prime r, u32 number of values), section 2 = the
/// values, 32 bytes each, little-endian, plain (not Montgomery) form. The values are the full
/// assignment z in wire order: z[0] = 1, the public inputs, then the rest.
public enum WitnessFile {
    public static func encode(_ z: [Fr]) -> [UInt8] {
        var w = Iden3Writer(magic: "wtns", version: 2, sections: 2, capacity: 100 + 32 * z.count)
        w.section(1) { w in
            w.u32(32)
            w.limbs(FrParameters.modulus)
            w.u32(UInt32(z.count))
        }
        w.section(2) { w in
            for x in z { w.field(x) }
        }
        return w.bytes
    }

    /// Parses a `.wtns` file (versions 1 and 2 share this layout) over the BN254 scalar field.
    public static func decode(_ bytes: [UInt8]) throws(Iden3FormatError) -> [Fr] {
        let (_, sections) = try Iden3Reader.sections(bytes, magic: "wtns", versions: 1...2)
        guard let h = sections[1] else { throw .missingSection(1) }
        guard let d = sections[2] else { throw .missingSection(2) }
        var r = Iden3Reader(bytes, from: h.lowerBound, to: h.upperBound)
        try r.expectScalarField()
        let n = Int(try r.u32("the witness count"))
        guard d.count == 32 * n else { throw .invalid("witness section of \(d.count) bytes for \(n) values") }
        var v = Iden3Reader(bytes, from: d.lowerBound, to: d.upperBound)
        var z: [Fr] = []
        z.reserveCapacity(n)
        for i in 0..<n { z.append(try v.field("witness value \(i)")) }
        return z
    }
}
