import BN254
import Primitives
import R1CS

/// One participant's public key in a Powers-of-Tau contribution (snarkjs `keypair.js`): for
/// each secret x of τ, α, β, a random G1 point s, s·x, and x·H where H = hashToG2 of the
/// challenge, s and s·x (the proof of knowledge of x).
public struct PowersOfTauKeyPart: Sendable, Equatable {
    public var g1S: G1Affine
    public var g1SX: G1Affine
    public var g2SPX: G2Affine
    public init(g1S: G1Affine, g1SX: G1Affine, g2SPX: G2Affine) { self.g1S = g1S; self.g1SX = g1SX; self.g2SPX = g2SPX }
}

public struct PowersOfTauPublicKey: Sendable, Equatable {
    public var tau: PowersOfTauKeyPart
    public var alpha: PowersOfTauKeyPart
    public var beta: PowersOfTauKeyPart
    public init(tau: PowersOfTauKeyPart, alpha: PowersOfTauKeyPart, beta: PowersOfTauKeyPart) {
        self.tau = tau; self.alpha = alpha; self.beta = beta
    }
    /// The parts in snarkjs's personalization order (0 τ, 1 α, 2 β).
    public var parts: [PowersOfTauKeyPart] { [tau, alpha, beta] }
}

/// One record of section 7, exactly as snarkjs writes it.
public struct PowersOfTauContribution: Sendable, Equatable {
    public var tauG1: G1Affine
    public var tauG2: G2Affine
    public var alphaG1: G1Affine
    public var betaG1: G1Affine
    public var betaG2: G2Affine
    public var key: PowersOfTauPublicKey
    /// snarkjs's BLAKE2b state after the response's compressed points (216 bytes).
    public var partialHash: [UInt8]
    /// The challenge the next participant signs (64 bytes).
    public var nextChallenge: [UInt8]
    /// 0: a participant's randomness; 1: a beacon.
    public var type: UInt32
    /// The name's bytes as stored (UTF-8, at most 255).
    public var nameBytes: [UInt8]?
    public var numIterationsExp: UInt8?
    public var beaconHash: [UInt8]?

    public var name: String? { nameBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var isBeacon: Bool { type == 1 }

    /// The response hash ("contribution hash" snarkjs prints): the partial hash resumed over
    /// the public key in uncompressed form. Nil when the partial hash is malformed.
    public var responseHash: [UInt8]? {
        guard var h = BLAKE2b(partialState: partialHash) else { return nil }
        h.update(PowersOfTauEncoding.uncompressedKey(key))
        return h.finalize()
    }

    public init(tauG1: G1Affine, tauG2: G2Affine, alphaG1: G1Affine, betaG1: G1Affine, betaG2: G2Affine,
                key: PowersOfTauPublicKey, partialHash: [UInt8], nextChallenge: [UInt8], type: UInt32,
                nameBytes: [UInt8]? = nil, numIterationsExp: UInt8? = nil, beaconHash: [UInt8]? = nil) {
        self.tauG1 = tauG1; self.tauG2 = tauG2; self.alphaG1 = alphaG1; self.betaG1 = betaG1; self.betaG2 = betaG2
        self.key = key; self.partialHash = partialHash; self.nextChallenge = nextChallenge; self.type = type
        self.nameBytes = nameBytes; self.numIterationsExp = numIterationsExp; self.beaconHash = beaconHash
    }
}

/// The prepared-phase-2 sections 12–15: at each level k the 2^k Lagrange-basis points
/// L_j(τ) (over the 2^k-th roots of unity), levels concatenated from k = 0 (so level k starts
/// at index 2^k − 1). τG1 has levels 0…power+1, the others 0…power.
public struct PowersOfTauLagrange: Sendable, Equatable {
    public var tauG1: [G1Affine]
    public var tauG2: [G2Affine]
    public var alphaTauG1: [G1Affine]
    public var betaTauG1: [G1Affine]
    public init(tauG1: [G1Affine], tauG2: [G2Affine], alphaTauG1: [G1Affine], betaTauG1: [G1Affine]) {
        self.tauG1 = tauG1; self.tauG2 = tauG2; self.alphaTauG1 = alphaTauG1; self.betaTauG1 = betaTauG1
    }
}

/// A snarkjs `.ptau` file (phase 1 of a Groth16 ceremony): the powers τ^i in G1 (2^(p+1) − 1
/// of them) and G2 (2^p), α·τ^i and β·τ^i in G1 (2^p each), β in G2, the transcript of
/// contributions and, once prepared, the Lagrange sections.
public struct PowersOfTau: Sendable, Equatable {
    public var power: Int
    public var ceremonyPower: Int
    public var tauG1: [G1Affine]
    public var tauG2: [G2Affine]
    public var alphaTauG1: [G1Affine]
    public var betaTauG1: [G1Affine]
    public var betaG2: G2Affine
    public var contributions: [PowersOfTauContribution]
    public var lagrange: PowersOfTauLagrange?

