import BN254

/// Protocol v1 values (DESIGN.md section 4). All are elements of Fr; H1…H3 are Poseidon.
///
///     nk = H1(sk)        pk = H1(nk)
///     cm = H3(value, pk, blinding)
///     nf = H3(nk, cm, leafIndex)
public struct SpendingKey: Sendable, Equatable {
    public let sk: Fr
    public init(_ sk: Fr) { self.sk = sk }
    /// nk = H1(sk): with it one can tell which notes are spent, not spend them.
    public var nullifierKey: Fr { Poseidon.hash(sk) }
    /// pk = H1(nk): the owner key that commitments name.
    public var ownerKey: Fr { Poseidon.hash(nullifierKey) }
}

/// A shielded note: `value` owned by `owner` (pk), hidden by `blinding`.
public struct Note: Sendable, Equatable {
    public var value: UInt64
    public var owner: Fr
    public var blinding: Fr

    public init(value: UInt64, owner: Fr, blinding: Fr) {
        self.value = value; self.owner = owner; self.blinding = blinding
    }

    /// cm = H3(value, pk, blinding).
    public var commitment: Fr { Self.commitment(value: Fr(value), owner: owner, blinding: blinding) }

    /// nf = H3(nk, cm, leafIndex): unique per (note, position), revealed when spent.
    public func nullifier(nullifierKey nk: Fr, leafIndex: Int) -> Fr {
        Self.nullifier(nullifierKey: nk, commitment: commitment, leafIndex: leafIndex)
    }

    /// The two formulas, written once: the notes here and the circuit's witness both use them
    /// (the circuit's witness carries the value as a field element).
    public static func commitment(value: Fr, owner: Fr, blinding: Fr) -> Fr { Poseidon.hash(value, owner, blinding) }

    public static func nullifier(nullifierKey nk: Fr, commitment: Fr, leafIndex: Int) -> Fr {
        Poseidon.hash(nk, commitment, Fr(UInt64(leafIndex)))
    }
}
