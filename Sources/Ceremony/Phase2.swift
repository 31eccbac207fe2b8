import BN254
import Foundation
import Groth16
import Groth16Prover
import Primitives
import R1CS

/// Why a phase-2 step failed; a failed check names the contribution (1-based, as snarkjs
/// numbers them) or the part of the key that breaks.
public enum Phase2Error: Error, Equatable, Sendable, CustomStringConvertible {
    case ptauTooSmall(power: Int, needed: Int)
    case ptau(String)
    case circuit(String)
    case contribution(index: Int, name: String?, reason: String)
    case key(String)
    case badBeacon(String)

    public var description: String {
        switch self {
        case .ptauTooSmall(let p, let n):
            return "the .ptau has power \(p); this circuit needs power \(n) (its domain of 2^\(n - 1) rows and the H query on 2^\(n) points): use a Powers-of-Tau file of power ≥ \(n)"
        case .ptau(let s): return "the .ptau cannot be used: \(s)"
        case .circuit(let s): return "the key is not this circuit's: \(s)"
        case .contribution(let i, let name, let reason): return "contribution #\(i)\(name.map { " (\"\($0)\")" } ?? ""): \(reason)"
        case .key(let s): return s
        case .badBeacon(let s): return "bad beacon: \(s)"
        }
    }
}

/// Phase 2 of a Groth16 ceremony for one circuit, in snarkjs's formats and with its
/// transcript (so snarkjs can continue or verify a ceremony begun here, and back):
///
/// - `newKey`: the initial key from the R1CS and a phase-1 `.ptau` (`snarkjs zkey new`):
///   γ = δ = 1, the query points as combinations of the ptau's Lagrange points, and the
///   circuit hash (BLAKE2b-512 over the key's points in uncompressed form).
/// - `contribute`: δ ← d·δ for a secret d from the CSPRNG, C and H divided by d, and a proof of
///   knowledge of d bound to the transcript (`snarkjs zkey contribute`).
/// - `beacon`: the same with d drawn from public randomness (`snarkjs zkey beacon`).
/// - `verify`: re-derives the initial key and checks every contribution, then the final key's
///   points against the initial key's (`snarkjs zkey verify`).
public enum Phase2 {
    /// The ptau power a circuit needs: its domain 2^k holds m + nPublic + 1 rows, and the H
    /// query takes the Lagrange points of 2^(k+1).
    public static func requiredPower(_ r1cs: R1CS) -> Int {
        ZKeyCircuitCheck.domainSize(r1cs).trailingZeroBitCount + 1
    }

    // MARK: new

