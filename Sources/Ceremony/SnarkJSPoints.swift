import BN254
import R1CS

/// Points as snarkjs stores them in `.ptau` and `.zkey` files: affine, each coordinate 32 bytes
/// little-endian in **Montgomery form** (x·2²⁵⁶ mod p), G1 = x ‖ y (64 bytes), G2 = x.c0 ‖ x.c1
/// ‖ y.c0 ‖ y.c1 (128 bytes); the point at infinity is all zeros. That is this library's memory
/// form, so reading is a copy plus the checks.
///
/// Reading checks that every coordinate is below p and that the point is on its curve; G2
/// points are also checked to be in the order-r subgroup unless the caller batches that check.
public enum SnarkJSPoints {
    public static let g1Size = 64
    public static let g2Size = 128

    @inline(__always)
    static func fp(_ raw: UnsafeRawBufferPointer, _ at: Int) -> Fp? {
        @inline(__always) func limb(_ i: Int) -> UInt { UInt(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8 * i, as: UInt64.self))) }
        let l = Limbs(limb(0), limb(1), limb(2), limb(3))
        guard !(l >= FpParameters.modulus) else { return nil }
        return Fp(montgomery: l)
    }

    /// `count` G1 points from `bytes[offset...]`; `what(i)` names point i in errors.
    public static func g1s(_ bytes: [UInt8], at offset: Int, count: Int, what: (Int) -> String) throws(Iden3FormatError) -> [G1Affine] {
        guard count >= 0, offset >= 0, offset + count * g1Size <= bytes.count else { throw .truncated(what(0)) }
        let result: Result<[G1Affine], Iden3FormatError> = bytes.withUnsafeBytes { raw in
            var out: [G1Affine] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let at = offset + i * g1Size
                guard let x = fp(raw, at), let y = fp(raw, at + 32) else { return .failure(.invalid("\(what(i)): a coordinate is not below p")) }
                if x.isZero && y.isZero { out.append(.infinity); continue }
                let p = G1Affine(x: x, y: y)
                guard p.isOnCurve else { return .failure(.invalid("\(what(i)) is not on G1")) }
                out.append(p)
            }
            return .success(out)
        }
        return try result.get()
    }

    /// `count` G2 points; with `subgroupCheck` each is checked to be in G2 (on all cores).
    public static func g2s(_ bytes: [UInt8], at offset: Int, count: Int, subgroupCheck: Bool = true,
                           what: (Int) -> String) throws(Iden3FormatError) -> [G2Affine] {
        guard count >= 0, offset >= 0, offset + count * g2Size <= bytes.count else { throw .truncated(what(0)) }
        let result: Result<[G2Affine], Iden3FormatError> = bytes.withUnsafeBytes { raw in
            var out: [G2Affine] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let at = offset + i * g2Size
                guard let x0 = fp(raw, at), let x1 = fp(raw, at + 32), let y0 = fp(raw, at + 64), let y1 = fp(raw, at + 96) else {
                    return .failure(.invalid("\(what(i)): a coordinate is not below p"))
                }
                if x0.isZero && x1.isZero && y0.isZero && y1.isZero { out.append(.infinity); continue }
                let p = G2Affine(x: Fp2(x0, x1), y: Fp2(y0, y1))
                guard p.isOnCurve else { return .failure(.invalid("\(what(i)) is not on the twist")) }
                out.append(p)
            }
            return .success(out)
        }
        let points = try result.get()
        if subgroupCheck, let bad = firstOutsideSubgroup(points) { throw .invalid("\(what(bad)) is not in G2 (wrong subgroup)") }
        return points
    }

    /// The index of the first point not in the order-r subgroup, checked on all cores.
    public static func firstOutsideSubgroup(_ points: [G2Affine]) -> Int? {
        let parts = max(1, min(points.count, MSM.defaultParallelism))
        let bad: [Int] = parallelMap(parts) { part in
            let lo = points.count * part / parts, hi = points.count * (part + 1) / parts
            return (lo..<hi).first { !points[$0].isInSubgroup } ?? -1
        }
        return bad.first { $0 >= 0 }
    }

    public static func append(_ p: G1Affine, to w: inout Iden3Writer) {
        if p.isInfinity { w.append([UInt8](repeating: 0, count: g1Size)); return }
        w.limbs(p.x.montgomery); w.limbs(p.y.montgomery)
    }

    public static func append(_ p: G2Affine, to w: inout Iden3Writer) {
        if p.isInfinity { w.append([UInt8](repeating: 0, count: g2Size)); return }
        w.limbs(p.x.c0.montgomery); w.limbs(p.x.c1.montgomery); w.limbs(p.y.c0.montgomery); w.limbs(p.y.c1.montgomery)
    }
}
