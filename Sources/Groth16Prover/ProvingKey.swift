import BN254
import Foundation
import Groth16
import Primitives

/// A Groth16 proving key for one R1CS (the iden3 variable layout), with its verifying key.
///
/// Query points are affine: `a`, `b1`, `b2` per variable (u_k(τ), v_k(τ) times the
/// generators); `l` per private variable k > publicCount ((β·u_k + α·v_k + w_k)/δ); `h` per
/// power τⁱ·Z(τ)/δ for i < domainSize − 1 (`HQuery.powers`, a development setup's), or, in a
/// key from a snarkjs `.zkey` (a ceremony's), per odd point of the 2n domain
/// L²ⁿ₂ᵢ₊₁(τ)/δ for i < domainSize (`HQuery.oddCoset`). The IC points ((β·u_k + α·v_k + w_k)/γ,
/// k ≤ publicCount) are in `verifyingKey`.
public struct ProvingKey: Sendable, Equatable {
    /// Names the circuit (for the transfer circuit: the hex SHA-256 of its R1CS).
    public var circuitID: String
    public var variableCount: Int
    public var publicCount: Int
    public var constraintCount: Int
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
    /// What the H points are, and so how the prover computes their scalars.
    public var hQuery: HQuery = .powers

    /// The two forms of the H query. Both give Σ hᵢ·Hᵢ = (A·B − C)(τ)/δ for the prover's scalars.
    public enum HQuery: Sendable, Equatable {
        /// Hᵢ = τⁱ·Z(τ)/δ (i < n − 1): the scalars are the coefficients of h = (A·B − C)/Z.
        case powers
        /// Hᵢ = L²ⁿ₂ᵢ₊₁(τ)/δ (i < n), the Lagrange basis of the 2n domain at its odd points, as
        /// snarkjs writes section 9 of a `.zkey`: the scalars are (A·B − C) evaluated on the
        /// coset ω₂ₙ·H (A·B − C vanishes on H, so its values on the odd points determine it).
        case oddCoset

        /// The number of H points for a domain of `n`.
        public func count(domainSize n: Int) -> Int { self == .powers ? n - 1 : n }
    }

    public static let developmentWarning = "development key: unsafe for real funds"

    public init(circuitID: String, variableCount: Int, publicCount: Int, constraintCount: Int, domainSize: Int,
                alpha1: G1Affine, beta1: G1Affine, beta2: G2Affine, delta1: G1Affine, delta2: G2Affine,
                a: [G1Affine], b1: [G1Affine], b2: [G2Affine], l: [G1Affine], h: [G1Affine],
                verifyingKey: VerifyingKey, development: Bool, hQuery: HQuery = .powers) {
        self.circuitID = circuitID; self.variableCount = variableCount; self.publicCount = publicCount
        self.constraintCount = constraintCount; self.domainSize = domainSize
        self.alpha1 = alpha1; self.beta1 = beta1; self.beta2 = beta2; self.delta1 = delta1; self.delta2 = delta2
        self.a = a; self.b1 = b1; self.b2 = b2; self.l = l; self.h = h
        self.verifyingKey = verifyingKey; self.development = development; self.hQuery = hQuery
    }

    /// What the key says about itself: the development warning, or "" for a ceremony key.
    public var label: String { development ? Self.developmentWarning : "" }
}

public enum ProvingKeyError: Error, CustomStringConvertible, Equatable {
    case notAProvingKey
    case unsupportedVersion(UInt16)
    case truncated(expected: Int, got: Int)
    case inconsistent(String)
    /// The SHA-256 at the end of the file does not match its contents.
    case checksumMismatch
    /// A point that is not a reduced coordinate pair, not on its curve, or (G2) not in the subgroup.
    case badPoint(String)
    case io(String)

    public var description: String {
        switch self {
        case .notAProvingKey: return "not a ZKSettle proving key (bad magic)"
        case .unsupportedVersion(let v):
            return "proving key format version \(v) is not supported by this build (it reads version \(ProvingKey.formatVersion)): make the key again"
        case .truncated(let e, let g): return "proving key file is truncated: \(g) bytes, expected \(e)"
        case .inconsistent(let s): return "proving key file is inconsistent: \(s)"
        case .checksumMismatch: return "proving key file is corrupt: its SHA-256 checksum does not match"
        case .badPoint(let s): return "proving key file holds an invalid point: \(s)"
        case .io(let s): return "cannot read the proving key: \(s)"
        }
    }
}