    /// Powers above 28 exceed the scalar field's 2-adicity (snarkjs's limit too).
    public static let maximumPower = 28

    public init(power: Int, ceremonyPower: Int, tauG1: [G1Affine], tauG2: [G2Affine], alphaTauG1: [G1Affine],
                betaTauG1: [G1Affine], betaG2: G2Affine, contributions: [PowersOfTauContribution],
                lagrange: PowersOfTauLagrange? = nil) {
        self.power = power; self.ceremonyPower = ceremonyPower; self.tauG1 = tauG1; self.tauG2 = tauG2
        self.alphaTauG1 = alphaTauG1; self.betaTauG1 = betaTauG1; self.betaG2 = betaG2
        self.contributions = contributions; self.lagrange = lagrange
    }

    public static func tauG1Count(power: Int) -> Int { (1 << (power + 1)) - 1 }

    // MARK: Reading

    /// Reads and checks a `.ptau` file: layout and sizes, every coordinate below p, every
    /// point on its curve and (G2) in the order-r subgroup (G1 has cofactor 1). Errors name the
    /// section, point or contribution that is wrong.
    public static func read(_ bytes: [UInt8]) throws(Iden3FormatError) -> PowersOfTau {
        let (_, sections) = try Iden3Reader.sections(bytes, magic: "ptau", versions: 1...1)
        guard let header = sections[1] else { throw .invalid("the header (section 1) is missing") }
        var r = Iden3Reader(bytes, from: header.lowerBound, to: header.upperBound)
        let n8 = try r.u32("the header")
        guard n8 == 32 else { throw .unsupportedField("field size \(n8) bytes, expected 32 (BN254)") }
        let q = try r.limbs("the header's prime")
        guard q == FpParameters.modulus else { throw .unsupportedField("the curve's prime is \(q.decimalString), not BN254's") }
        let power = Int(try r.u32("the header"))
        let ceremonyPower = Int(try r.u32("the header"))
        guard r.remaining == 0 else { throw .invalid("the header (section 1) has \(r.remaining) extra bytes") }
        guard (1...maximumPower).contains(power) else { throw .invalid("power \(power) is outside 1…\(maximumPower)") }
        guard (power...maximumPower).contains(ceremonyPower) else {
            throw .invalid("the ceremony power \(ceremonyPower) is below the power \(power) or above \(maximumPower)")
        }
        let n = 1 << power

        func section(_ type: UInt32, _ name: String, points: Int, size: Int) throws(Iden3FormatError) -> Int {
            guard let range = sections[type] else { throw .invalid("section \(type) (\(name)) is missing") }
            guard range.count == points * size else {
                throw .invalid("section \(type) (\(name)) has \(range.count) bytes, expected \(points) points (\(points * size) bytes) for power \(power)")
            }
            return range.lowerBound
        }
        let tauG1 = try SnarkJSPoints.g1s(bytes, at: try section(2, "tauG1", points: tauG1Count(power: power), size: 64),
                                          count: tauG1Count(power: power)) { "tauG1 point \($0) (section 2)" }
        let tauG2 = try SnarkJSPoints.g2s(bytes, at: try section(3, "tauG2", points: n, size: 128), count: n) { "tauG2 point \($0) (section 3)" }
        let alpha = try SnarkJSPoints.g1s(bytes, at: try section(4, "alphaTauG1", points: n, size: 64), count: n) { "alphaTauG1 point \($0) (section 4)" }
        let beta = try SnarkJSPoints.g1s(bytes, at: try section(5, "betaTauG1", points: n, size: 64), count: n) { "betaTauG1 point \($0) (section 5)" }
        let betaG2 = try SnarkJSPoints.g2s(bytes, at: try section(6, "betaG2", points: 1, size: 128), count: 1) { _ in "betaG2 (section 6)" }[0]

        guard let contribRange = sections[7] else { throw .invalid("section 7 (contributions) is missing") }
        let contributions = try readContributions(bytes, contribRange)

        var lagrange: PowersOfTauLagrange?
        let present = (12...15).filter { sections[UInt32($0)] != nil }
        if !present.isEmpty {
            guard present.count == 4 else { throw .invalid("the phase-2 sections are incomplete: only \(present.map(String.init).joined(separator: ", ")) of 12–15") }
            let g1Levels = (1 << (power + 2)) - 1, otherLevels = (1 << (power + 1)) - 1
            lagrange = PowersOfTauLagrange(
                tauG1: try SnarkJSPoints.g1s(bytes, at: try section(12, "Lagrange tauG1", points: g1Levels, size: 64), count: g1Levels) { "Lagrange tauG1 point \($0) (section 12)" },
                tauG2: try SnarkJSPoints.g2s(bytes, at: try section(13, "Lagrange tauG2", points: otherLevels, size: 128), count: otherLevels) { "Lagrange tauG2 point \($0) (section 13)" },
                alphaTauG1: try SnarkJSPoints.g1s(bytes, at: try section(14, "Lagrange alphaTauG1", points: otherLevels, size: 64), count: otherLevels) { "Lagrange alphaTauG1 point \($0) (section 14)" },
                betaTauG1: try SnarkJSPoints.g1s(bytes, at: try section(15, "Lagrange betaTauG1", points: otherLevels, size: 64), count: otherLevels) { "Lagrange betaTauG1 point \($0) (section 15)" })
        }
        let unknown = sections.keys.filter { !(1...7).contains($0) && !(12...15).contains($0) }.sorted()
        guard unknown.isEmpty else { throw .invalid("unknown section \(unknown[0]) in a .ptau file") }
        return PowersOfTau(power: power, ceremonyPower: ceremonyPower, tauG1: tauG1, tauG2: tauG2, alphaTauG1: alpha,
                           betaTauG1: beta, betaG2: betaG2, contributions: contributions, lagrange: lagrange)
    }

