import BN254
import Groth16
import Groth16Prover
import R1CS

/// A snarkjs Groth16 proving key (`.zkey`, version 1), the file of phase 2 of a ceremony.
///
/// Sections, found by the table (snarkjs writes them in different orders):
///
///     1  protocol: u32 1 (Groth16)
///     2  header: u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize,
///        G1 α, G1 β, G2 β, G2 γ, G1 δ, G2 δ
///     3  IC: nPublic + 1 G1 points, ((β·u_k + α·v_k + w_k)/γ)·G₁
///     4  coefficients: u32 count, then (u32 matrix 0 = A or 1 = B, u32 row, u32 signal,
///        32-byte value·R² mod r): the A rows (with the input rows m + k, A = z_k) and B rows
///     5  A: nVars G1 points u_k(τ)·G₁;   6  B1: v_k(τ)·G₁;   7  B2: nVars G2 points v_k(τ)·G₂
///     8  C: the private variables' ((β·u_k + α·v_k + w_k)/δ)·G₁ (nVars − nPublic − 1)
///     9  H: domainSize G1 points L²ⁿ₂ᵢ₊₁(τ)/δ·G₁, the 2n domain's Lagrange basis at its odd points
///    10  contributions: 64-byte circuit hash (BLAKE2b-512), u32 count, then per contribution
///        G1 δ after, G1 s, G1 s·x, G2 sp·x, 64-byte transcript, u32 type (0 contribution,
///        1 beacon), u32 parameter length and the parameters (1: name, 2: iteration exponent,
///        3: beacon hash), each as a type byte and a length-prefixed value
///
/// Points are in snarkjs's Montgomery layout (`SnarkJSPoints`). Reading checks every point on
/// its curve and every G2 point in its subgroup; sizes against the file; coefficients in range.
public struct ZKey: Sendable, Equatable {
    public struct Coefficient: Sendable, Equatable {
        /// 0 for A, 1 for B (the C matrix is not needed: c = a·b on every row).
        public var matrix: UInt32
        public var row: UInt32
        public var signal: UInt32
        public var value: Fr
        public init(matrix: UInt32, row: UInt32, signal: UInt32, value: Fr) {
            self.matrix = matrix; self.row = row; self.signal = signal; self.value = value
        }
    }

    /// One phase-2 contribution: it multiplied δ by its secret d (δ after = d·δ before) and
    /// proves it knew d: e(s, sp·x) = e(s·x, sp) with sp = hashToG2(transcript).
    public struct Contribution: Sendable, Equatable {
        public var deltaAfter: G1Affine
        public var g1S: G1Affine
        public var g1SX: G1Affine
        public var g2SPX: G2Affine
        /// BLAKE2b-512 of the circuit hash, every earlier contribution's public key, s and s·x.
        public var transcript: [UInt8]
        /// 0 a contribution, 1 a beacon.
        public var type: UInt32
        public var name: String?
        public var iterationsExponent: UInt8?
        public var beaconHash: [UInt8]?

        public init(deltaAfter: G1Affine, g1S: G1Affine, g1SX: G1Affine, g2SPX: G2Affine, transcript: [UInt8], type: UInt32,
                    name: String? = nil, iterationsExponent: UInt8? = nil, beaconHash: [UInt8]? = nil) {
            self.deltaAfter = deltaAfter; self.g1S = g1S; self.g1SX = g1SX; self.g2SPX = g2SPX; self.transcript = transcript
            self.type = type; self.name = name; self.iterationsExponent = iterationsExponent; self.beaconHash = beaconHash
        }
    }

