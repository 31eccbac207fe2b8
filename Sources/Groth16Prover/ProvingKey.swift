import BN254
import Foundation
import Groth16

/// A Groth16 proving key for one R1CS (the iden3 variable layout), with its verifying key.
///
/// Query points are affine: `a`, `b1`, `b2` per variable; `l` per private variable (index
/// `publicCount + 1 …`); `h` per power τⁱ·Z(τ)/δ, i < domainSize − 1.
public struct ProvingKey: Sendable, Equatable {
    public var circuitID: String
    public var variableCount: Int
    public var publicCount: Int
    public var domainSize: Int
    public var alpha1: G1Affine
    public var beta1: G1Affine
    public var beta2: G2Affine
    public var delta1: G1Affine
    public var delta2: G2Affine
    public var a: [G1Affine]
    public var b1: [G1Affine]
    public var b2: [G2Affine]
    public var l: [G1Affine]
    public var h: [G1Affine]
    public var verifyingKey: VerifyingKey
    /// Keys from `DevelopmentSetup` say so: their toxic waste was one process's memory.
    public var development: Bool

    public static let developmentWarning = "development key: unsafe for real funds"
}

public enum ProvingKeyError: Error, CustomStringConvertible, Equatable {
    case notAProvingKey
    case unsupportedVersion(UInt16)
    case truncated(expected: Int, got: Int)
    case inconsistent(String)
    case io(String)

    public var description: String {
        switch self {
        case .notAProvingKey: return "not a ZKSettle proving key (bad magic)"
        case .unsupportedVersion(let v): return "proving key format version \(v) is not supported by this build (it reads version \(ProvingKey.formatVersion))"
        case .truncated(let e, let g): return "proving key file is truncated: \(g) bytes, expected \(e)"
        case .inconsistent(let s): return "proving key file is inconsistent: \(s)"
        case .io(let s): return "cannot read the proving key: \(s)"
        }
    }
}

/// The file format, version 1 (all integers little-endian):
///
///     "ZKSPK\0"  u16 version  u16 flags (bit 0: development key)
///     u16 len ‖ circuit id (UTF-8)
///     u64 variableCount  u64 publicCount  u64 domainSize
///     G1 alpha, beta, delta;  G2 beta, gamma, delta
///     G1 IC[publicCount + 1]
///     G1 a[variableCount]  G1 b1[variableCount]  G2 b2[variableCount]
///     G1 l[variableCount − publicCount − 1]  G1 h[domainSize − 1]
///
/// A G1 point is x ‖ y as 4+4 Montgomery limbs (64 bytes), a G2 point 128 bytes; the point at
/// infinity is all zeros. Loading copies limbs without arithmetic, so a 12k-constraint key
/// loads in milliseconds. The file is trusted local data (the prover's own key); a proof made
/// from a damaged key simply fails verification.
extension ProvingKey {
    public static let formatVersion: UInt16 = 1
    static let magic = Array("ZKSPK\0".utf8)

    public func serialized() -> [UInt8] {
        var w = Writer()
        w.bytes(Self.magic); w.u16(Self.formatVersion); w.u16(development ? 1 : 0)
        let id = Array(circuitID.utf8)
        w.u16(UInt16(id.count)); w.bytes(id)
        w.u64(variableCount); w.u64(publicCount); w.u64(domainSize)
        w.g1(alpha1); w.g1(beta1); w.g1(delta1)
        w.g2(verifyingKey.beta); w.g2(verifyingKey.gamma); w.g2(delta2)
        verifyingKey.ic.forEach { w.g1($0) }
        a.forEach { w.g1($0) }; b1.forEach { w.g1($0) }; b2.forEach { w.g2($0) }
        l.forEach { w.g1($0) }; h.forEach { w.g1($0) }
        return w.out
    }

    public func write(to url: URL) throws {
        try Data(serialized()).write(to: url, options: .atomic)
    }

    public static func load(from url: URL) throws(ProvingKeyError) -> ProvingKey {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch { throw .io("\(url.path): \(error.localizedDescription)") }
        return try ProvingKey(serialized: [UInt8](data))
    }