    /// The initial key (no contributions) of `r1cs` from the phase-1 accumulator `ptau`.
    public static func newKey(r1cs: R1CS, ptau: PowersOfTau, progress: (String, Double) -> Void = { _, _ in }) throws(Phase2Error) -> ZKey {
        let n = r1cs.variableCount, pub = r1cs.publicCount, m = r1cs.constraints.count
        let domainSize = ZKeyCircuitCheck.domainSize(r1cs), level = domainSize.trailingZeroBitCount
        let needed = level + 1
        guard ptau.power >= needed else { throw .ptauTooSmall(power: ptau.power, needed: needed) }

        progress("Lagrange points: tau G1", 0)
        let tauG1: [G1Affine], tauG2: [G2Affine], alphaG1: [G1Affine], betaG1: [G1Affine], h: [G1Affine]
        do {
            tauG1 = try ptau.lagrangeTauG1(level: level)
            progress("Lagrange points: tau G2", 0.2)
            tauG2 = try ptau.lagrangeTauG2(level: level)
            progress("Lagrange points: alpha tau G1", 0.5)
            alphaG1 = try ptau.lagrangeAlphaTauG1(level: level)
            progress("Lagrange points: beta tau G1", 0.6)
            betaG1 = try ptau.lagrangeBetaTauG1(level: level)
            progress("Lagrange points: tau G1 on the odd points of 2n", 0.7)
            h = try ptau.lagrangeTauG1OddPoints(level: level)
        } catch {
            throw .ptau("\(error)")
        }

        // Rows: per row j, its (variable, coefficient) terms in A (the input rows included), B, C.
        var aRows = [[(Int, Fr)]](repeating: [], count: m + pub + 1), bRows = aRows, cRows = aRows
        for (j, c) in r1cs.constraints.enumerated() {
            aRows[j] = c.a.map { ($0.variable, $0.coefficient) }
            bRows[j] = c.b.map { ($0.variable, $0.coefficient) }
            cRows[j] = c.c.map { ($0.variable, $0.coefficient) }
        }
        for k in 0...pub { aRows[m + k] = [(k, .one)] }
        let rows = Phase2Rows(a: aRows, b: bRows, c: cRows)

        // Row by row: each Lagrange point is multiplied by every coefficient of its row (about 26
        // for τ·G1 in the transfer circuit), so a row with several terms gets a fixed-base table
        // for its point (FixedBaseMultiplier: additions, no doublings) instead of that many
        // variable-base products. Each worker sums into its own per-variable accumulators
        // (A, B1, B2, and β·A + α·B + C for IC and C); the workers' sums are added at the end.
        progress("query points", 0)
        let parts = 4 * MSM.defaultParallelism
        let sums: [Phase2Sums] = parallelMap(parts) { part in
            var acc = Phase2Sums(variables: n)
            for j in (rows.count * part / parts)..<(rows.count * (part + 1) / parts) {
                let a = rows.a[j], b = rows.b[j], c = rows.c[j]
                let tau = Phase2.products(tauG1[j], a.count + b.count + c.count)
                for (k, x) in a { acc.a[k] += tau(x) }
                for (k, x) in b { acc.b1[k] += tau(x) }
                for (k, x) in c { acc.mixed[k] += tau(x) }
                let beta = Phase2.products(betaG1[j], a.count)
                for (k, x) in a { acc.mixed[k] += beta(x) }
                let alpha = Phase2.products(alphaG1[j], b.count)
                for (k, x) in b { acc.mixed[k] += alpha(x) }
                let tau2 = Phase2.products(tauG2[j], b.count)
                for (k, x) in b { acc.b2[k] += tau2(x) }
            }
            return acc
        }
        progress("query points: sums", 0.9)
        var total = sums[0]
        for s in sums.dropFirst() { total.add(s) }
        let a = G1Jacobian.batchAffine(total.a), b1 = G1Jacobian.batchAffine(total.b1), b2 = G2Jacobian.batchAffine(total.b2)
        let mixed = total.mixed
        let mixedAffine = G1Jacobian.batchAffine(mixed)
        progress("circuit hash", 1)

        var key = ZKey(variableCount: n, publicCount: pub, domainSize: domainSize,
                       alpha1: ptau.alphaTauG1[0], beta1: ptau.betaTauG1[0], beta2: ptau.betaG2,
                       gamma2: .generator, delta1: .generator, delta2: .generator,
                       ic: Array(mixedAffine[0...pub]), coefficients: ZKeyCircuitCheck.coefficients(r1cs),
                       a: a, b1: b1, b2: b2, c: Array(mixedAffine[(pub + 1)...]), h: h,
                       circuitHash: [], contributions: [], sectionOrder: ZKey.newKeyOrder)
        key.circuitHash = circuitHash(key, ptau: ptau)
        return key
    }