    public var variableCount: Int
    public var publicCount: Int
    public var domainSize: Int
    public var alpha1: G1Affine
    public var beta1: G1Affine
    public var beta2: G2Affine
    public var gamma2: G2Affine
    public var delta1: G1Affine
    public var delta2: G2Affine
    public var ic: [G1Affine]
    public var coefficients: [Coefficient]
    public var a: [G1Affine]
    public var b1: [G1Affine]
    public var b2: [G2Affine]
    /// The private variables' points (snarkjs's section 8, "C").
    public var c: [G1Affine]
    public var h: [G1Affine]
    /// The circuit hash of `zkey new` (64 bytes), empty when the file has no section 10.
    public var circuitHash: [UInt8]
    public var contributions: [Contribution]
    /// The order the sections were (or will be) written in: snarkjs's `zkey new` order by
    /// default, the file's own when read, so a key read and written again is byte-identical.
    public var sectionOrder: [UInt32] = ZKey.newKeyOrder

    public static let newKeyOrder: [UInt32] = [1, 2, 4, 3, 9, 8, 5, 6, 7, 10]
    public static let contributedOrder: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

    public var verifyingKey: VerifyingKey { VerifyingKey(alpha: alpha1, beta: beta2, gamma: gamma2, delta: delta2, ic: ic) }

    /// The number of R1CS constraints m: the constant's input row is row m (A = z₀ there),
    /// the last row of A that names signal 0.
    public var constraintCount: Int {
        Int(coefficients.lazy.filter { $0.matrix == 0 && $0.signal == 0 }.map(\.row).max() ?? 0)
    }

    public init(variableCount: Int, publicCount: Int, domainSize: Int, alpha1: G1Affine, beta1: G1Affine, beta2: G2Affine,
                gamma2: G2Affine, delta1: G1Affine, delta2: G2Affine, ic: [G1Affine], coefficients: [Coefficient],
                a: [G1Affine], b1: [G1Affine], b2: [G2Affine], c: [G1Affine], h: [G1Affine],
                circuitHash: [UInt8], contributions: [Contribution], sectionOrder: [UInt32] = ZKey.newKeyOrder) {
        self.variableCount = variableCount; self.publicCount = publicCount; self.domainSize = domainSize
        self.alpha1 = alpha1; self.beta1 = beta1; self.beta2 = beta2; self.gamma2 = gamma2; self.delta1 = delta1; self.delta2 = delta2
        self.ic = ic; self.coefficients = coefficients; self.a = a; self.b1 = b1; self.b2 = b2; self.c = c; self.h = h
        self.circuitHash = circuitHash; self.contributions = contributions; self.sectionOrder = sectionOrder
    }
}

// MARK: - Reading

extension ZKey {
    /// Upper bound on the sizes a file may declare (Fr's 2-adicity bounds the domain).
    static let maximumSize = 1 << 28