    public init(serialized bytes: [UInt8]) throws(ProvingKeyError) {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else { throw .notAProvingKey }
        r.offset = 6
        let version = try r.u16()
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let flags = try r.u16()
        let idLength = Int(try r.u16())
        guard let id = String(validating: try r.take(idLength), as: UTF8.self) else { throw .inconsistent("circuit id is not UTF-8") }
        let n = try r.u64(), pub = try r.u64(), domain = try r.u64()
        guard pub >= 0, n > pub, domain >= 2, domain & (domain - 1) == 0, n < 1 << 28, domain <= 1 << 28 else {
            throw .inconsistent("sizes: \(n) variables, \(pub) public, domain \(domain)")
        }
        let expected = r.offset + 64 * 3 + 128 * 3 + 64 * (pub + 1) + 64 * n * 2 + 128 * n + 64 * (n - pub - 1) + 64 * (domain - 1)
        guard bytes.count == expected else { throw .truncated(expected: expected, got: bytes.count) }
        let alpha1 = r.g1(), beta1 = r.g1(), delta1 = r.g1()
        let beta2 = r.g2(), gamma2 = r.g2(), delta2 = r.g2()
        let ic = (0...pub).map { _ in r.g1() }
        let a = (0..<n).map { _ in r.g1() }
        let b1 = (0..<n).map { _ in r.g1() }
        let b2 = (0..<n).map { _ in r.g2() }
        let l = (0..<(n - pub - 1)).map { _ in r.g1() }
        let h = (0..<(domain - 1)).map { _ in r.g1() }
        self.init(circuitID: id, variableCount: n, publicCount: pub, domainSize: domain, alpha1: alpha1, beta1: beta1, beta2: beta2,
                  delta1: delta1, delta2: delta2, a: a, b1: b1, b2: b2, l: l, h: h,
                  verifyingKey: VerifyingKey(alpha: alpha1, beta: beta2, gamma: gamma2, delta: delta2, ic: ic),
                  development: flags & 1 == 1)
    }
}

private struct Writer {
    var out: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { out += b }
    mutating func u16(_ v: UInt16) { out.append(UInt8(v & 0xff)); out.append(UInt8(v >> 8)) }
    mutating func u64(_ v: Int) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(v) >> (8 * UInt64(i)))) } }
    mutating func limbs(_ l: Limbs) { for i in 0..<4 { for j in 0..<8 { out.append(UInt8(truncatingIfNeeded: l[i] >> UInt(8 * j))) } } }
    mutating func g1(_ p: G1Affine) {
        if p.isInfinity { out += [UInt8](repeating: 0, count: 64); return }
        limbs(p.x.montgomery); limbs(p.y.montgomery)
    }
    mutating func g2(_ p: G2Affine) {
        if p.isInfinity { out += [UInt8](repeating: 0, count: 128); return }
        limbs(p.x.c0.montgomery); limbs(p.x.c1.montgomery); limbs(p.y.c0.montgomery); limbs(p.y.c1.montgomery)
    }
}

private struct Reader {
    let bytes: [UInt8]
    var offset = 0
    mutating func take(_ n: Int) throws(ProvingKeyError) -> ArraySlice<UInt8> {
        guard offset + n <= bytes.count else { throw .truncated(expected: offset + n, got: bytes.count) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func u16() throws(ProvingKeyError) -> UInt16 { let b = try take(2); return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8 }
    mutating func u64() throws(ProvingKeyError) -> Int {
        let b = try take(8)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        guard v < 1 << 40 else { throw .inconsistent("size \(v)") }
        return Int(v)
    }
    // Lengths were checked up front: the point readers cannot run past the end.
    mutating func limbs() -> Limbs {
        let o = offset
        offset += 32
        return bytes.withUnsafeBytes { raw in
            func limb(_ i: Int) -> UInt { UInt(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 8 * i, as: UInt64.self))) }
            return Limbs(limb(0), limb(1), limb(2), limb(3))
        }
    }
    mutating func g1() -> G1Affine {
        let x = limbs(), y = limbs()
        if x.isZero && y.isZero { return .infinity }
        return G1Affine(x: Fp(montgomery: x), y: Fp(montgomery: y))
    }
    mutating func g2() -> G2Affine {
        let x0 = limbs(), x1 = limbs(), y0 = limbs(), y1 = limbs()
        if x0.isZero && x1.isZero && y0.isZero && y1.isZero { return .infinity }
        return G2Affine(x: Fp2(Fp(montgomery: x0), Fp(montgomery: x1)), y: Fp2(Fp(montgomery: y0), Fp(montgomery: y1)))
    }
}