    static func readContributions(_ bytes: [UInt8], _ range: Range<Int>) throws(Iden3FormatError) -> [PowersOfTauContribution] {
        var r = Iden3Reader(bytes, from: range.lowerBound, to: range.upperBound)
        let count = Int(try r.u32("the contribution count"))
        // The smallest record is 1,504 bytes: a count beyond the section cannot be honest.
        guard count <= r.remaining / 1504 else { throw .invalid("section 7 claims \(count) contributions, more than its \(range.count) bytes can hold") }
        var out: [PowersOfTauContribution] = []
        for i in 0..<count {
            let what = "contribution #\(i + 1)"
            func g1(_ field: String) throws(Iden3FormatError) -> G1Affine {
                let at = try r.take(64, "\(what) (\(field))").lowerBound
                let p = try SnarkJSPoints.g1s(bytes, at: at, count: 1) { _ in "\(what): \(field)" }[0]
                return p
            }
            func g2(_ field: String) throws(Iden3FormatError) -> G2Affine {
                let at = try r.take(128, "\(what) (\(field))").lowerBound
                return try SnarkJSPoints.g2s(bytes, at: at, count: 1) { _ in "\(what): \(field)" }[0]
            }
            let tauG1 = try g1("tauG1"), tauG2 = try g2("tauG2"), alphaG1 = try g1("alphaG1"), betaG1 = try g1("betaG1"), betaG2 = try g2("betaG2")
            let t1 = try g1("key tau g1_s"), t2 = try g1("key tau g1_sx")
            let a1 = try g1("key alpha g1_s"), a2 = try g1("key alpha g1_sx")
            let b1 = try g1("key beta g1_s"), b2 = try g1("key beta g1_sx")
            let t3 = try g2("key tau g2_spx"), a3 = try g2("key alpha g2_spx"), b3 = try g2("key beta g2_spx")
            let key = PowersOfTauPublicKey(tau: .init(g1S: t1, g1SX: t2, g2SPX: t3), alpha: .init(g1S: a1, g1SX: a2, g2SPX: a3),
                                           beta: .init(g1S: b1, g1SX: b2, g2SPX: b3))
            let partial = Array(bytes[try r.take(216, "\(what) (partial hash)")])
            let next = Array(bytes[try r.take(64, "\(what) (next challenge)")])
            let type = try r.u32("\(what) (type)")
            guard type <= 1 else { throw .invalid("\(what): unknown type \(type) (0 contribution, 1 beacon)") }
            let paramLength = Int(try r.u32("\(what) (parameters length)"))
            let params = try r.take(paramLength, "\(what) (parameters)")
            var p = params.lowerBound
            var last = 0
            var name: [UInt8]?, exp: UInt8?, beaconHash: [UInt8]?
            func byte() throws(Iden3FormatError) -> UInt8 {
                guard p < params.upperBound else { throw .truncated("\(what)'s parameters") }
                defer { p += 1 }
                return bytes[p]
            }
            func run(_ n: Int) throws(Iden3FormatError) -> [UInt8] {
                guard params.upperBound - p >= n else { throw .truncated("\(what)'s parameters") }
                defer { p += n }
                return Array(bytes[p..<(p + n)])
            }
            while p < params.upperBound {
                let t = Int(try byte())
                guard t > last else { throw .invalid("\(what): parameters are not sorted (snarkjs requires it)") }
                last = t
                switch t {
                case 1: name = try run(Int(try byte()))
                case 2: exp = try byte()
                case 3: beaconHash = try run(Int(try byte()))
                default: throw .invalid("\(what): unknown parameter \(t)")
                }
            }
            if type == 1 {
                guard let e = exp, let h = beaconHash else { throw .invalid("\(what) is a beacon without its hash and iteration count") }
                // snarkjs makes beacons with 10…63; other tools' smaller exponents still verify.
                guard !h.isEmpty, e <= 63 else { throw .invalid("\(what): beacon iteration exponent \(e) above 63 or empty beacon hash") }
            } else if exp != nil || beaconHash != nil {
                throw .invalid("\(what) carries beacon parameters but is not a beacon")
            }
            out.append(PowersOfTauContribution(tauG1: tauG1, tauG2: tauG2, alphaG1: alphaG1, betaG1: betaG1, betaG2: betaG2, key: key,
                                               partialHash: partial, nextChallenge: next, type: type, nameBytes: name,
                                               numIterationsExp: exp, beaconHash: beaconHash))
        }
        guard r.remaining == 0 else { throw .invalid("section 7 has \(r.remaining) bytes after its \(count) contributions") }
        return out
    }