    public init(bytes: [UInt8]) throws(Iden3FormatError) {
        let (_, sections) = try Iden3Reader.sections(bytes, magic: "zkey", versions: 1...1)
        func section(_ t: UInt32) throws(Iden3FormatError) -> Range<Int> {
            guard let s = sections[t] else { throw .missingSection(t) }
            return s
        }
        var p = Iden3Reader(bytes, from: try section(1).lowerBound, to: try section(1).upperBound)
        let protocolID = try p.u32("the protocol")
        guard protocolID == 1 else { throw .invalid("protocol \(protocolID) is not Groth16 (1): this reads Groth16 keys only") }

        let hs = try section(2)
        var r = Iden3Reader(bytes, from: hs.lowerBound, to: hs.upperBound)
        let n8q = try r.u32("n8q")
        guard n8q == 32, try r.limbs("q") == FpParameters.modulus else { throw .unsupportedField("the base field is not BN254's") }
        try r.expectScalarField()
        let nVars = Int(try r.u32("nVars")), nPublic = Int(try r.u32("nPublic")), domainSize = Int(try r.u32("domainSize"))
        guard nVars >= 1, nVars <= Self.maximumSize, nPublic < nVars else { throw .invalid("header: \(nVars) variables, \(nPublic) public") }
        guard domainSize >= 2, domainSize <= Self.maximumSize, domainSize & (domainSize - 1) == 0, domainSize >= nPublic + 1 else {
            throw .invalid("header: domain size \(domainSize) is not a power of two that fits the inputs")
        }
        guard r.remaining == 3 * SnarkJSPoints.g1Size + 3 * SnarkJSPoints.g2Size else { throw .invalid("header section of \(hs.count) bytes") }
        let o = r.offset, g1 = SnarkJSPoints.g1Size, g2 = SnarkJSPoints.g2Size
        let alpha1 = try SnarkJSPoints.g1s(bytes, at: o, count: 1) { _ in "alpha_1" }[0]
        let beta1 = try SnarkJSPoints.g1s(bytes, at: o + g1, count: 1) { _ in "beta_1" }[0]
        let beta2 = try SnarkJSPoints.g2s(bytes, at: o + 2 * g1, count: 1) { _ in "beta_2" }[0]
        let gamma2 = try SnarkJSPoints.g2s(bytes, at: o + 2 * g1 + g2, count: 1) { _ in "gamma_2" }[0]
        let delta1 = try SnarkJSPoints.g1s(bytes, at: o + 2 * g1 + 2 * g2, count: 1) { _ in "delta_1" }[0]
        let delta2 = try SnarkJSPoints.g2s(bytes, at: o + 3 * g1 + 2 * g2, count: 1) { _ in "delta_2" }[0]
        for (name, isZero) in [("alpha_1", alpha1.isInfinity), ("beta_1", beta1.isInfinity), ("beta_2", beta2.isInfinity),
                               ("gamma_2", gamma2.isInfinity), ("delta_1", delta1.isInfinity), ("delta_2", delta2.isInfinity)] where isZero {
            throw .invalid("\(name) is the point at infinity")
        }

        func g1Section(_ t: UInt32, _ count: Int, _ name: String) throws(Iden3FormatError) -> [G1Affine] {
            let s = try section(t)
            guard s.count == count * g1 else { throw .invalid("section \(t) (\(name)) has \(s.count) bytes, expected \(count * g1)") }
            return try SnarkJSPoints.g1s(bytes, at: s.lowerBound, count: count) { "\(name)[\($0)]" }
        }
        let ic = try g1Section(3, nPublic + 1, "IC")
        let a = try g1Section(5, nVars, "A")
        let b1 = try g1Section(6, nVars, "B1")
        let s7 = try section(7)
        guard s7.count == nVars * g2 else { throw .invalid("section 7 (B2) has \(s7.count) bytes, expected \(nVars * g2)") }
        let b2 = try SnarkJSPoints.g2s(bytes, at: s7.lowerBound, count: nVars) { "B2[\($0)]" }
        let c = try g1Section(8, nVars - nPublic - 1, "C")
        let h = try g1Section(9, domainSize, "H")
        let coefficients = try Self.readCoefficients(bytes, try section(4), variables: nVars, domainSize: domainSize)

        var circuitHash: [UInt8] = [], contributions: [Contribution] = []
        if let s10 = sections[10] {
            (circuitHash, contributions) = try Self.readContributions(bytes, s10)
        }
        let order = Self.fileOrder(bytes)
        self.init(variableCount: nVars, publicCount: nPublic, domainSize: domainSize, alpha1: alpha1, beta1: beta1, beta2: beta2,
                  gamma2: gamma2, delta1: delta1, delta2: delta2, ic: ic, coefficients: coefficients, a: a, b1: b1, b2: b2, c: c, h: h,
                  circuitHash: circuitHash, contributions: contributions, sectionOrder: order)
    }