/// The file format, version 2. All integers little-endian.
///
///     offset 0   "ZKSPK\0"                   magic (6 bytes)
///            6   u16 version = 2
///            8   u16 flags                   bit 0: development key; bit 1: H on the odd coset
///           10   u16 L ‖ circuit id          UTF-8, L bytes
///                u16 M ‖ label               UTF-8 ("development key: unsafe for real funds")
///                u64 variableCount, publicCount, constraintCount, domainSize
///                u64 counts of IC, a, b1, b2, l, h (implied by the sizes; checked)
///                G1 alpha, beta, delta;  G2 beta, gamma, delta
///                G1 IC[publicCount + 1]
///                G1 a[variableCount]  G1 b1[variableCount]  G2 b2[variableCount]
///                G1 l[variableCount − publicCount − 1]  G1 h[domainSize − 1, or domainSize with bit 1]
///                SHA-256 of all the bytes before it (32 bytes)
///
/// A G1 point is x ‖ y, each coordinate 4 little-endian 64-bit limbs of its **Montgomery form**
/// (x·2²⁵⁶ mod p), 64 bytes; a G2 point is x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, 128 bytes. The point at
/// infinity is all zeros ((0, 0) is on neither curve). Montgomery limbs are this library's
/// memory form, so loading is a checksum plus a copy: no field arithmetic (a 12k-variable key
/// of ~5 MB loads in a few milliseconds).
///
/// Loading always checks the magic, version, sizes (exact file length), the checksum, and that
/// every coordinate is reduced (< p, an invariant the field code relies on). `verifyPoints`
/// adds on-curve checks of every point and the G2 subgroup check (slow: ~0.1 ms per G2 point);
/// the file is the prover's own, and a damaged key could only yield proofs that fail.
extension ProvingKey {
    public static let formatVersion: UInt16 = 2
    static let magic = Array("ZKSPK\0".utf8)
    static let checksumLength = 32

    /// Upper bound on any size field: Fr's 2-adicity bounds the domain.
    static let maximumSize = 1 << 28

    public func serialized() -> [UInt8] {
        let id = Array(circuitID.utf8), label = Array(self.label.utf8)
        let icCount = verifyingKey.ic.count
        let g1Count = 3 + icCount + a.count + b1.count + l.count + h.count
        let g2Count = 3 + b2.count
        let total = Self.magic.count + 2 + 2 + 2 + id.count + 2 + label.count + 8 * 10 + 64 * g1Count + 128 * g2Count + Self.checksumLength
        var out = [UInt8](repeating: 0, count: total)
        out.withUnsafeMutableBytes { raw in
            var w = RawWriter(base: raw.baseAddress!)
            w.bytes(Self.magic); w.u16(Self.formatVersion); w.u16((development ? 1 : 0) | (hQuery == .oddCoset ? 2 : 0))
            w.u16(UInt16(id.count)); w.bytes(id)
            w.u16(UInt16(label.count)); w.bytes(label)
            for v in [variableCount, publicCount, constraintCount, domainSize,
                      icCount, a.count, b1.count, b2.count, l.count, h.count] { w.u64(v) }
            w.g1(alpha1); w.g1(beta1); w.g1(delta1)
            w.g2(verifyingKey.beta); w.g2(verifyingKey.gamma); w.g2(delta2)
            for p in verifyingKey.ic { w.g1(p) }
            for p in a { w.g1(p) }
            for p in b1 { w.g1(p) }
            for p in b2 { w.g2(p) }
            for p in l { w.g1(p) }
            for p in h { w.g1(p) }
            precondition(w.offset == total - Self.checksumLength)
        }
        let digest = Self.sha256(out, count: total - Self.checksumLength)
        out.replaceSubrange((total - Self.checksumLength)..<total, with: digest)
        return out
    }

    public func write(to url: URL) throws {
        try Data(serialized()).write(to: url, options: .atomic)
    }

