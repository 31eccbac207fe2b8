import BN254
import Primitives

/// A settlement receipt: the server's signed statement that a transfer settled durably.
public struct Receipt: Sendable, Equatable {
    /// Hex SHA-256 of the transfer's public inputs (see `TransferID` in Settlement).
    public var transferID: [UInt8]
    public var batch: Int64
    /// The commitment tree the outputs went into (issue 14: trees roll over when full).
    public var tree: Int64
    /// Global leaf indices of the two output commitments (position in the tree: index mod the
    /// server's tree capacity).
    public var leafIndices: [Int64]
    /// The root of that tree after the batch.
    public var root: Fr
    /// Unix time of the batch commit, milliseconds.
    public var settledAt: Int64
    /// Ed25519 signature over `signedBytes`.
    public var signature: [UInt8]

    public init(transferID: [UInt8], batch: Int64, tree: Int64 = 0, leafIndices: [Int64], root: Fr, settledAt: Int64, signature: [UInt8] = []) {
        self.transferID = transferID; self.batch = batch; self.tree = tree; self.leafIndices = leafIndices
        self.root = root; self.settledAt = settledAt; self.signature = signature
    }

    /// What is signed, version 1:
    ///
    ///     "zksettle/receipt/v1" ‖ transferID (32) ‖ u64 batch ‖ u64 leaf0 ‖ u64 leaf1
    ///       ‖ root (32, big-endian) ‖ u64 settledAt
    ///
    /// Version 1 is every receipt of tree 0 (so receipts issued before trees existed still
    /// verify); a receipt of a later tree is version 2, which signs the tree after the batch:
    ///
    ///     "zksettle/receipt/v2" ‖ transferID (32) ‖ u64 batch ‖ u64 tree ‖ u64 leaf0 ‖ …
    public var signedBytes: [UInt8] {
        var out = Array((tree == 0 ? "zksettle/receipt/v1" : "zksettle/receipt/v2").utf8) + transferID
        out += be(UInt64(bitPattern: batch), bytes: 8)
        if tree != 0 { out += be(UInt64(bitPattern: tree), bytes: 8) }
        for l in leafIndices { out += be(UInt64(bitPattern: l), bytes: 8) }
        out += root.bigEndianBytes
        out += be(UInt64(bitPattern: settledAt), bytes: 8)
        return out
    }

    public func signed(with key: Ed25519Key) -> Receipt {
        var r = self
        r.signature = key.sign(signedBytes)
        return r
    }

    public func verify(publicKey: [UInt8]) -> Bool {
        Ed25519Key.verify(publicKey: publicKey, message: signedBytes, signature: signature)
    }
}