    static func readCoefficients(_ bytes: [UInt8], _ s: Range<Int>, variables: Int, domainSize: Int) throws(Iden3FormatError) -> [Coefficient] {
        var r = Iden3Reader(bytes, from: s.lowerBound, to: s.upperBound)
        let count = Int(try r.u32("the coefficient count"))
        guard r.remaining == count * 44 else { throw .invalid("section 4 holds \(r.remaining) bytes for \(count) coefficients of 44") }
        var out: [Coefficient] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let m = try r.u32("coefficient \(i)"), row = try r.u32("coefficient \(i)"), signal = try r.u32("coefficient \(i)")
            let stored = try r.limbs("coefficient \(i)")
            guard m <= 1 else { throw .invalid("coefficient \(i): matrix \(m) (only 0 = A and 1 = B)") }
            guard Int(row) < domainSize else { throw .invalid("coefficient \(i): row \(row) outside the domain of \(domainSize)") }
            guard Int(signal) < variables else { throw .invalid("coefficient \(i): signal \(signal) of \(variables)") }
            guard !(stored >= FrParameters.modulus) else { throw .invalid("coefficient \(i): value not below r") }
            out.append(Coefficient(matrix: m, row: row, signal: signal, value: Fr(montgomery: stored) * rInverse))
        }
        return out
    }

    /// Section 4 stores value·R² mod r (R = 2²⁵⁶): read as Montgomery limbs that is value·R,
    /// and R⁻¹ is the element whose Montgomery limbs are 1.
    static let rInverse: Fr = Fr(montgomery: Limbs(1, 0, 0, 0))

    static func readContributions(_ bytes: [UInt8], _ s: Range<Int>) throws(Iden3FormatError) -> ([UInt8], [Contribution]) {
        var r = Iden3Reader(bytes, from: s.lowerBound, to: s.upperBound)
        let hash = Array(bytes[try r.take(64, "the circuit hash")])
        let count = Int(try r.u32("the contribution count"))
        var out: [Contribution] = []
        for i in 0..<count {
            let what = "contribution \(i + 1)"
            let pointsAt = try r.take(3 * SnarkJSPoints.g1Size + SnarkJSPoints.g2Size, what).lowerBound
            let g1 = try SnarkJSPoints.g1s(bytes, at: pointsAt, count: 3) { ["\(what): delta after", "\(what): s", "\(what): s·x"][$0] }
            let g2 = try SnarkJSPoints.g2s(bytes, at: pointsAt + 3 * SnarkJSPoints.g1Size, count: 1) { _ in "\(what): sp·x" }
            let transcript = Array(bytes[try r.take(64, what)])
            let type = try r.u32(what)
            guard type <= 1 else { throw .invalid("\(what): type \(type) (0 contribution, 1 beacon)") }
            let length = Int(try r.u32(what))
            var p = Iden3Reader(bytes, from: try r.take(length, what).lowerBound, to: r.offset)
            var c = Contribution(deltaAfter: g1[0], g1S: g1[1], g1SX: g1[2], g2SPX: g2[0], transcript: transcript, type: type)
            var last: UInt8 = 0
            while p.remaining > 0 {
                let key = bytes[try p.take(1, what).lowerBound]
                guard key > last else { throw .invalid("\(what): parameters out of order") }
                last = key
                switch key {
                case 1:
                    let n = Int(bytes[try p.take(1, what).lowerBound])
                    guard let name = String(validating: bytes[try p.take(n, what)], as: UTF8.self) else { throw .invalid("\(what): name is not UTF-8") }
                    c.name = name
                case 2: c.iterationsExponent = bytes[try p.take(1, what).lowerBound]
                case 3:
                    let n = Int(bytes[try p.take(1, what).lowerBound])
                    c.beaconHash = Array(bytes[try p.take(n, what)])
                default: throw .invalid("\(what): unknown parameter \(key)")
                }
            }
            if type == 1 && (c.iterationsExponent == nil || c.beaconHash == nil) { throw .invalid("\(what): a beacon without its hash or iterations") }
            out.append(c)
        }
        guard r.remaining == 0 else { throw .invalid("section 10 has \(r.remaining) bytes after its contributions") }
        return (hash, out)
    }

    /// The section types in file order (the container was checked by `sections`).
    static func fileOrder(_ bytes: [UInt8]) -> [UInt32] {
        var r = Iden3Reader(bytes, from: 8)
        guard let count = try? r.u32("count") else { return newKeyOrder }
        var order: [UInt32] = []
        for _ in 0..<count {
            guard let t = try? r.u32("type"), let size = try? r.u64("size"), (try? r.take(Int(size), "section")) != nil else { return newKeyOrder }
            order.append(t)
        }
        return order
    }
}