    public static func load(from url: URL, verifyPoints: Bool = false) throws(ProvingKeyError) -> ProvingKey {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .io("\(url.path): \(error.localizedDescription)") }
        return try ProvingKey(serialized: [UInt8](data), verifyPoints: verifyPoints)
    }

    public init(serialized bytes: [UInt8], verifyPoints: Bool = false) throws(ProvingKeyError) {
        let parsed: Result<ProvingKey, ProvingKeyError> = bytes.withUnsafeBytes { raw in
            do throws(ProvingKeyError) {
                return .success(try Self.parse(raw, verifyPoints: verifyPoints))
            } catch {
                return .failure(error)
            }
        }
        self = try parsed.get()
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, verifyPoints: Bool) throws(ProvingKeyError) -> ProvingKey {
        var r = RawReader(raw: raw)
        guard raw.count >= magic.count, Array(raw[0..<magic.count]) == magic else { throw .notAProvingKey }
        r.offset = magic.count
        let version = try r.u16()
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        let flags = try r.u16()
        guard flags & ~3 == 0 else { throw .inconsistent("unknown flags \(flags)") }
        let hQuery: HQuery = flags & 2 == 2 ? .oddCoset : .powers
        guard let id = String(validating: try r.take(Int(try r.u16())), as: UTF8.self) else { throw .inconsistent("circuit id is not UTF-8") }
        guard let label = String(validating: try r.take(Int(try r.u16())), as: UTF8.self) else { throw .inconsistent("label is not UTF-8") }
        var sizes: [Int] = []
        for _ in 0..<10 {
            let v = try r.u64()
            guard v <= UInt64(maximumSize) else { throw .inconsistent("size field \(v) exceeds 2^28") }
            sizes.append(Int(v))
        }
        let (n, pub, m, domain) = (sizes[0], sizes[1], sizes[2], sizes[3])
        guard n > pub, domain >= 2, domain & (domain - 1) == 0, domain >= m + pub + 1 else {
            throw .inconsistent("sizes: \(n) variables, \(pub) public, \(m) constraints, domain \(domain)")
        }
        let counts = Array(sizes[4...])
        let expectedCounts = [pub + 1, n, n, n, n - pub - 1, hQuery.count(domainSize: domain)]
        guard counts == expectedCounts else { throw .inconsistent("point counts \(counts), expected \(expectedCounts) for these sizes") }
        guard (flags & 1 == 1) == (label == developmentWarning) else { throw .inconsistent("label \"\(label)\" disagrees with the flags") }
        let g1Count = 3 + counts[0] + counts[1] + counts[2] + counts[4] + counts[5]
        let g2Count = 3 + counts[3]
        let expected = r.offset + 64 * g1Count + 128 * g2Count + checksumLength
        guard raw.count >= expected else { throw .truncated(expected: expected, got: raw.count) }
        guard raw.count == expected else { throw .inconsistent("\(raw.count - expected) bytes after the checksum") }
        let stored = Array(raw[(expected - checksumLength)..<expected])
        guard sha256(raw, count: expected - checksumLength) == stored else { throw .checksumMismatch }

        let alpha1 = try r.g1("alpha1"), beta1 = try r.g1("beta1"), delta1 = try r.g1("delta1")
        let beta2 = try r.g2("beta2"), gamma2 = try r.g2("gamma2"), delta2 = try r.g2("delta2")
        let ic = try r.g1s(counts[0], "IC"), a = try r.g1s(counts[1], "a")
        let b1 = try r.g1s(counts[2], "b1"), b2 = try r.g2s(counts[3], "b2")
        let l = try r.g1s(counts[4], "l"), h = try r.g1s(counts[5], "h")
        let key = ProvingKey(circuitID: id, variableCount: n, publicCount: pub, constraintCount: m, domainSize: domain,
                             alpha1: alpha1, beta1: beta1, beta2: beta2, delta1: delta1, delta2: delta2,
                             a: a, b1: b1, b2: b2, l: l, h: h,
                             verifyingKey: VerifyingKey(alpha: alpha1, beta: beta2, gamma: gamma2, delta: delta2, ic: ic),
                             development: flags & 1 == 1, hQuery: hQuery)
        if verifyPoints { try key.verifyPoints() }
        return key
    }

    /// Every point on its curve, every G2 point in the order-r subgroup (G1 has cofactor 1).
    public func verifyPoints() throws(ProvingKeyError) {
        let g1: [(String, [G1Affine])] = [("alpha1", [alpha1]), ("beta1", [beta1]), ("delta1", [delta1]),
                                          ("IC", verifyingKey.ic), ("a", a), ("b1", b1), ("l", l), ("h", h)]
        for (name, points) in g1 {
            if let i = points.firstIndex(where: { !$0.isOnCurve }) { throw .badPoint("\(name)[\(i)] is not on G1") }
        }
        let g2: [(String, [G2Affine])] = [("beta2", [beta2]), ("gamma2", [verifyingKey.gamma]), ("delta2", [delta2]), ("b2", b2)]
        for (name, points) in g2 {
            let bad: [Int] = parallelMap(MSM.defaultParallelism) { part in
                let lo = points.count * part / MSM.defaultParallelism, hi = points.count * (part + 1) / MSM.defaultParallelism
                return (lo..<hi).first { !points[$0].isOnCurve || !points[$0].isInSubgroup } ?? -1
            }
            if let i = bad.first(where: { $0 >= 0 }) { throw .badPoint("\(name)[\(i)] is not in G2") }
        }
    }

    static func sha256(_ bytes: UnsafeRawBufferPointer, count: Int) -> [UInt8] {
        SHA256.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
    }

    static func sha256(_ bytes: [UInt8], count: Int) -> [UInt8] {
        bytes.withUnsafeBytes { sha256($0, count: count) }
    }
}

