import BN254
import Primitives

/// ffjavascript's `ChaCha` generator, bit for bit: the ChaCha20 block function (10 double
/// rounds) keyed by eight 32-bit seed words, with a 128-bit block counter in words 12…15 and no
/// nonce; words are handed out in order, 16 per block. snarkjs derives every deterministic
/// point of a ceremony from it (the proof-of-knowledge base `hashToG2`, the beacon's keys), so a
/// verifier must reproduce it exactly. It is **not** a source of secrets here: contributions
/// draw their randomness from the CSPRNG (`SecureRandom`).
public struct ChaChaRNG {
    private var state: [UInt32]
    private var block = [UInt32](repeating: 0, count: 16)
    private var index = 16

    public init(seed: [UInt32]) {
        precondition(seed.count == 8)
        state = [0x6170_7865, 0x3320_646E, 0x7962_2D32, 0x6B20_6574] + seed + [0, 0, 0, 0]
    }

    /// The seed snarkjs takes from a hash: its first 32 bytes as eight big-endian words.
    public init(seedingFrom hash: [UInt8]) {
        precondition(hash.count >= 32)
        self.init(seed: (0..<8).map { i in (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(hash[4 * i + $1]) } })
    }

    /// snarkjs's beacon generator (`rngFromBeaconParams`): SHA-256 applied 2^e times to the
    /// beacon hash seeds ChaCha (e ≥ 64 counts as 2^64 − 1 rounds: forever, in practice).
    public static func beacon(hash: [UInt8], iterationsExponent e: Int) -> ChaChaRNG {
        var current = hash
        let iterations: UInt64 = e >= 64 ? .max : (1 << UInt64(max(0, e)))
        var i: UInt64 = 0
        while i < iterations { current = SHA256.hash(current); i += 1 }
        return ChaChaRNG(seedingFrom: current)
    }

    public mutating func nextU32() -> UInt32 {
        if index == 16 { refill() }
        defer { index += 1 }
        return block[index]
    }

    /// As ffjavascript: the first word is the high half.
    public mutating func nextU64() -> UInt64 {
        let hi = UInt64(nextU32())
        return hi << 32 | UInt64(nextU32())
    }

    public mutating func nextBool() -> Bool { nextU32() & 1 == 1 }

    private mutating func refill() {
        var x = state
        @inline(__always) func rotl(_ v: UInt32, _ n: UInt32) -> UInt32 { (v << n) | (v >> (32 - n)) }
        @inline(__always) func qr(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            x[a] = x[a] &+ x[b]; x[d] = rotl(x[d] ^ x[a], 16)
            x[c] = x[c] &+ x[d]; x[b] = rotl(x[b] ^ x[c], 12)
            x[a] = x[a] &+ x[b]; x[d] = rotl(x[d] ^ x[a], 8)
            x[c] = x[c] &+ x[d]; x[b] = rotl(x[b] ^ x[c], 7)
        }
        for _ in 0..<10 {
            qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
            qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
        }
        for i in 0..<16 { block[i] = x[i] &+ state[i] }
        index = 0
        for w in 12..<16 {
            state[w] &+= 1
            if state[w] != 0 { break }
        }
    }

    // MARK: - ffjavascript's fromRng for BN254

    /// Four 64-bit words, the first the least significant, masked to `bits`, redrawn until
    /// below `modulus`. ffjavascript stores the result as the field's *Montgomery* form, so the
    /// element's value is v·R⁻¹; callers build `Fp(montgomery:)` / `Fr(montgomery:)` from it.
    mutating func limbsBelow(_ modulus: Limbs, bits: Int) -> Limbs {
        while true {
            var w = [UInt](repeating: 0, count: 4)
            for i in 0..<4 { w[i] = UInt(nextU64()) }
            if bits < 256 {
                let top = bits - 192
                w[3] &= (UInt(1) << UInt(top)) - 1
            }
            let l = Limbs(w[0], w[1], w[2], w[3])
            if !(l >= modulus) { return l }
        }
    }

    /// `Fr.fromRng`: a private key of snarkjs's ceremony code.
    public mutating func nextFr() -> Fr { Fr(montgomery: limbsBelow(FrParameters.modulus, bits: 254)) }

    mutating func nextFp() -> Fp { Fp(montgomery: limbsBelow(FpParameters.modulus, bits: 254)) }

    /// `G1.fromRng`: x from the generator until x³ + 3 is a square, y the root whose sign
    /// (value above (p−1)/2) matches the drawn bit. G1 has cofactor 1.
    public mutating func nextG1() -> G1Affine {
        while true {
            let x = nextFp()
            let greatest = nextBool()
            let rhs = x.squared() * x + G1Curve.b
            guard var y = rhs.squareRoot() else { continue }
            if greatest != SnarkJSSign.isNegative(y) { y = -y }
            return G1Affine(x: x, y: y)
        }
    }

    /// `G2.fromRng`: as G1 over Fp2 (x = c0 then c1 drawn in turn), then multiplied by
    /// ffjavascript's G2 cofactor 2p − r to land in the order-r subgroup.
    public mutating func nextG2() -> G2Affine {
        while true {
            let x = Fp2(nextFp(), nextFp())
            let greatest = nextBool()
            let rhs = x.squared() * x + G2Curve.b
            guard var y = rhs.squareRoot() else { continue }
            if greatest != SnarkJSSign.isNegative(y) { y = -y }
            let p = G2Affine(x: x, y: y)
            return p.jacobian.multiplied(by: SnarkJSSign.g2Cofactor).affine
        }
    }
}

/// wasmcurves's sign conventions.
enum SnarkJSSign {
    /// (p − 1)/2.
    static let halfP: Limbs = {
        let p = FpParameters.modulus
        return Limbs(p.v.0 >> 1 | p.v.1 << 63, p.v.1 >> 1 | p.v.2 << 63, p.v.2 >> 1 | p.v.3 << 63, p.v.3 >> 1)
    }()

    /// ffjavascript's G2 cofactor for BN254: 0x30644e72e131a029b85045b68181585e06ceecda572a2489345f2299c0f9fa8d.
    static let g2Cofactor: [UInt] = [0x345f_2299_c0f9_fa8d, 0x06ce_ecda_572a_2489, 0xb850_45b6_8181_585e, 0x3064_4e72_e131_a029]

    /// f1m_isNegative: the canonical value is above (p − 1)/2.
    static func isNegative(_ a: Fp) -> Bool { !(halfP >= a.canonical) }

    /// f2m_isNegative: the sign of c1, or of c0 when c1 is zero.
    static func isNegative(_ a: Fp2) -> Bool { a.c1.isZero ? isNegative(a.c0) : isNegative(a.c1) }
}

/// snarkjs's `hashToG2` (keypair.js): a G2 point from a 64-byte BLAKE2b digest, through ChaCha
/// seeded with the digest's first 32 bytes.
public func snarkjsHashToG2(_ digest: [UInt8]) -> G2Affine {
    var rng = ChaChaRNG(seedingFrom: digest)
    return rng.nextG2()
}
