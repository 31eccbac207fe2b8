import BN254
import Primitives

/// What `verify` found: the transcript as snarkjs prints it.
public struct PowersOfTauReport: Sendable {
    public struct Entry: Sendable {
        public var index: Int
        public var name: String?
        public var isBeacon: Bool
        /// The contribution hash (nil only if its partial hash is malformed).
        public var responseHash: [UInt8]?
        public var nextChallenge: [UInt8]
    }
    public var power: Int
    public var ceremonyPower: Int
    public var contributions: [Entry]
    /// BLAKE2b of the last response and the powers: the challenge a next contributor signs.
    public var nextChallenge: [UInt8]
    /// Whether the prepared-phase-2 sections were present (and so checked).
    public var lagrangeChecked: Bool
}

/// Σ of weighted pairings, grouped by G2 point so shared G2 points cost one Miller loop.
struct PairingBatch {
    struct Key: Hashable { let x: Fp2, y: Fp2, inf: Bool }
    private var g2: [G2Affine] = []
    private var g1: [G1Jacobian] = []
    private var index: [Key: Int] = [:]

    mutating func add(_ p: G1Jacobian, _ q: G2Affine) {
        let key = Key(x: q.x, y: q.y, inf: q.isInfinity)
        if let i = index[key] { g1[i] = g1[i] + p; return }
        index[key] = g2.count
        g2.append(q); g1.append(p)
    }

    /// Adds ρ-weighted terms of e(a1, b2) = e(b1, a2) (snarkjs's `sameRatio(a1, b1, a2, b2)`).
    mutating func sameRatio(_ a1: G1Affine, _ b1: G1Affine, _ a2: G2Affine, _ b2: G2Affine, weight: Fr) {
        add(a1.jacobian.multiplied(by: weight), b2)
        add(-(b1.jacobian.multiplied(by: weight)), a2)
    }

    var holds: Bool {
        let affine = G1Jacobian.batchAffine(g1)
        let pairs = zip(affine, g2).filter { !$0.0.isInfinity && !$0.1.isInfinity }
        if pairs.isEmpty { return true }
        return Pairing.pairingProductIsOne(Array(pairs))
    }
}

/// One `sameRatio` check of a contribution, labeled as snarkjs labels it.
struct RatioCheck: Sendable {
    let label: String
    let a1: G1Affine, b1: G1Affine, a2: G2Affine, b2: G2Affine
    var hasZero: Bool { a1.isInfinity || b1.isInfinity || a2.isInfinity || b2.isInfinity }
    var holdsAlone: Bool { Pairing.pairingProductIsOne([(a1, b2), (-b1, a2)]) }
}

extension PowersOfTau {
    /// The previous state a contribution builds on: generators and the first challenge.
    struct Link: Sendable {
        var tauG1: G1Affine, tauG2: G2Affine, alphaG1: G1Affine, betaG1: G1Affine, betaG2: G2Affine
        var nextChallenge: [UInt8]
    }

