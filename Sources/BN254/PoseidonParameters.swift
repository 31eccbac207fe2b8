/// The constants of one Poseidon permutation over Fr with x^5 S-boxes, in the plain
/// (unoptimized) form of the Poseidon paper: round r adds `roundConstants[r·t ..< (r+1)·t]`,
/// applies the S-box (to every element in a full round, to element 0 in a partial round), then
/// multiplies by `mds`. Full and partial rounds run as `fullRounds/2`, `partialRounds`,
/// `fullRounds/2`.
///
/// `forArity(n)` is circomlib's parameter set (DESIGN.md §3): t = n + 1, 8 full rounds,
/// 56/57/56/60/60/63 partial rounds for t = 2...7, and the round constants and MDS matrices of
/// circomlibjs `src/poseidon_constants.js` (the unoptimized form of circomlib's
/// `circuits/poseidon_constants.circom`), derived here with the Poseidon authors' Grain LFSR
/// script (see `PoseidonParameters+Grain.swift`). A circuit gadget replays exactly these
/// constants, so they are exposed in application order.
public struct PoseidonParameters: Sendable {
    /// State width (inputs + 1 capacity element).
    public let t: Int
    /// Number of full rounds (8 in circomlib), split evenly before and after the partial rounds.
    public let fullRounds: Int
    /// Number of partial rounds.
    public let partialRounds: Int
    /// `t · (fullRounds + partialRounds)` constants, round-major, element-minor: the constant
    /// added to `state[i]` in round `r` is `roundConstants[r * t + i]`.
    public let roundConstants: [Fr]
    /// The t × t MDS matrix: `state'[i] = Σ_j mds[i][j] · state[j]`.
    public let mds: [[Fr]]
    /// `mds` flattened row-major, for the permutation's inner loop.
    let mdsRowMajor: [Fr]

    /// The largest state width the permutation accepts (circomlib arity 6).
    public static let maxWidth = 7

    /// Parameters from explicit constants (for gadgets, experiments and tests); checks their
    /// shapes. `fullRounds` must be even and `t` in 2...`maxWidth`.
    public init(t: Int, fullRounds: Int, partialRounds: Int, roundConstants: [Fr], mds: [[Fr]]) {
        precondition((2...Self.maxWidth).contains(t), "Poseidon state width \(t) outside 2...\(Self.maxWidth)")
        precondition(fullRounds >= 0 && fullRounds % 2 == 0, "Poseidon needs an even number of full rounds")
        precondition(partialRounds >= 0, "negative number of partial rounds")
        precondition(roundConstants.count == t * (fullRounds + partialRounds),
                     "expected \(t * (fullRounds + partialRounds)) round constants, got \(roundConstants.count)")
        precondition(mds.count == t && mds.allSatisfy { $0.count == t }, "the MDS matrix must be \(t) × \(t)")
        self.t = t
        self.fullRounds = fullRounds
        self.partialRounds = partialRounds
        self.roundConstants = roundConstants
        self.mds = mds
        self.mdsRowMajor = mds.flatMap { $0 }
    }

    /// Number of hash inputs (t − 1).
    public var arity: Int { t - 1 }

    /// Total number of rounds.
    public var rounds: Int { fullRounds + partialRounds }

    /// circomlib's partial-round counts for t = 2...7 (`N_ROUNDS_P` in `poseidon.circom`).
    public static let circomlibPartialRounds = [56, 57, 56, 60, 60, 63]

    /// circomlib's parameters for `n` inputs (1...6): t = n + 1. Derived once per arity on
    /// first use and cached.
    public static func forArity(_ n: Int) -> PoseidonParameters {
        switch n {
        case 1: return Cache.arity1
        case 2: return Cache.arity2
        case 3: return Cache.arity3
        case 4: return Cache.arity4
        case 5: return Cache.arity5
        case 6: return Cache.arity6
        default: preconditionFailure("Poseidon arity \(n) outside 1...6")
        }
    }

    /// circomlib's parameter set for state width `t`.
    static func circomlib(width t: Int) -> PoseidonParameters {
        grain(width: t, fullRounds: 8, partialRounds: circomlibPartialRounds[t - 2])
    }

    /// One lazily initialized (thread-safe `static let`) entry per arity, so that hashing with
    /// two inputs never pays for deriving the width-7 constants.
    private enum Cache {
        static let arity1 = circomlib(width: 2)
        static let arity2 = circomlib(width: 3)
        static let arity3 = circomlib(width: 4)
        static let arity4 = circomlib(width: 5)
        static let arity5 = circomlib(width: 6)
        static let arity6 = circomlib(width: 7)
    }
}
