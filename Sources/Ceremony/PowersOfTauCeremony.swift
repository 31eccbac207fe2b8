import BN254
import Foundation
import Primitives

/// A contributor's three secrets. They exist only in memory while a contribution is computed.
public struct PowersOfTauSecrets: Sendable {
    public var tau: Fr
    public var alpha: Fr
    public var beta: Fr
    public init(tau: Fr, alpha: Fr, beta: Fr) { self.tau = tau; self.alpha = alpha; self.beta = beta }
    var all: [Fr] { [tau, alpha, beta] }
}

/// What happened in one contribution: the new file and the hash snarkjs prints.
public struct PowersOfTauContributionResult: Sendable {
    public var ptau: PowersOfTau
    /// The contribution's response hash (what snarkjs prints as "Contribution Hash").
    public var responseHash: [UInt8]
    public var nextChallenge: [UInt8] { ptau.contributions.last!.nextChallenge }
}

public enum PowersOfTauError: Error, Equatable, Sendable, CustomStringConvertible {
    case format(String)
    case cannotContribute(String)
    case badBeacon(String)
    case noContributions
    /// A contribution (1-based index as snarkjs numbers them) fails a check.
    case contribution(index: Int, name: String?, reason: String)
    /// The powers or Lagrange sections do not match the transcript.
    case section(String)

    public var description: String {
        switch self {
        case .format(let s): return "malformed .ptau file: \(s)"
        case .cannotContribute(let s): return "cannot contribute: \(s)"
        case .badBeacon(let s): return "bad beacon: \(s)"
        case .noContributions: return "the file has no contribution: it cannot be used in production"
        case .contribution(let i, let name, let reason):
            return "contribution #\(i)\(name.map { " (\"\($0)\")" } ?? ""): \(reason)"
        case .section(let s): return s
        }
    }
}

extension PowersOfTau {
    // MARK: Hashes

    /// snarkjs's first challenge: BLAKE2b over the empty response hash and the initial
    /// accumulator (all generators) in uncompressed form, for `power`.
    public static func firstChallengeHash(power: Int) -> [UInt8] {
        let h = BLAKE2b.Streaming()
        h.update(BLAKE2b.hash([UInt8]()))
        let g1 = PowersOfTauEncoding.uncompressed(G1Affine.generator), g2 = PowersOfTauEncoding.uncompressed(G2Affine.generator)
        func repeated(_ unit: [UInt8], _ n: Int) {
            let block = Array([[UInt8]](repeating: unit, count: 16384).joined())
            var left = n
            while left >= 16384 { h.update(block); left -= 16384 }
            if left > 0 { h.update(block[0..<(left * unit.count)]) }
        }
        let n = 1 << power
        repeated(g1, tauG1Count(power: power))
        repeated(g2, n)
        repeated(g1, n)
        repeated(g1, n)
        h.update(g2)
        return h.finalize()
    }