/// Writes into a buffer sized in advance.
private struct RawWriter {
    let base: UnsafeMutableRawPointer
    var offset = 0
    mutating func bytes(_ b: [UInt8]) {
        b.withUnsafeBytes { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        offset += b.count
    }
    mutating func u16(_ v: UInt16) { base.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt16.self); offset += 2 }
    mutating func u64(_ v: Int) { base.storeBytes(of: UInt64(v).littleEndian, toByteOffset: offset, as: UInt64.self); offset += 8 }
    mutating func limbs(_ l: Limbs) {
        for i in 0..<4 { base.storeBytes(of: UInt64(l[i]).littleEndian, toByteOffset: offset + 8 * i, as: UInt64.self) }
        offset += 32
    }
    mutating func g1(_ p: G1Affine) {
        if p.isInfinity { offset += 64; return }  // the buffer starts zeroed
        limbs(p.x.montgomery); limbs(p.y.montgomery)
    }
    mutating func g2(_ p: G2Affine) {
        if p.isInfinity { offset += 128; return }
        limbs(p.x.c0.montgomery); limbs(p.x.c1.montgomery); limbs(p.y.c0.montgomery); limbs(p.y.c1.montgomery)
    }
}

/// Reads a buffer whose total length has been checked before the points are read.
private struct RawReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0

    mutating func take(_ n: Int) throws(ProvingKeyError) -> UnsafeRawBufferPointer {
        guard offset + n <= raw.count else { throw .truncated(expected: offset + n, got: raw.count) }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])
    }
    mutating func u16() throws(ProvingKeyError) -> UInt16 {
        _ = try take(2)
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset - 2, as: UInt16.self))
    }
    mutating func u64() throws(ProvingKeyError) -> UInt64 {
        _ = try take(8)
        return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset - 8, as: UInt64.self))
    }

    /// One coordinate: Montgomery limbs, which must be reduced (< p).
    @inline(__always)
    mutating func fp(_ what: @autoclosure () -> String) throws(ProvingKeyError) -> Fp {
        @inline(__always) func limb(_ i: Int) -> UInt { UInt(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self))) }
        let l = Limbs(limb(0), limb(1), limb(2), limb(3))
        offset += 32
        guard !(l >= FpParameters.modulus) else { throw .badPoint("\(what()): coordinate not below p") }
        return Fp(montgomery: l)
    }

    mutating func g1(_ what: @autoclosure () -> String) throws(ProvingKeyError) -> G1Affine {
        let x = try fp(what()), y = try fp(what())
        if x.isZero && y.isZero { return .infinity }
        return G1Affine(x: x, y: y)
    }

    mutating func g2(_ what: @autoclosure () -> String) throws(ProvingKeyError) -> G2Affine {
        let x0 = try fp(what()), x1 = try fp(what()), y0 = try fp(what()), y1 = try fp(what())
        if x0.isZero && x1.isZero && y0.isZero && y1.isZero { return .infinity }
        return G2Affine(x: Fp2(x0, x1), y: Fp2(y0, y1))
    }

    mutating func g1s(_ count: Int, _ name: String) throws(ProvingKeyError) -> [G1Affine] {
        var out: [G1Affine] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(try g1("\(name)[\(i)]")) }
        return out
    }

    mutating func g2s(_ count: Int, _ name: String) throws(ProvingKeyError) -> [G2Affine] {
        var out: [G2Affine] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(try g2("\(name)[\(i)]")) }
        return out
    }
}