    /// The counterpart of snarkjs `powersoftau verify`: every contribution's proof of
    /// knowledge and its link to the previous one (beacons re-derived from their hash), the
    /// last contribution against the powers and the challenge hash, the powers' consistency
    /// (random linear combinations, a few MSMs and pairings) and, when present, the Lagrange
    /// sections. Throws naming the contribution or section that breaks.
    @discardableResult
    public func verify(progress: (String) -> Void = { _ in }) throws(PowersOfTauError) -> PowersOfTauReport {
        guard !contributions.isEmpty else { throw .noContributions }
        let g1 = G1Affine.generator, g2 = G2Affine.generator
        let initial = Link(tauG1: g1, tauG2: g2, alphaG1: g1, betaG1: g1, betaG2: g2,
                           nextChallenge: Self.firstChallengeHash(power: ceremonyPower))

        // 1. The transcript: proofs of knowledge and links, batched across contributions.
        progress("contributions: proofs of knowledge and links (\(contributions.count))")
        let contribs = contributions
        for (i, c) in contribs.enumerated() where c.isBeacon {
            progress("contribution #\(i + 1) is a beacon: re-deriving its key (2^\(c.numIterationsExp ?? 0) SHA-256 iterations)")
        }
        let checks: [Result<[RatioCheck], PowersOfTauError>] = parallelMap(contribs.count) { i in
            let prev = i == 0 ? initial : Self.link(contribs[i - 1])
            return Self.ratioChecks(contribs[i], index: i + 1, prev: prev)
        }
        var all: [(Int, [RatioCheck])] = []
        for (i, r) in checks.enumerated() {
            switch r {
            case .failure(let e): throw e
            case .success(let c): all.append((i, c))
            }
        }
        var batch = PairingBatch()
        for (_, cs) in all { for c in cs { batch.sameRatio(c.a1, c.b1, c.a2, c.b2, weight: SecureRandom.weight128()) } }
        if !batch.holds {
            // Name the first contribution that breaks, and the check.
            for (i, cs) in all {
                for c in cs where !c.holdsAlone {
                    throw .contribution(index: i + 1, name: contributions[i].name, reason: c.label)
                }
            }
            throw .section("the batched contribution checks fail but no single check does (retry)")
        }

        // 2. The last contribution against the powers in the file.
        let last = contributions[contributions.count - 1]
        let lastIndex = contributions.count
        func mismatch(_ what: String) -> PowersOfTauError {
            .contribution(index: lastIndex, name: last.name, reason: what)
        }
        guard tauG1[0] == g1 else { throw .section("the first tauG1 point (section 2) is not the generator") }
        guard tauG2[0] == g2 else { throw .section("the first tauG2 point (section 3) is not the generator") }
        guard tauG1[1] == last.tauG1 else { throw mismatch("its tauG1 is not the second point of section 2 (tauG1)") }
        guard tauG2[1] == last.tauG2 else { throw mismatch("its tauG2 is not the second point of section 3 (tauG2)") }
        guard alphaTauG1[0] == last.alphaG1 else { throw mismatch("its alphaG1 is not the first point of section 4 (alphaTauG1)") }
        guard betaTauG1[0] == last.betaG1 else { throw mismatch("its betaG1 is not the first point of section 5 (betaTauG1)") }
        guard betaG2 == last.betaG2 else { throw mismatch("its betaG2 is not section 6 (betaG2)") }

        // 3. The powers: each section is a geometric sequence of ratio τ.
        progress("powers: random linear combinations of \(tauG1.count + tauG2.count + alphaTauG1.count + betaTauG1.count) points")
        try verifyPowers()

        // 4. The challenge hash of the last contribution.
        progress("hashing the powers")
        guard let response = last.responseHash else { throw mismatch("its partial hash is malformed") }
        let next = challengeHash(after: response)
        if power == ceremonyPower, next != last.nextChallenge {
            throw mismatch("its next challenge is not the hash of its response and the powers in the file")
        }

        // 5. The prepared phase-2 sections.
        if lagrange != nil {
            try verifyLagrange(progress: progress)
        }

        let entries = contributions.enumerated().map { i, c in
            PowersOfTauReport.Entry(index: i + 1, name: c.name, isBeacon: c.isBeacon, responseHash: c.responseHash, nextChallenge: c.nextChallenge)
        }
        return PowersOfTauReport(power: power, ceremonyPower: ceremonyPower, contributions: entries, nextChallenge: next,
                                 lagrangeChecked: lagrange != nil)
    }

    static func link(_ c: PowersOfTauContribution) -> Link {
        Link(tauG1: c.tauG1, tauG2: c.tauG2, alphaG1: c.alphaG1, betaG1: c.betaG1, betaG2: c.betaG2, nextChallenge: c.nextChallenge)
    }