    // MARK: Writing

    /// The file in snarkjs's layout: sections 1–7 in order, then 12–15 when prepared.
    public func serialized() -> [UInt8] {
        let n = 1 << power
        let lagrangeSize = lagrange.map { ($0.tauG1.count + $0.alphaTauG1.count + $0.betaTauG1.count) * 64 + $0.tauG2.count * 128 } ?? 0
        let capacity = 64 + (tauG1.count + 2 * n) * 64 + (n + 1) * 128 + contributions.count * 1700 + lagrangeSize
        var w = Iden3Writer(magic: "ptau", version: 1, sections: lagrange == nil ? 7 : 11, capacity: capacity)
        w.section(1) { w in
            w.u32(32); w.limbs(FpParameters.modulus); w.u32(UInt32(power)); w.u32(UInt32(ceremonyPower))
        }
        w.section(2) { w in for p in tauG1 { SnarkJSPoints.append(p, to: &w) } }
        w.section(3) { w in for p in tauG2 { SnarkJSPoints.append(p, to: &w) } }
        w.section(4) { w in for p in alphaTauG1 { SnarkJSPoints.append(p, to: &w) } }
        w.section(5) { w in for p in betaTauG1 { SnarkJSPoints.append(p, to: &w) } }
        w.section(6) { w in SnarkJSPoints.append(betaG2, to: &w) }
        w.section(7) { w in
            w.u32(UInt32(contributions.count))
            for c in contributions { Self.append(c, to: &w) }
        }
        if let l = lagrange {
            w.section(12) { w in for p in l.tauG1 { SnarkJSPoints.append(p, to: &w) } }
            w.section(13) { w in for p in l.tauG2 { SnarkJSPoints.append(p, to: &w) } }
            w.section(14) { w in for p in l.alphaTauG1 { SnarkJSPoints.append(p, to: &w) } }
            w.section(15) { w in for p in l.betaTauG1 { SnarkJSPoints.append(p, to: &w) } }
        }
        return w.bytes
    }

