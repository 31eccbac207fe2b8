import BN254
import Ceremony
import Foundation
import Primitives
import R1CS
import Testing
import TestSupport

/// Phase 1 (issue 18): snarkjs `.ptau` files, their verification and contributions.
@Suite struct PowersOfTauTests {
    static let hermezBytes: [UInt8] = {
        let data = try! Data(contentsOf: SharedVectors.url("ceremony/powersOfTau28_hez_final_10.ptau"))
        return [UInt8](data)
    }()
    static let hermez: PowersOfTau = try! PowersOfTau.read(hermezBytes)

    // MARK: BLAKE2b

    @Test func blake2bMatchesOpenSSL() {
        var rng = SeededGenerator(label: "blake2b")
        for n in [0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 4096] {
            let data = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(BLAKE2b.hash(data) == BLAKE2b.opensslDigest(data), "length \(n)")
            let stream = BLAKE2b.Streaming()
            stream.update(data.prefix(n / 3)); stream.update(data.dropFirst(n / 3))
            #expect(stream.finalize() == BLAKE2b.opensslDigest(data), "streamed, length \(n)")
            // Fed in pieces of every size, and resumed from the partial state in the middle.
            for piece in [1, 7, 128, 200] where n > 0 {
                var h = BLAKE2b()
                var at = 0
                while at < n {
                    let end = min(n, at + piece)
                    h.update(data[at..<end])
                    at = end
                    if at == n / 2 || (at >= n / 2 && at - piece < n / 2) { h = BLAKE2b(partialState: h.partialState)! }
                }
                #expect(h.finalize() == BLAKE2b.opensslDigest(data), "length \(n) in pieces of \(piece)")
            }
        }
    }

