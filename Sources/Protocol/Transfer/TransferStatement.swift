/// The transfer statement, defined once: what the circuit proves, what the server checks and
/// what the wallet fills in agree on these constants.
///
/// Public inputs, in circuit (and `public.json`) order:
///
///     0 root          a root the commitment tree had (any tree, any past root)
///     1 publicAmount  extAmount − fee, as an element of Fr
///     2 extDataHash   ExtData.hash (binds recipient, amounts and encrypted outputs)
///     3 nf0, 4 nf1    the nullifiers of the two spent notes
///     5 cmOut0, 6 cmOut1  the commitments of the two new notes
public enum TransferStatement {
    public static let publicInputNames = ["root", "publicAmount", "extDataHash", "nf0", "nf1", "cmOut0", "cmOut1"]
    public static let publicInputCount = 7
    /// The depth of each commitment tree (its capacity is 2^depth leaves).
    public static let depth = 20
    /// The hex SHA-256 of the transfer circuit's R1CS (`TransferCircuit.circuitID`), pinned:
    /// a circuits test holds the two equal, so a change to the constraints must change this
    /// line too, and keys made for another circuit are refused by the server and the wallet.
    public static let circuitID = "334b06d88cde1574ce485282568a454a2d25e3d892907680c7872cce923be48c"
}
