import BN254
import Foundation
import Groth16
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

        progress("Lagrange points of the ptau (group FFTs)", 0)
        let tauG1: [G1Affine], tauG2: [G2Affine], alphaG1: [G1Affine], betaG1: [G1Affine], wide: [G1Affine]
        do {
            tauG1 = try ptau.lagrangeTauG1(level: level)
            progress("Lagrange points of the ptau (group FFTs)", 0.2)
            tauG2 = try ptau.lagrangeTauG2(level: level)
            progress("Lagrange points of the ptau (group FFTs)", 0.5)
            alphaG1 = try ptau.lagrangeAlphaTauG1(level: level)
            progress("Lagrange points of the ptau (group FFTs)", 0.6)
            betaG1 = try ptau.lagrangeBetaTauG1(level: level)
            progress("Lagrange points of the ptau (group FFTs)", 0.7)
            wide = try ptau.lagrangeTauG1(level: level + 1)
        } catch {
            throw .ptau("\(error)")
        }
        progress("Lagrange points of the ptau (group FFTs)", 1)

        // Columns: per variable, its (row, coefficient) entries in A (with the input rows), B, C.
        var aCols = [[(Int, Fr)]](repeating: [], count: n), bCols = aCols, cCols = aCols
        for (j, c) in r1cs.constraints.enumerated() {
            for t in c.a { aCols[t.variable].append((j, t.coefficient)) }
            for t in c.b { bCols[t.variable].append((j, t.coefficient)) }
            for t in c.c { cCols[t.variable].append((j, t.coefficient)) }
        }
        for k in 0...pub { aCols[k].append((m + k, .one)) }
        let aColumns = aCols, bColumns = bCols, cColumns = cCols

        progress("query points", 0)
        func combine<C: CurveParameters>(_ columns: [[(Int, Fr)]], _ basis: [AffinePoint<C>]) -> [AffinePoint<C>] {
            let sums: [JacobianPoint<C>] = parallelMap(columns.count) { k in
                var acc = JacobianPoint<C>.infinity
                for (row, c) in columns[k] { acc += c.isOne ? basis[row].jacobian : basis[row].jacobian.multiplied(by: c) }
                return acc
            }
            return JacobianPoint<C>.batchAffine(sums)
        }
        let a = combine(aColumns, tauG1)
        progress("query points", 0.25)
        let b1 = combine(bColumns, tauG1)
        progress("query points", 0.4)
        let b2 = combine(bColumns, tauG2)
        progress("query points", 0.7)
        // IC and C: β·u_k + α·v_k + w_k, from the β-, α- and plain Lagrange points.
        let mixed: [G1Jacobian] = parallelMap(n) { k in
            var acc = G1Jacobian.infinity
            for (row, c) in aColumns[k] { acc += c.isOne ? betaG1[row].jacobian : betaG1[row].jacobian.multiplied(by: c) }
            for (row, c) in bColumns[k] { acc += c.isOne ? alphaG1[row].jacobian : alphaG1[row].jacobian.multiplied(by: c) }
            for (row, c) in cColumns[k] { acc += c.isOne ? tauG1[row].jacobian : tauG1[row].jacobian.multiplied(by: c) }
            return acc
        }
        let mixedAffine = G1Jacobian.batchAffine(mixed)
        progress("query points", 1)
        let h = (0..<domainSize).map { wide[2 * $0 + 1] }

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
        func points(_ ps: [G1Affine]) { count(ps.count); hasher.update(uncompressedAll(ps)) }
        points(key.ic)
        let n = key.domainSize
        let zPoints: [G1Jacobian] = parallelMap(n - 1) { i in ptau.tauG1[i + n].jacobian - ptau.tauG1[i].jacobian }
        points(G1Jacobian.batchAffine(zPoints))
        points(key.c)
        points(key.a)
        points(key.b1)
        count(key.b2.count)
        var g2Bytes: [UInt8] = []
        g2Bytes.reserveCapacity(128 * key.b2.count)
        for p in key.b2 { PowersOfTauEncoding.uncompressed(p, into: &g2Bytes) }
        hasher.update(g2Bytes)
        return hasher.finalize()
    }

    static func uncompressedAll(_ ps: [G1Affine]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 * ps.count)
        for p in ps { PowersOfTauEncoding.uncompressed(p, into: &out) }
        return out
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
        var rng = beaconRNG(hash: hash, iterationsExponent: iterationsExponent)
        let d = rng.nextFr()
        let s = rng.nextG1()
        return try apply(key, secret: d, g1S: s, type: 1, name: name, iterationsExponent: UInt8(iterationsExponent), beaconHash: hash,
                         progress: progress)
    }

    static func beaconRNG(hash: [UInt8], iterationsExponent e: Int) -> ChaChaRNG {
        var current = hash
        for _ in 0..<(UInt64(1) << UInt64(e)) { current = SHA256.hash(current) }
        return ChaChaRNG(seedingFrom: current)
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
        let inverse = d.inverse()
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
    /// 1. the initial key is re-derived (`newKey`); α₁, β₁, β₂, γ₂, IC, the coefficients, A,
    ///    B1, B2 and the circuit hash must be its, exactly (contributions change δ, C and H only);
    /// 2. each contribution: its transcript is BLAKE2b of the circuit hash, the earlier public
    ///    keys, s and s·x; e(s, sp·x) = e(s·x, sp) with sp = hashToG2(transcript) (it knew its
    ///    secret d); e(δ before, sp·x) = e(δ after, sp) (it applied d to δ); a beacon's s and
    ///    s·x are recomputed from its public randomness;
    /// 3. δ₁ is the last δ after, and e(G₁, δ₂) = e(δ₁, G₂);
    /// 4. C and H are the initial ones divided by the same δ: with random weights r,
    ///    e(Σ r·C, δ₂) = e(Σ r·C_initial, G₂), and the same for H.
    public static func verify(_ key: ZKey, r1cs: R1CS, ptau: PowersOfTau,
                              progress: (String, Double) -> Void = { _, _ in }) throws(Phase2Error) -> Report {
        do { try ZKeyCircuitCheck.check(key, against: r1cs) } catch { throw .circuit(error.description) }
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
                var rng = beaconRNG(hash: hash, iterationsExponent: Int(e))
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