    @Test func vectorFileHashIsTheRecordedOne() {
        #expect(Hex.encode(BLAKE2b.hash(Self.hermezBytes)) ==
            "332f3166e4aa3bf9ccf8cbf043dcb3d040e203f84f51fb118c20153a1e35b3b8b00d0d5cf245acc4ae212bcda6c6f75d8c750216bbd443856db7719104bb79d3")
    }

    // MARK: Reading, writing

    /// Despite its name the vector is not Hermez's final 2^10 file: its header says power 12
    /// (ceremony power 12) and its transcript holds one contribution, "First Contribution",
    /// with no beacon and no phase-2 sections (Tests/Vectors/ceremony/README.md).
    @Test func vectorFileReads() throws {
        let p = Self.hermez
        #expect(p.power == 12 && p.ceremonyPower == 12)
        #expect(p.tauG1.count == 8191 && p.tauG2.count == 4096 && p.alphaTauG1.count == 4096 && p.betaTauG1.count == 4096)
        #expect(p.contributions.count == 1)
        #expect(p.contributions.first?.name == "First Contribution")
        #expect(p.contributions.first?.isBeacon == false)
        #expect(p.lagrange == nil)
        #expect(p.serialized() == Self.hermezBytes)
    }

    /// The response hash snarkjs stored (as a partial BLAKE2b state) is the one we compute from
    /// the first challenge and the compressed powers: our compressed encoding is snarkjs's.
    @Test func responseHashIsRecomputedFromCompressedPoints() throws {
        let p = Self.hermez
        let ours = PowersOfTau.responseHash(challenge: PowersOfTau.firstChallengeHash(power: p.power), after: p,
                                            key: p.contributions[0].key)
        #expect(ours.partialState.count == 216)
        #expect(ours.responseHash == p.contributions[0].responseHash)
    }

    @Test func vectorFileVerifies() throws {
        let report = try Self.hermez.verify()
        #expect(report.contributions.count == 1)
        #expect(!report.lagrangeChecked)
        #expect(report.nextChallenge == Self.hermez.contributions[0].nextChallenge)
    }

    // MARK: Tampering

    /// Offset of section `type`'s body in a serialized file.
    static func sectionStart(_ bytes: [UInt8], _ type: UInt32) -> Int {
        var at = 12
        while at < bytes.count {
            let t = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
            let size = (0..<8).reduce(0) { $0 | Int(bytes[at + 4 + $1]) << (8 * $1) }
            if t == type { return at + 12 }
            at += 12 + size
        }
        fatalError("no section \(type)")
    }

    /// Reads and verifies; the error text, or nil when the file is valid.
    static func verdict(_ bytes: [UInt8]) -> String? {
        do { try PowersOfTau.read(bytes).verify(); return nil } catch { return "\(error)" }
    }

    /// One byte changed in each field of the contribution record (its points, its key, its
    /// partial hash, its next challenge) makes the file fail, naming contribution #1 when the
    /// record still parses.
    @Test func aChangedByteInTheContributionFails() {
        let start = Self.sectionStart(Self.hermezBytes, 7) + 4
        // tauG1, tauG2, alphaG1, betaG1, betaG2, key (tau s, sx; alpha; beta; 3 × spx), partial hash, next challenge.
        let offsets = [0, 64, 192, 256, 320, 448, 512, 576, 640, 704, 768, 832, 960, 1088, 1216 + 5, 1432 + 9]
        for o in offsets {
            var b = Self.hermezBytes
            b[start + o + 3] ^= 0x01
            let v = Self.verdict(b)
            #expect(v?.contains("contribution #1") == true, "byte \(o) of the record: \(v ?? "valid")")
            if let v, !v.contains("not on") && !v.contains("below p") && !v.contains("subgroup") {
                #expect(v.contains("First Contribution"), "byte \(o): \(v)")
            }
        }
    }

    /// A point of the powers replaced by another valid point breaks the ratio checks.
    @Test func aChangedPowerFails() throws {
        var p = Self.hermez
        p.tauG1[100] = G1Jacobian.generator.multiplied(by: Fr(7)).affine
        #expect(throws: PowersOfTauError.self) { try p.verify() }
        var q = Self.hermez
        q.tauG2[77] = G2Jacobian.generator.multiplied(by: Fr(7)).affine
        #expect(throws: PowersOfTauError.section("tauG2 (section 3): the powers do not match (not a sequence of ratio tau)")) { try q.verify() }
        var r = Self.hermez
        r.betaTauG1[4095] = G1Jacobian.generator.multiplied(by: Fr(7)).affine
        #expect(throws: PowersOfTauError.section("betaTauG1 (section 5): the powers do not match (not a sequence of ratio tau)")) { try r.verify() }
    }

    @Test func malformedFilesAreRefusedWithAReason() {
        var b = Self.hermezBytes
        b.removeLast(10)
        #expect(Self.verdict(b) != nil)
        var c = Self.hermezBytes
        c[0] = 0x41
        #expect(Self.verdict(c)?.contains("magic") == true)
        var d = Self.hermezBytes  // a tauG1 coordinate pushed to p or above
        let at = Self.sectionStart(d, 2) + 64 * 5 + 31
        d[at] = 0xff
        #expect(Self.verdict(d)?.contains("tauG1 point 5") == true)
        #expect(Self.verdict(Array(Self.hermezBytes.prefix(40))) != nil)
    }

    // MARK: A ceremony

    static let power = 4

    /// new → contribute → contribute → beacon → verify, through the file format each time.
    static let ceremony: [PowersOfTau] = {
        var files = [try! PowersOfTau.initial(power: power)]
        func step(_ f: (PowersOfTau) throws -> PowersOfTauContributionResult) {
            let next = try! f(files.last!)
            files.append(try! PowersOfTau.read(next.ptau.serialized()))
        }
        step { try $0.contribute(name: "alice") }
        step { try $0.contribute(name: "bob") }
        step { try $0.beacon(hashHex: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", iterationsExp: 10, name: "final beacon") }
        return files
    }()

    @Test func aSmallCeremonyVerifies() throws {
        let files = Self.ceremony
        #expect(throws: PowersOfTauError.noContributions) { try files[0].verify() }
        for f in files.dropFirst() { try f.verify() }
        let last = files.last!
        #expect(last.contributions.map(\.name) == ["alice", "bob", "final beacon"])
        #expect(last.contributions[2].isBeacon && last.contributions[2].numIterationsExp == 10)
        #expect(last.serialized() == (try PowersOfTau.read(last.serialized())).serialized())
        // The first challenge is the hash of the initial accumulator after the empty response.
        #expect(files[0].challengeHash(after: BLAKE2b.hash([UInt8]())) == PowersOfTau.firstChallengeHash(power: Self.power))
    }

    @Test func aForgedBeaconIsRefused() throws {
        var last = Self.ceremony.last!
        last.contributions[2].beaconHash![0] ^= 1
        #expect(throws: PowersOfTauError.contribution(index: 3, name: "final beacon",
                                                      reason: "beacon key (tau g1_s) is not generated from its beacon hash")) { try last.verify() }
    }

    /// A contribution whose proof of knowledge is another's (same secrets' key copied from an
    /// earlier contribution) does not sign this challenge.
    @Test func aSwappedProofOfKnowledgeIsRefused() throws {
        var f = Self.ceremony[2]
        f.contributions[1].key = f.contributions[0].key
        #expect(throws: PowersOfTauError.contribution(index: 2, name: "bob", reason: "invalid proof of knowledge (tau key)")) { try f.verify() }
        // Bob's key is kept but his powers are replaced by Alice's: the link breaks.
        var g = Self.ceremony[2]
        g.contributions[1].tauG1 = g.contributions[0].tauG1
        #expect(throws: PowersOfTauError.contribution(index: 2, name: "bob", reason: "tau·G1 does not follow the previous contribution")) { try g.verify() }
    }

    @Test func contributingToATruncatedFileIsRefused() throws {
        var f = Self.ceremony[1]
        f.ceremonyPower = f.power + 1
        #expect(throws: PowersOfTauError.self) { try f.contribute(name: "x") }
    }

    // MARK: Lagrange

    /// The generator-only accumulator is the file of τ = α = β = 1, whose Lagrange points are
    /// L_j(1)·G = [j = 0]·G; and a file made from a known τ matches the Lagrange values at τ.
    @Test func lagrangePointsAreTheLagrangeBasisAtTau() throws {
        let initial = try PowersOfTau.initial(power: 3)
        let l = try initial.lagrangeTauG1(level: 3)
        #expect(l[0] == .generator && l.dropFirst().allSatisfy(\.isInfinity))

        let tau = Fr(12345), alpha = Fr(3), beta = Fr(5)
        let key = PowersOfTau.publicKey(PowersOfTauSecrets(tau: tau, alpha: alpha, beta: beta), challenge: initial.currentChallenge) {
            G1Jacobian.generator.multiplied(by: Fr(99)).affine
        }
        let known = try initial.applying(PowersOfTauSecrets(tau: tau, alpha: alpha, beta: beta), key: key, type: 0, name: "known", beacon: nil).ptau
        for level in 0...3 {
            let want = EvaluationDomain(size: 1 << level).lagrangeAt(tau)
            #expect(try known.lagrangeTauG1(level: level) == want.map { G1Jacobian.generator.multiplied(by: $0).affine })
            #expect(try known.lagrangeTauG2(level: level) == want.map { G2Jacobian.generator.multiplied(by: $0).affine })
            #expect(try known.lagrangeAlphaTauG1(level: level) == want.map { G1Jacobian.generator.multiplied(by: $0 * alpha).affine })
            #expect(try known.lagrangeBetaTauG1(level: level) == want.map { G1Jacobian.generator.multiplied(by: $0 * beta).affine })
        }
        let prepared = known.preparedForPhase2()
        let reread = try PowersOfTau.read(prepared.serialized())
        #expect(reread == prepared)
        try reread.verify()
        #expect(try reread.lagrangeTauG1(level: 2) == known.lagrangeTauG1(level: 2))
        #expect(try reread.lagrangeTauG1(level: 4).count == 16)
        // A wrong Lagrange point is caught.
        var bad = reread
        bad.lagrange!.tauG2[5] = G2Affine.generator
        #expect(throws: PowersOfTauError.section("section 13 (Lagrange tauG2) does not match the powers of tau")) { try bad.verify() }
    }

    @Test func preparedCeremonyVerifies() throws {
        let prepared = Self.ceremony.last!.preparedForPhase2()
        let bytes = prepared.serialized()
        let reread = try PowersOfTau.read(bytes)
        #expect(reread.serialized() == bytes)
        let report = try reread.verify()
        #expect(report.lagrangeChecked)
    }
}
