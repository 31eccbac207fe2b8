/// circomlib-compatible Poseidon over the BN254 scalar field (DESIGN.md §3).
///
/// `hash(inputs)` is circomlib's `Poseidon(n)` (`PoseidonEx(n, 1)` with initial state 0): the
/// state is `[0, inputs...]` of width t = n + 1, the permutation runs with
/// `PoseidonParameters.forArity(n)`, and the output is `state[0]`. The permutation is the plain
/// form of the Poseidon paper (constants, S-box, MDS in every round), the form a circuit gadget
/// replays; circomlib's circuit uses an equivalent optimized form with sparse matrices.
///
/// The permutation runs on a fixed-size stack buffer (t ≤ 7): no heap allocation per hash.
public enum Poseidon {
    /// The largest number of inputs (circomlib's parameter set supports up to 16; this project
    /// uses up to 6).
    public static let maxArity = PoseidonParameters.maxWidth - 1

    /// Poseidon of 1...6 field elements.
    public static func hash(_ inputs: [Fr]) -> Fr {
        precondition((1...maxArity).contains(inputs.count), "Poseidon arity \(inputs.count) outside 1...\(maxArity)")
        return hash(inputs, parameters: .forArity(inputs.count))
    }

    /// Poseidon of one element (`H1` in DESIGN.md §4).
    public static func hash(_ a: Fr) -> Fr {
        withState(PoseidonParameters.forArity(1)) { s in s[1] = a }
    }

    /// Poseidon of two elements (`H2`, the Merkle tree node).
    public static func hash(_ a: Fr, _ b: Fr) -> Fr {
        withState(PoseidonParameters.forArity(2)) { s in s[1] = a; s[2] = b }
    }

    /// Poseidon of three elements (`H3`, note commitments and nullifiers).
    public static func hash(_ a: Fr, _ b: Fr, _ c: Fr) -> Fr {
        withState(PoseidonParameters.forArity(3)) { s in s[1] = a; s[2] = b; s[3] = c }
    }

    /// The sponge-free hash with explicit parameters: state `[0, inputs...]`, output `state[0]`.
    /// `inputs.count` must be `parameters.arity`.
    public static func hash(_ inputs: [Fr], parameters: PoseidonParameters) -> Fr {
        precondition(inputs.count == parameters.arity,
                     "\(inputs.count) inputs for Poseidon parameters of arity \(parameters.arity)")
        return withState(parameters) { s in
            for (i, x) in inputs.enumerated() { s[i + 1] = x }
        }
    }

    /// The permutation applied in place to a full state of width `parameters.t`.
    public static func permute(_ state: inout [Fr], parameters: PoseidonParameters) {
        precondition(state.count == parameters.t, "state of width \(state.count) for Poseidon width \(parameters.t)")
        withScratch { s, scratch in
            for i in 0..<parameters.t { s[i] = state[i] }
            permute(s, scratch: scratch, parameters)
            for i in 0..<parameters.t { state[i] = s[i] }
        }
    }

    // MARK: Implementation

    /// Runs the permutation on a state `[0, 0, ...]` that `load` fills, and returns `state[0]`.
    @inline(__always)
    private static func withState(_ p: PoseidonParameters, _ load: (UnsafeMutablePointer<Fr>) -> Void) -> Fr {
        withScratch { s, scratch in
            for i in 0..<p.t { s[i] = .zero }
            load(s)
            permute(s, scratch: scratch, p)
            return s[0]
        }
    }

    /// Two stack buffers of `maxWidth` elements: the state and the MDS product being formed.
    @inline(__always)
    private static func withScratch<R>(_ body: (UnsafeMutablePointer<Fr>, UnsafeMutablePointer<Fr>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Fr.self, capacity: 2 * PoseidonParameters.maxWidth) { buffer in
            let base = buffer.baseAddress!
            base.initialize(repeating: .zero, count: 2 * PoseidonParameters.maxWidth)
            return body(base, base + PoseidonParameters.maxWidth)
        }
    }

    /// x^5: two squarings and a product.
    @inline(__always)
    private static func sbox(_ x: Fr) -> Fr {
        let x2 = x.squared()
        return x2.squared() * x
    }

    /// The plain permutation: `fullRounds/2` full rounds, `partialRounds` partial rounds,
    /// `fullRounds/2` full rounds; each adds its constants, applies the S-box, multiplies by MDS.
    private static func permute(_ s: UnsafeMutablePointer<Fr>, scratch: UnsafeMutablePointer<Fr>, _ p: PoseidonParameters) {
        let t = p.t
        let firstPartial = p.fullRounds / 2
        let lastPartial = firstPartial + p.partialRounds
        p.roundConstants.withUnsafeBufferPointer { rc in
            p.mdsRowMajor.withUnsafeBufferPointer { m in
                var c = rc.baseAddress!
                let mds = m.baseAddress!
                for round in 0..<(p.fullRounds + p.partialRounds) {
                    for i in 0..<t { s[i] = s[i] + c[i] }
                    c += t
                    if round < firstPartial || round >= lastPartial {
                        for i in 0..<t { s[i] = sbox(s[i]) }
                    } else {
                        s[0] = sbox(s[0])
                    }
                    mix(s, scratch: scratch, mds, t)
                }
            }
        }
    }

    /// `state ← M · state`, with lazy reduction: each row's t products are summed double-width
    /// and reduced once (t REDCs per round instead of t²). A reduced product is below
    /// m² < m·2^254 and REDC accepts anything below m·2^256, so the running sum is kept below
    /// m·2^256 by subtracting m·2^256 whenever its high half reaches m (possible only from the
    /// fifth product on, i.e. t ≥ 5); the sum before that check is below 1.25·m·2^256 < 2^512.
    @inline(__always)
    private static func mix(_ s: UnsafeMutablePointer<Fr>, scratch: UnsafeMutablePointer<Fr>,
                            _ m: UnsafePointer<Fr>, _ t: Int) {
        var row = m
        for i in 0..<t {
            var acc = Fr.wideProduct(row[0].montgomery, s[0].montgomery)
            for j in 1..<t {
                _ = Fr.wideAdd(&acc, Fr.wideProduct(row[j].montgomery, s[j].montgomery))
                if j >= 4 {
                    let high = Limbs(acc.v.4, acc.v.5, acc.v.6, acc.v.7)
                    if high >= FrParameters.modulus {
                        let h = Limbs.subWithBorrow(high, FrParameters.modulus).0
                        acc.v.4 = h.v.0; acc.v.5 = h.v.1; acc.v.6 = h.v.2; acc.v.7 = h.v.3
                    }
                }
            }
            scratch[i] = Fr(montgomery: Fr.reduce(&acc))
            row += t
        }
        for i in 0..<t { s[i] = scratch[i] }
    }
}