    /// snarkjs's circuit hash: BLAKE2b-512 over α₁, β₁, β₂, γ₂, δ₁, δ₂, then per query in the
    /// order `zkey new` writes them a big-endian u32 count and the points: IC; the H query as
    /// τ^(i+n) − τ^i for i < n − 1 (τ^i·Z(τ), from the ptau's powers); C; A; B1; B2. Points
    /// uncompressed (`PowersOfTauEncoding`).
    static func circuitHash(_ key: ZKey, ptau: PowersOfTau) -> [UInt8] {
        var hasher = BLAKE2b()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        for p in [key.alpha1, key.beta1] { PowersOfTauEncoding.uncompressed(p, into: &buffer) }
        PowersOfTauEncoding.uncompressed(key.beta2, into: &buffer)
        PowersOfTauEncoding.uncompressed(key.gamma2, into: &buffer)
        PowersOfTauEncoding.uncompressed(key.delta1, into: &buffer)
        PowersOfTauEncoding.uncompressed(key.delta2, into: &buffer)
        hasher.update(buffer)
        func count(_ c: Int) { hasher.update([UInt8(truncatingIfNeeded: c >> 24), UInt8(truncatingIfNeeded: c >> 16), UInt8(truncatingIfNeeded: c >> 8), UInt8(truncatingIfNeeded: c)]) }
        func points(_ ps: [G1Affine]) {
            count(ps.count)
            hasher.update(PowersOfTauEncoding.encodeAll(ps, size: 64) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        }
        points(key.ic)
        let n = key.domainSize
        let zPoints: [G1Jacobian] = parallelMap(n - 1) { i in ptau.tauG1[i + n].jacobian - ptau.tauG1[i].jacobian }
        points(G1Jacobian.batchAffine(zPoints))
        points(key.c)
        points(key.a)
        points(key.b1)
        count(key.b2.count)
        hasher.update(PowersOfTauEncoding.encodeAll(key.b2, size: 128) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        return hasher.finalize()
    }

    // MARK: contribute and beacon

    /// BLAKE2b state after the circuit hash and every contribution's public key (the prefix of
    /// each next contribution's transcript).
    static func transcriptPrefix(_ key: ZKey, upTo count: Int) -> BLAKE2b {
        var hasher = BLAKE2b()
        hasher.update(key.circuitHash)
        for c in key.contributions.prefix(count) { hasher.update(publicKeyBytes(c)) }
        return hasher
    }

    /// δ after, s, s·x, sp·x (uncompressed) and the transcript: what snarkjs's `hashPubKey` hashes.
    static func publicKeyBytes(_ c: ZKey.Contribution) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(3 * 64 + 128 + 64)
        PowersOfTauEncoding.uncompressed(c.deltaAfter, into: &out)
        PowersOfTauEncoding.uncompressed(c.g1S, into: &out)
        PowersOfTauEncoding.uncompressed(c.g1SX, into: &out)
        PowersOfTauEncoding.uncompressed(c.g2SPX, into: &out)
        return out + c.transcript
    }

    /// The contribution hash snarkjs prints (BLAKE2b-512 of the public key), for participants
    /// to publish and compare with `verify`'s list.
    public static func contributionHash(_ c: ZKey.Contribution) -> [UInt8] { BLAKE2b.hash(publicKeyBytes(c)) }

    /// A contribution with a fresh secret from OpenSSL's CSPRNG, which is overwritten after use.
    public static func contribute(_ key: ZKey, name: String?, progress: (String, Double) -> Void = { _, _ in }) throws(Phase2Error) -> (ZKey, [UInt8]) {
        var d = SecureRandom.nonzeroScalar()
        let s = SecureRandom.nonzeroScalar()
        defer { d = .zero }
        return try apply(key, secret: d, g1S: (G1Jacobian.generator.multiplied(by: s)).affine, type: 0, name: name,
                         iterationsExponent: nil, beaconHash: nil, progress: progress)
    }

    /// snarkjs's beacon: SHA-256 applied 2^exp times to the beacon hash seeds ChaCha, which
    /// draws d (`Fr.fromRng`) and s (`G1.fromRng`). Anyone can recompute it.
    public static func beacon(_ key: ZKey, hashHex: String, iterationsExponent: Int, name: String?,
                              progress: (String, Double) -> Void = { _, _ in }) throws(Phase2Error) -> (ZKey, [UInt8]) {
        guard let hash = Hex.decode(hashHex), !hash.isEmpty, hash.count < 256 else {
            throw .badBeacon("the beacon hash must be 1 to 255 bytes of hexadecimal")
        }
        guard (10...63).contains(iterationsExponent) else { throw .badBeacon("the iteration exponent must be 10…63, as snarkjs requires") }
        var rng = ChaChaRNG.beacon(hash: hash, iterationsExponent: iterationsExponent)
        let d = rng.nextFr()
        let s = rng.nextG1()
        return try apply(key, secret: d, g1S: s, type: 1, name: name, iterationsExponent: UInt8(iterationsExponent), beaconHash: hash,
                         progress: progress)
    }

    static func apply(_ key: ZKey, secret d: Fr, g1S: G1Affine, type: UInt32, name: String?, iterationsExponent: UInt8?, beaconHash: [UInt8]?,
                      progress: (String, Double) -> Void) throws(Phase2Error) -> (ZKey, [UInt8]) {
        guard !key.circuitHash.isEmpty else { throw .key("the key has no contributions section (10): start from `ceremony new`") }
        guard !d.isZero else { throw .key("the secret is zero") }
        let g1SX = g1S.jacobian.multiplied(by: d).affine
        var hasher = transcriptPrefix(key, upTo: key.contributions.count)
        hasher.update(PowersOfTauEncoding.uncompressed(g1S) + PowersOfTauEncoding.uncompressed(g1SX))
        let transcript = hasher.finalize()
        let g2SP = snarkjsHashToG2(transcript)
        let g2SPX = g2SP.jacobian.multiplied(by: d).affine

        var next = key
        next.delta1 = key.delta1.jacobian.multiplied(by: d).affine
        next.delta2 = key.delta2.jacobian.multiplied(by: d).affine
        // The secret's inverse is as secret as the secret: overwritten on the way out (best
        // effort, as the development setup's toxic waste).
        var inverse = d.inverse()
        defer { inverse = .zero }
        progress("dividing C and H by the secret", 0)
        next.c = multiplyAll(key.c, by: inverse)
        progress("dividing C and H by the secret", 0.5)
        next.h = multiplyAll(key.h, by: inverse)
        progress("dividing C and H by the secret", 1)
        let contribution = ZKey.Contribution(deltaAfter: next.delta1, g1S: g1S, g1SX: g1SX, g2SPX: g2SPX, transcript: transcript, type: type,
                                             name: name, iterationsExponent: iterationsExponent, beaconHash: beaconHash)
        next.contributions.append(contribution)
        next.sectionOrder = ZKey.contributedOrder
        return (next, contributionHash(contribution))
    }

    /// Every point times one scalar, on all cores.
    static func multiplyAll(_ points: [G1Affine], by k: Fr) -> [G1Affine] {
        let parts = max(1, min(points.count, 8 * MSM.defaultParallelism))
        let chunks: [[G1Jacobian]] = parallelMap(parts) { part in
            let lo = points.count * part / parts, hi = points.count * (part + 1) / parts
            return (lo..<hi).map { points[$0].jacobian.multiplied(by: k) }
        }
        return G1Jacobian.batchAffine(chunks.flatMap { $0 })
    }

    // MARK: verify

    /// What `verify` found: each contribution with the hash its participant published.
    public struct Report: Sendable {
        public struct Entry: Sendable {
            public var index: Int
            public var name: String?
            public var isBeacon: Bool
            public var contributionHash: [UInt8]
        }
        public var contributions: [Entry]
        public var circuitHash: [UInt8]
    }

    /// Checks `key` as the outcome of a phase-2 ceremony for `r1cs` on `ptau`:
    ///
    /// 1. each contribution (first, since it is cheap: a broken transcript fails in milliseconds): its transcript is BLAKE2b of the circuit hash, the earlier public
    ///    keys, s and s·x; e(s, sp·x) = e(s·x, sp) with sp = hashToG2(transcript) (it knew its
    ///    secret d); e(δ before, sp·x) = e(δ after, sp) (it applied d to δ); a beacon's s and
    ///    s·x are recomputed from its public randomness;
    /// 2. δ₁ is the last δ after, and e(G₁, δ₂) = e(δ₁, G₂);
    /// 3. the initial key is re-derived (`newKey`); α₁, β₁, β₂, γ₂, IC, the coefficients, A,
    ///    B1, B2 and the circuit hash must be its, exactly (contributions change δ, C and H only);
    /// 4. C and H are the initial ones divided by the same δ: with random weights r,
    ///    e(Σ r·C, δ₂) = e(Σ r·C_initial, G₂), and the same for H.
    public static func verify(_ key: ZKey, r1cs: R1CS, ptau: PowersOfTau,
                              progress: (String, Double) -> Void = { _, _ in }) throws(Phase2Error) -> Report {
        do { try ZKeyCircuitCheck.check(key, against: r1cs) } catch { throw .circuit(error.description) }
        var entries: [Report.Entry] = []
        var hasher = BLAKE2b()
        hasher.update(key.circuitHash)
        var delta = G1Affine.generator
        for (i, c) in key.contributions.enumerated() {
            progress("contribution \(i + 1) of \(key.contributions.count)", Double(i) / Double(max(1, key.contributions.count)))
            func fail(_ reason: String) -> Phase2Error { .contribution(index: i + 1, name: c.name, reason: reason) }
            var mine = hasher
            mine.update(PowersOfTauEncoding.uncompressed(c.g1S) + PowersOfTauEncoding.uncompressed(c.g1SX))
            guard mine.finalize() == c.transcript else { throw fail("its transcript hash is not the hash of the transcript before it and its key") }
            let sp = snarkjsHashToG2(c.transcript)
            guard !c.g1S.isInfinity, !c.g1SX.isInfinity, !c.deltaAfter.isInfinity, !c.g2SPX.isInfinity else {
                throw fail("a point of its public key is the point at infinity")
            }
            guard sameRatio(c.g1S, c.g1SX, sp, c.g2SPX) else { throw fail("its proof of knowledge fails (s·x and sp·x are not the same multiple)") }
            guard sameRatio(delta, c.deltaAfter, sp, c.g2SPX) else { throw fail("delta after it is not delta before it times its secret") }
            if c.type == 1 {
                guard let hash = c.beaconHash, let e = c.iterationsExponent else { throw fail("a beacon without its hash or exponent") }
                guard e <= 63 else { throw fail("its beacon asks for 2^\(e) SHA-256 rounds (at most 2^63)") }
                var rng = ChaChaRNG.beacon(hash: hash, iterationsExponent: Int(e))
                let d = rng.nextFr(), s = rng.nextG1()
                guard s == c.g1S, s.jacobian.multiplied(by: d).affine == c.g1SX else {
                    throw fail("its key is not the one its beacon (hash \(Hex.encode(hash)), 2^\(e) iterations) gives")
                }
            }
            hasher.update(publicKeyBytes(c))
            entries.append(.init(index: i + 1, name: c.name, isBeacon: c.type == 1, contributionHash: contributionHash(c)))
            delta = c.deltaAfter
        }
        guard key.delta1 == delta else { throw .key("delta_1 is not the last contribution's delta after") }
        guard sameRatio(.generator, key.delta1, .generator, key.delta2) else { throw .key("delta_1 and delta_2 are not the same multiple of the generators") }

        let initial = try newKey(r1cs: r1cs, ptau: ptau, progress: progress)
        progress("comparing with the initial key", 0)
        guard key.circuitHash == initial.circuitHash else {
            throw .key("the circuit hash differs from the one this R1CS and ptau give: the key was made from another circuit or ptau")
        }
        for (name, same) in [("alpha_1", key.alpha1 == initial.alpha1), ("beta_1", key.beta1 == initial.beta1),
                             ("beta_2", key.beta2 == initial.beta2), ("gamma_2", key.gamma2 == initial.gamma2),
                             ("IC", key.ic == initial.ic), ("the A and B coefficients", key.coefficients == initial.coefficients),
                             ("A", key.a == initial.a), ("B1", key.b1 == initial.b1), ("B2", key.b2 == initial.b2)] where !same {
            throw .key("\(name) differs from the initial key's (contributions change only delta, C and H)")
        }

        progress("C and H against the initial key", 0)
        guard key.c.count == initial.c.count, key.h.count == initial.h.count else { throw .key("C or H has the wrong number of points") }
        let weights = (0..<(key.c.count + key.h.count)).map { _ in SecureRandom.scalar() }
        let final = MSM.g1(key.c + key.h, weights).affine
        let start = MSM.g1(initial.c + initial.h, weights).affine
        guard Pairing.pairingProductIsOne([(final, key.delta2), (-start, .generator)]) else {
            throw .key("C or H is not the initial key's divided by delta: a contribution did not apply its secret to every point")
        }
        progress("C and H against the initial key", 1)
        return Report(contributions: entries, circuitHash: key.circuitHash)
    }

    /// e(a, d) = e(b, c): b/a and d/c are the same multiple.
    static func sameRatio(_ a: G1Affine, _ b: G1Affine, _ c: G2Affine, _ d: G2Affine) -> Bool {
        Pairing.pairingProductIsOne([(a, d), (-b, c)])
    }
}

extension Phase2 {
    /// x ↦ x·P for the `count` coefficients of one row: P itself for 1, a fixed-base table when
    /// the row has enough terms to pay for it, else a variable-base product.
    static func products<C: CurveParameters>(_ p: AffinePoint<C>, _ count: Int) -> (Fr) -> JacobianPoint<C> {
        if count >= 6 && !p.isInfinity {
            let table = FixedBaseMultiplier(p, expectedProducts: count)
            return { x in x.isOne ? p.jacobian : table.multiply(x) }
        }
        return { x in x.isOne ? p.jacobian : p.jacobian.multiplied(by: x) }
    }
}

/// The R1CS row by row, for the workers of `Phase2.newKey`.
struct Phase2Rows: Sendable {
    let a: [[(Int, Fr)]]
    let b: [[(Int, Fr)]]
    let c: [[(Int, Fr)]]
    var count: Int { a.count }
}

/// One worker's per-variable sums.
struct Phase2Sums: Sendable {
    var a: [G1Jacobian]
    var b1: [G1Jacobian]
    var b2: [G2Jacobian]
    /// β·u_k + α·v_k + w_k: IC for the public variables, C for the rest.
    var mixed: [G1Jacobian]

    init(variables n: Int) {
        a = [G1Jacobian](repeating: .infinity, count: n); b1 = a; mixed = a
        b2 = [G2Jacobian](repeating: .infinity, count: n)
    }

    mutating func add(_ o: Phase2Sums) {
        for k in a.indices { a[k] += o.a[k]; b1[k] += o.b1[k]; b2[k] += o.b2[k]; mixed[k] += o.mixed[k] }
    }
}
