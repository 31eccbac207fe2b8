/// Derivation of Poseidon's round constants and MDS matrix from the Grain LFSR, exactly as the
/// reference script of the Poseidon authors does it (`generate_parameters_grain.sage` in
/// https://extgit.iaik.tugraz.at/krypto/hadeshash, Grassi, Khovratovich, Rechberger, Roy,
/// Schofnegger: "Poseidon: A New Hash Function for Zero-Knowledge Proof Systems", USENIX
/// Security 2021, appendix F).
///
/// circomlib's constants are this script's output for `field = 1` (prime field), `sbox = 0`
/// (x^α), `n = 254`, `t`, `R_F = 8`, `R_P` and the BN254 scalar field:
///
///     sage generate_parameters_grain.sage 1 0 254 t 8 R_P 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
///
/// (the command quoted in circomlibjs `src/poseidon_reference.js`). Deriving them here replaces
/// a table of ~1,800 field elements with ~100 lines that can be read against the paper; the
/// tests pin the result against the published circomlibjs table and Tests/Vectors.
extension PoseidonParameters {
    /// The script's derivation for the BN254 scalar field with x^5 S-boxes: `(R_F + R_P)·t`
    /// round constants (rejection-sampled below r), then a Cauchy MDS matrix
    /// `M[i][j] = 1 / (x_i + y_j)` from `2t` further samples (reduced mod r).
    ///
    /// The newer versions of the script also test the matrix against infinitely long invariant
    /// subspace trails (its `algorithm_1..3`) and resample if it fails; circomlib's matrices
    /// are the first sample for every width (the tests confirm it), so those checks are not
    /// repeated here.
    static func grain(width t: Int, fullRounds: Int, partialRounds: Int) -> PoseidonParameters {
        var lfsr = GrainLFSR(width: t, fullRounds: fullRounds, partialRounds: partialRounds)

        var roundConstants: [Fr] = []
        roundConstants.reserveCapacity(t * (fullRounds + partialRounds))
        for _ in 0..<(t * (fullRounds + partialRounds)) {
            var x = lfsr.nextInteger()
            while x >= FrParameters.modulus { x = lfsr.nextInteger() }
            roundConstants.append(Fr(unchecked: x))
        }

        // The script's `create_mds_p`: 2t samples, all distinct (else draw all 2t again), and no
        // x_i + y_j = 0 (else draw again).
        while true {
            var samples = (0..<(2 * t)).map { _ in lfsr.nextElementReduced() }
            while Set(samples).count != samples.count {
                samples = (0..<(2 * t)).map { _ in lfsr.nextElementReduced() }
            }
            let xs = samples[0..<t], ys = samples[t..<(2 * t)]
            var mds: [[Fr]] = []
            var singular = false
            for x in xs {
                var row: [Fr] = []
                for y in ys {
                    let s = x + y
                    if s.isZero { singular = true }
                    row.append(s.inverse())
                }
                mds.append(row)
            }
            if singular { continue }
            return PoseidonParameters(
                t: t, fullRounds: fullRounds, partialRounds: partialRounds,
                roundConstants: roundConstants, mds: mds)
        }
    }
}

/// The 80-bit Grain LFSR of the Poseidon parameter script, in self-shrinking mode.
///
/// Bit `i` of the script's `bit_sequence` list is bit `i` of `(low, high)`: bit 0 is the oldest,
/// each clock computes `b62 ⊕ b51 ⊕ b38 ⊕ b23 ⊕ b13 ⊕ b0`, drops bit 0 and appends the new bit
/// as bit 79.
struct GrainLFSR {
    /// Bits 0...63.
    private var low: UInt64 = 0
    /// Bits 64...79 (in the low 16 bits).
    private var high: UInt64 = 0

    /// Seeds the register with the parameter encoding, most significant bit first: field type
    /// (2 bits, 1 = GF(p)), S-box (4 bits, 0 = x^α), field size in bits (12), t (12), R_F (10),
    /// R_P (10), then 30 one bits; then discards 160 output bits.
    init(width t: Int, fullRounds: Int, partialRounds: Int, fieldBits: Int = 254) {
        var position = 0
        func push(_ value: Int, bits: Int) {
            precondition(value >= 0 && value < (1 << bits), "Grain seed field out of range")
            for k in stride(from: bits - 1, through: 0, by: -1) {
                let bit = UInt64((value >> k) & 1)
                if position < 64 { low |= bit << UInt64(position) } else { high |= bit << UInt64(position - 64) }
                position += 1
            }
        }
        push(1, bits: 2)
        push(0, bits: 4)
        push(fieldBits, bits: 12)
        push(t, bits: 12)
        push(fullRounds, bits: 10)
        push(partialRounds, bits: 10)
        for _ in 0..<30 { push(1, bits: 1) }
        precondition(position == 80)
        for _ in 0..<160 { _ = clock() }
    }

    /// One step of the register; returns the new bit.
    private mutating func clock() -> UInt64 {
        let b = ((low >> 62) ^ (low >> 51) ^ (low >> 38) ^ (low >> 23) ^ (low >> 13) ^ low) & 1
        low = (low >> 1) | (high << 63)
        high = (high >> 1) | (b << 15)
        return b
    }

    /// The self-shrinking output: bits come in pairs (a, b); b is output when a = 1, and the
    /// pair is dropped when a = 0.
    mutating func nextBit() -> UInt64 {
        while true {
            let a = clock()
            let b = clock()
            if a == 1 { return b }
        }
    }

    /// The next 254 output bits read as a big-endian integer (the script's
    /// `grain_random_bits(254)`).
    mutating func nextInteger() -> Limbs {
        var limbs: [UInt] = [0, 0, 0, 0]
        for position in stride(from: 253, through: 0, by: -1) {
            limbs[position >> 6] |= UInt(nextBit()) << UInt(position & 63)
        }
        return Limbs(limbs[0], limbs[1], limbs[2], limbs[3])
    }

    /// `F(grain_random_bits(254))`: the next integer reduced mod r. It is below 2^254 < 2r, so
    /// one subtraction suffices.
    mutating func nextElementReduced() -> Fr {
        var x = nextInteger()
        if x >= FrParameters.modulus { x = Limbs.subWithBorrow(x, FrParameters.modulus).0 }
        return Fr(unchecked: x)
    }
}