    static func append(_ c: PowersOfTauContribution, to w: inout Iden3Writer) {
        SnarkJSPoints.append(c.tauG1, to: &w); SnarkJSPoints.append(c.tauG2, to: &w)
        SnarkJSPoints.append(c.alphaG1, to: &w); SnarkJSPoints.append(c.betaG1, to: &w); SnarkJSPoints.append(c.betaG2, to: &w)
        for part in c.key.parts { SnarkJSPoints.append(part.g1S, to: &w); SnarkJSPoints.append(part.g1SX, to: &w) }
        for part in c.key.parts { SnarkJSPoints.append(part.g2SPX, to: &w) }
        w.append(c.partialHash)
        w.append(c.nextChallenge)
        w.u32(c.type)
        var params: [UInt8] = []
        if let name = c.nameBytes, !name.isEmpty {
            params.append(1); params.append(UInt8(min(name.count, 255))); params.append(contentsOf: name.prefix(255))
        }
        if c.type == 1, let e = c.numIterationsExp, let h = c.beaconHash {
            params.append(2); params.append(e)
            params.append(3); params.append(UInt8(min(h.count, 255))); params.append(contentsOf: h.prefix(255))
        }
        w.u32(UInt32(params.count))
        w.append(params)
    }
}

/// The encodings snarkjs hashes: "uncompressed" (x ‖ y, each big-endian and plain; for G2 a
/// coordinate is c1 ‖ c0) and "compressed" (x only, with 0x80 set when y is "negative" and
/// 0x40 for the point at infinity).
public enum PowersOfTauEncoding {
    @inline(__always) static func be(_ x: Fp, into out: inout [UInt8]) {
        let l = x.canonical
        for limb in [l.v.3, l.v.2, l.v.1, l.v.0] {
            for k in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: limb >> UInt(k))) }
        }
    }

    public static func uncompressed(_ p: G1Affine, into out: inout [UInt8]) {
        if p.isInfinity { out.append(contentsOf: [UInt8](repeating: 0, count: 64)); return }
        be(p.x, into: &out); be(p.y, into: &out)
    }

    public static func uncompressed(_ p: G2Affine, into out: inout [UInt8]) {
        if p.isInfinity { out.append(contentsOf: [UInt8](repeating: 0, count: 128)); return }
        be(p.x.c1, into: &out); be(p.x.c0, into: &out); be(p.y.c1, into: &out); be(p.y.c0, into: &out)
    }

    public static func compressed(_ p: G1Affine, into out: inout [UInt8]) {
        let start = out.count
        if p.isInfinity { out.append(contentsOf: [UInt8](repeating: 0, count: 32)); out[start] = 0x40; return }
        be(p.x, into: &out)
        if SnarkJSSign.isNegative(p.y) { out[start] |= 0x80 }
    }

    public static func compressed(_ p: G2Affine, into out: inout [UInt8]) {
        let start = out.count
        if p.isInfinity { out.append(contentsOf: [UInt8](repeating: 0, count: 64)); out[start] = 0x40; return }
        be(p.x.c1, into: &out); be(p.x.c0, into: &out)
        if SnarkJSSign.isNegative(p.y) { out[start] |= 0x80 }
    }

    public static func uncompressed(_ p: G1Affine) -> [UInt8] { var o: [UInt8] = []; uncompressed(p, into: &o); return o }
    public static func uncompressed(_ p: G2Affine) -> [UInt8] { var o: [UInt8] = []; uncompressed(p, into: &o); return o }

    /// The public key as the response hash covers it: six G1 then three G2, uncompressed.
    public static func uncompressedKey(_ k: PowersOfTauPublicKey) -> [UInt8] {
        var o: [UInt8] = []
        o.reserveCapacity(6 * 64 + 3 * 128)
        for part in k.parts { uncompressed(part.g1S, into: &o); uncompressed(part.g1SX, into: &o) }
        for part in k.parts { uncompressed(part.g2SPX, into: &o) }
        return o
    }

    /// Many points' encodings, computed on all cores in chunks, in order.
    static func encodeAll<P: Sendable>(_ points: [P], size: Int, _ encode: @escaping @Sendable (P, inout [UInt8]) -> Void) -> [UInt8] {
        let parts = max(1, min(points.count / 1024 + 1, 4 * MSM.defaultParallelism))
        let chunks: [[UInt8]] = parallelMap(parts) { part in
            let lo = points.count * part / parts, hi = points.count * (part + 1) / parts
            var o: [UInt8] = []
            o.reserveCapacity((hi - lo) * size)
            for i in lo..<hi { encode(points[i], &o) }
            return o
        }
        var out: [UInt8] = []
        out.reserveCapacity(points.count * size)
        for c in chunks { out.append(contentsOf: c) }
        return out
    }
}