    /// snarkjs's `verifyContribution` as a list of ratio checks (plus the beacon re-derivation
    /// and the non-zero conditions, checked here).
    static func ratioChecks(_ cur: PowersOfTauContribution, index: Int, prev: Link) -> Result<[RatioCheck], PowersOfTauError> {
        func fail(_ why: String) -> Result<[RatioCheck], PowersOfTauError> { .failure(.contribution(index: index, name: cur.name, reason: why)) }
        if cur.isBeacon {
            guard let hash = cur.beaconHash, let exp = cur.numIterationsExp else { return fail("a beacon without its parameters") }
            let (_, key) = beaconKey(challenge: prev.nextChallenge, beaconHash: hash, iterationsExp: Int(exp))
            let names = ["tau", "alpha", "beta"]
            for (k, (mine, theirs)) in zip(key.parts, cur.key.parts).enumerated() {
                if mine.g1S != theirs.g1S { return fail("beacon key (\(names[k]) g1_s) is not generated from its beacon hash") }
                if mine.g1SX != theirs.g1SX { return fail("beacon key (\(names[k]) g1_sx) is not generated from its beacon hash") }
                if mine.g2SPX != theirs.g2SPX { return fail("beacon key (\(names[k]) g2_spx) is not generated from its beacon hash") }
            }
        }
        let parts = cur.key.parts
        let sp = (0..<3).map { k in
            proofOfKnowledgeBase(personalization: UInt8(k), challenge: prev.nextChallenge, g1S: parts[k].g1S, g1SX: parts[k].g1SX)
        }
        let checks = [
            RatioCheck(label: "invalid proof of knowledge (tau key)", a1: parts[0].g1S, b1: parts[0].g1SX, a2: sp[0], b2: parts[0].g2SPX),
            RatioCheck(label: "invalid proof of knowledge (alpha key)", a1: parts[1].g1S, b1: parts[1].g1SX, a2: sp[1], b2: parts[1].g2SPX),
            RatioCheck(label: "invalid proof of knowledge (beta key)", a1: parts[2].g1S, b1: parts[2].g1SX, a2: sp[2], b2: parts[2].g2SPX),
            RatioCheck(label: "tau·G1 does not follow the previous contribution", a1: prev.tauG1, b1: cur.tauG1, a2: sp[0], b2: parts[0].g2SPX),
            RatioCheck(label: "tau·G2 does not follow the previous contribution", a1: parts[0].g1S, b1: parts[0].g1SX, a2: prev.tauG2, b2: cur.tauG2),
            RatioCheck(label: "alpha·G1 does not follow the previous contribution", a1: prev.alphaG1, b1: cur.alphaG1, a2: sp[1], b2: parts[1].g2SPX),
            RatioCheck(label: "beta·G1 does not follow the previous contribution", a1: prev.betaG1, b1: cur.betaG1, a2: sp[2], b2: parts[2].g2SPX),
            RatioCheck(label: "beta·G2 does not follow the previous contribution", a1: parts[2].g1S, b1: parts[2].g1SX, a2: prev.betaG2, b2: cur.betaG2),
        ]
        for c in checks where c.hasZero { return fail("\(c.label) (a point at infinity)") }
        return .success(checks)
    }

    /// Random weights (128-bit, from the CSPRNG) for batched checks.
    static func weights(_ n: Int) -> [Fr] {
        let bytes = SecureRandom.bytes(16 * n)
        return (0..<n).map { i in
            var lo: UInt = 0, hi: UInt = 0
            for k in 0..<8 { lo = lo << 8 | UInt(bytes[16 * i + k]); hi = hi << 8 | UInt(bytes[16 * i + 8 + k]) }
            return Fr(unchecked: Limbs(lo, hi, 0, 0))
        }
    }

    /// Every section is a geometric sequence with the ratio τ of tauG1[1] / tauG2[1]:
    /// with random r, e(Σ rᵢ·Pᵢ, τ·G2) = e(Σ rᵢ·Pᵢ₊₁, G2) for the G1 sections, and
    /// e(G1, Σ rᵢ·Qᵢ₊₁) = e(τ·G1, Σ rᵢ·Qᵢ) for tauG2.
    func verifyPowers() throws(PowersOfTauError) {
        let tauG2One = tauG2[1], tauG1One = tauG1[1]
        guard !tauG2One.isInfinity, !tauG1One.isInfinity else { throw .section("tau is zero: the second powers are the point at infinity") }
        func sectionCheck(_ points: [G1Affine]) -> (G1Jacobian, G1Jacobian, [Fr]) {
            let r = Self.weights(points.count - 1)
            return (MSM.g1(Array(points.dropLast()), r), MSM.g1(Array(points.dropFirst()), r), r)
        }
        let sections: [(String, [G1Affine])] = [("tauG1 (section 2)", tauG1), ("alphaTauG1 (section 4)", alphaTauG1), ("betaTauG1 (section 5)", betaTauG1)]
        var batch = PairingBatch()
        var parts: [(String, G1Jacobian, G1Jacobian)] = []
        for (name, pts) in sections {
            let (x, y, _) = sectionCheck(pts)
            parts.append((name, x, y))
            batch.add(x, tauG2One)
            batch.add(-y, .generator)
        }
        let r2 = Self.weights(tauG2.count - 1)
        let s1 = MSM.g2(Array(tauG2.dropLast()), r2), s2 = MSM.g2(Array(tauG2.dropFirst()), r2)
        let s1a = s1.affine, s2a = s2.affine
        let rho = SecureRandom.weight128()
        batch.add(G1Jacobian.generator.multiplied(by: rho), s2a)
        batch.add(-(tauG1One.jacobian.multiplied(by: rho)), s1a)
        if batch.holds { return }
        for (name, x, y) in parts {
            if !Pairing.pairingProductIsOne([(x.affine, tauG2One), ((-y).affine, .generator)]) {
                throw .section("\(name): the powers do not match (not a sequence of ratio tau)")
            }
        }
        throw .section("tauG2 (section 3): the powers do not match (not a sequence of ratio tau)")
    }
}