    /// The challenge after a response: BLAKE2b(responseHash ‖ sections 2–6 uncompressed).
    public func challengeHash(after responseHash: [UInt8]) -> [UInt8] {
        let h = BLAKE2b.Streaming()
        h.update(responseHash)
        h.update(PowersOfTauEncoding.encodeAll(tauG1, size: 64) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        h.update(PowersOfTauEncoding.encodeAll(tauG2, size: 128) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        h.update(PowersOfTauEncoding.encodeAll(alphaTauG1, size: 64) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        h.update(PowersOfTauEncoding.encodeAll(betaTauG1, size: 64) { PowersOfTauEncoding.uncompressed($0, into: &$1) })
        h.update(PowersOfTauEncoding.uncompressed(betaG2))
        return h.finalize()
    }

    /// The challenge the next contributor signs: the last contribution's, or the first.
    public var currentChallenge: [UInt8] {
        contributions.last?.nextChallenge ?? Self.firstChallengeHash(power: ceremonyPower)
    }

    /// snarkjs's `getG2sp`: the proof-of-knowledge base for personalization 0 (τ), 1 (α), 2 (β).
    public static func proofOfKnowledgeBase(personalization: UInt8, challenge: [UInt8], g1S: G1Affine, g1SX: G1Affine) -> G2Affine {
        var h = BLAKE2b()
        h.update([personalization])
        h.update(challenge)
        h.update(PowersOfTauEncoding.uncompressed(g1S))
        h.update(PowersOfTauEncoding.uncompressed(g1SX))
        return snarkjsHashToG2(h.finalize())
    }

    // MARK: New

    /// The initial accumulator (snarkjs `powersoftau new`): every point a generator, no
    /// contribution.
    public static func initial(power: Int) throws(PowersOfTauError) -> PowersOfTau {
        guard (1...maximumPower).contains(power) else { throw .cannotContribute("power \(power) is outside 1…\(maximumPower)") }
        let n = 1 << power
        return PowersOfTau(power: power, ceremonyPower: power,
                           tauG1: [G1Affine](repeating: .generator, count: tauG1Count(power: power)),
                           tauG2: [G2Affine](repeating: .generator, count: n),
                           alphaTauG1: [G1Affine](repeating: .generator, count: n),
                           betaTauG1: [G1Affine](repeating: .generator, count: n),
                           betaG2: .generator, contributions: [])
    }

    // MARK: Keys

    /// A public key for `secrets` signed over `challenge`; `randomPoint` gives each part's s.
    public static func publicKey(_ secrets: PowersOfTauSecrets, challenge: [UInt8], randomPoint: () -> G1Affine) -> PowersOfTauPublicKey {
        var parts: [PowersOfTauKeyPart] = []
        for (k, x) in secrets.all.enumerated() {
            let s = randomPoint()
            let sx = s.jacobian.multiplied(by: x).affine
            let sp = proofOfKnowledgeBase(personalization: UInt8(k), challenge: challenge, g1S: s, g1SX: sx)
            parts.append(PowersOfTauKeyPart(g1S: s, g1SX: sx, g2SPX: sp.jacobian.multiplied(by: x).affine))
        }
        return PowersOfTauPublicKey(tau: parts[0], alpha: parts[1], beta: parts[2])
    }

    /// snarkjs's beacon: SHA-256 applied 2^exp times to the beacon hash seeds ChaCha, which
    /// draws τ, α, β (`Fr.fromRng`) then each part's s (`G1.fromRng`), as `createPTauKey`.
    public static func beaconKey(challenge: [UInt8], beaconHash: [UInt8], iterationsExp: Int) -> (PowersOfTauSecrets, PowersOfTauPublicKey) {
        var rng = ChaChaRNG.beacon(hash: beaconHash, iterationsExponent: iterationsExp)
        let secrets = PowersOfTauSecrets(tau: rng.nextFr(), alpha: rng.nextFr(), beta: rng.nextFr())
        let key = publicKey(secrets, challenge: challenge) { rng.nextG1() }
        return (secrets, key)
    }

    // MARK: Contributing

    /// Multiplies every power by fresh secrets from the CSPRNG and appends the record.
    public func contribute(name: String?, progress: (String) -> Void = { _ in }) throws(PowersOfTauError) -> PowersOfTauContributionResult {
        let secrets = PowersOfTauSecrets(tau: SecureRandom.nonzeroScalar(), alpha: SecureRandom.nonzeroScalar(), beta: SecureRandom.nonzeroScalar())
        let key = Self.publicKey(secrets, challenge: currentChallenge) {
            G1Jacobian.generator.multiplied(by: SecureRandom.nonzeroScalar()).affine
        }
        return try applying(secrets, key: key, type: 0, name: name, beacon: nil, progress: progress)
    }

    /// A beacon contribution (snarkjs `powersoftau beacon`): secrets from public randomness.
    public func beacon(hashHex: String, iterationsExp: Int, name: String?, progress: (String) -> Void = { _ in }) throws(PowersOfTauError) -> PowersOfTauContributionResult {
        guard let hash = Hex.decode(hashHex), !hash.isEmpty, hash.count * 2 == hashHex.count else {
            throw .badBeacon("the beacon hash must be non-empty hexadecimal")
        }
        guard hash.count < 256 else { throw .badBeacon("the beacon hash is at most 255 bytes") }
        guard (10...63).contains(iterationsExp) else { throw .badBeacon("the iteration exponent must be within 10…63") }
        progress("beacon: \(1 << min(iterationsExp, 62)) SHA-256 iterations")
        let (secrets, key) = Self.beaconKey(challenge: currentChallenge, beaconHash: hash, iterationsExp: iterationsExp)
        return try applying(secrets, key: key, type: 1, name: name, beacon: (hash, UInt8(iterationsExp)), progress: progress)
    }

    /// Applies secrets to every section (τ^i, α·τ^i, β·τ^i, β) on all cores, hashes the
    /// response as snarkjs does and appends the contribution record.
    public func applying(_ secrets: PowersOfTauSecrets, key: PowersOfTauPublicKey, type: UInt32, name: String?,
                         beacon: (hash: [UInt8], iterationsExp: UInt8)?, progress: (String) -> Void = { _ in })
        throws(PowersOfTauError) -> PowersOfTauContributionResult {
        guard power == ceremonyPower else { throw .cannotContribute("this file was reduced to power \(power) from \(ceremonyPower); contribute to the full file") }
        let challenge = currentChallenge
        var next = self
        next.lagrange = nil
        progress("tauG1: \(tauG1.count) points")
        next.tauG1 = Self.scale(tauG1, first: .one, ratio: secrets.tau)
        progress("tauG2: \(tauG2.count) points")
        next.tauG2 = Self.scale(tauG2, first: .one, ratio: secrets.tau)
        progress("alphaTauG1: \(alphaTauG1.count) points")
        next.alphaTauG1 = Self.scale(alphaTauG1, first: secrets.alpha, ratio: secrets.tau)
        progress("betaTauG1: \(betaTauG1.count) points")
        next.betaTauG1 = Self.scale(betaTauG1, first: secrets.beta, ratio: secrets.tau)
        next.betaG2 = betaG2.jacobian.multiplied(by: secrets.beta).affine

        progress("hashing the response")
        let (partial, responseHash) = Self.responseHash(challenge: challenge, after: next, key: key)
        let nextChallenge = next.challengeHash(after: responseHash)

        // snarkjs keeps the first 64 UTF-16 units of a name.
        let nameBytes = name.flatMap { $0.isEmpty ? nil : Array(String(decoding: Array($0.utf16.prefix(64)), as: UTF16.self).utf8) }
        next.contributions.append(PowersOfTauContribution(
            tauG1: next.tauG1[1], tauG2: next.tauG2[1], alphaG1: next.alphaTauG1[0], betaG1: next.betaTauG1[0], betaG2: next.betaG2,
            key: key, partialHash: partial, nextChallenge: nextChallenge, type: type, nameBytes: nameBytes,
            numIterationsExp: beacon?.iterationsExp, beaconHash: beacon?.hash))
        return PowersOfTauContributionResult(ptau: next, responseHash: responseHash)
    }

    /// snarkjs's response hash: BLAKE2b(challenge ‖ sections 2–6 compressed ‖ public key
    /// uncompressed); the partial state is taken before the key, as snarkjs stores it.
    public static func responseHash(challenge: [UInt8], after next: PowersOfTau, key: PowersOfTauPublicKey)
        -> (partialState: [UInt8], responseHash: [UInt8]) {
        var response = BLAKE2b()
        response.update(challenge)
        response.update(PowersOfTauEncoding.encodeAll(next.tauG1, size: 32) { PowersOfTauEncoding.compressed($0, into: &$1) })
        response.update(PowersOfTauEncoding.encodeAll(next.tauG2, size: 64) { PowersOfTauEncoding.compressed($0, into: &$1) })
        response.update(PowersOfTauEncoding.encodeAll(next.alphaTauG1, size: 32) { PowersOfTauEncoding.compressed($0, into: &$1) })
        response.update(PowersOfTauEncoding.encodeAll(next.betaTauG1, size: 32) { PowersOfTauEncoding.compressed($0, into: &$1) })
        var betaG2C: [UInt8] = []
        PowersOfTauEncoding.compressed(next.betaG2, into: &betaG2C)
        response.update(betaG2C)
        let partial = response.partialState
        response.update(PowersOfTauEncoding.uncompressedKey(key))
        return (partial, response.finalize())
    }

    /// points[i]·(first·ratio^i), in parallel chunks, with one batch inversion per chunk.
    static func scale<C: CurveParameters>(_ points: [AffinePoint<C>], first: Fr, ratio: Fr) -> [AffinePoint<C>] {
        let parts = max(1, min(points.count / 256 + 1, 8 * MSM.defaultParallelism))
        let chunks: [[AffinePoint<C>]] = parallelMap(parts) { part in
            let lo = points.count * part / parts, hi = points.count * (part + 1) / parts
            var t = first * ratio.pow([UInt(lo)])
            var out: [JacobianPoint<C>] = []
            out.reserveCapacity(hi - lo)
            for i in lo..<hi {
                out.append(points[i].jacobian.multiplied(by: t))
                t = t * ratio
            }
            return JacobianPoint<C>.batchAffine(out)
        }
        return Array(chunks.joined())
    }
}