// MARK: - Writing

extension ZKey {
    /// The file; sections in `sectionOrder` (which must name 1–9, and 10 when there is a
    /// circuit hash).
    public func encoded() -> [UInt8] {
        let order = sectionOrder.filter { $0 != 10 || !circuitHash.isEmpty }
        let g1 = SnarkJSPoints.g1Size
        var w = Iden3Writer(magic: "zkey", version: 1, sections: UInt32(order.count),
                            capacity: 1024 + g1 * (ic.count + a.count + b1.count + c.count + h.count) + 128 * b2.count + 44 * coefficients.count)
        for t in order {
            w.section(t) { w in
                switch t {
                case 1: w.u32(1)
                case 2:
                    w.u32(32); w.limbs(FpParameters.modulus); w.u32(32); w.limbs(FrParameters.modulus)
                    w.u32(UInt32(variableCount)); w.u32(UInt32(publicCount)); w.u32(UInt32(domainSize))
                    SnarkJSPoints.append(alpha1, to: &w); SnarkJSPoints.append(beta1, to: &w)
                    SnarkJSPoints.append(beta2, to: &w); SnarkJSPoints.append(gamma2, to: &w)
                    SnarkJSPoints.append(delta1, to: &w); SnarkJSPoints.append(delta2, to: &w)
                case 3: for p in ic { SnarkJSPoints.append(p, to: &w) }
                case 4:
                    w.u32(UInt32(coefficients.count))
                    for k in coefficients {
                        w.u32(k.matrix); w.u32(k.row); w.u32(k.signal)
                        // value·R² mod r: the Montgomery limbs of value·R.
                        w.limbs((k.value * Self.montgomeryR).montgomery)
                    }
                case 5: for p in a { SnarkJSPoints.append(p, to: &w) }
                case 6: for p in b1 { SnarkJSPoints.append(p, to: &w) }
                case 7: for p in b2 { SnarkJSPoints.append(p, to: &w) }
                case 8: for p in c { SnarkJSPoints.append(p, to: &w) }
                case 9: for p in h { SnarkJSPoints.append(p, to: &w) }
                case 10:
                    w.append(circuitHash)
                    w.u32(UInt32(contributions.count))
                    for k in contributions { Self.append(k, to: &w) }
                default: break
                }
            }
        }
        return w.bytes
    }

    /// R = 2²⁵⁶ mod r as a field element (its Montgomery limbs are R² mod r).
    static let montgomeryR: Fr = Fr(montgomery: FrParameters.montR2)

    static func append(_ k: Contribution, to w: inout Iden3Writer) {
        SnarkJSPoints.append(k.deltaAfter, to: &w); SnarkJSPoints.append(k.g1S, to: &w)
        SnarkJSPoints.append(k.g1SX, to: &w); SnarkJSPoints.append(k.g2SPX, to: &w)
        w.append(k.transcript)
        w.u32(k.type)
        w.append(parameters(of: k))
    }

    /// u32 length ‖ parameters, as snarkjs writes them (a name is cut to 64 characters).
    static func parameters(of k: Contribution) -> [UInt8] {
        var params: [UInt8] = []
        if let name = k.name, !name.isEmpty {
            let bytes = Array(String(name.prefix(64)).utf8.prefix(255))
            params.append(1); params.append(UInt8(bytes.count)); params += bytes
        }
        if k.type == 1, let e = k.iterationsExponent, let hash = k.beaconHash {
            params.append(2); params.append(e)
            params.append(3); params.append(UInt8(hash.count)); params += hash
        }
        let n = UInt32(params.count)
        return [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)] + params
    }
}
