import Foundation

/// One thing wrong with a stored ledger, as `SQLiteLedger.audit` finds it.
public struct LedgerFault: Sendable, Equatable, CustomStringConvertible {
    /// What kind of invariant broke; the raw value is the name tools print.
    public enum Kind: String, Sendable, CaseIterable {
        /// `PRAGMA integrity_check` reported a problem (b-tree, index, NOT NULL, CHECK).
        case sqliteIntegrity = "sqlite_integrity"
        /// `PRAGMA foreign_key_check` found a row without its parent.
        case foreignKey = "foreign_key"
        /// Batch numbers do not run 1, 2, 3, …
        case batchNumbering = "batch_numbering"
        /// A stored batch hash is not the hash of the stored header fields and transfer ids.
        case batchHash = "batch_hash"
        /// A header's previous_hash is not the stored hash of the batch before.
        case chain = "chain"
        /// A batch root is not the root of the tree of the stored leaves after that batch.
        case batchRoot = "batch_root"
        /// A batch's stored frontier is not its tree's frontier after it (issue 16).
        case frontier = "frontier"
        /// A batch's leaf_count goes backwards or past the stored leaves or its tree's capacity,
        /// or leaves follow the last batch.
        case leafCount = "leaf_count"
        /// A batch's tree is not its predecessor's, nor the next one after a full tree.
        case tree = "tree"
        /// Leaf indices do not run 0, 1, 2, … without a gap.
        case leafSequence = "leaf_sequence"
        /// A leaf's batch is not the batch whose leaf range holds it.
        case leafBatch = "leaf_batch"
        /// A batch's transfer_count or transfer positions disagree with its transfers.
        case transferCount = "transfer_count"
        /// A transfer's id is not the hash of its public inputs.
        case transferID = "transfer_id"
        /// A transfer's output leaves are missing or differ (commitment, ciphertext, batch).
        case transferLeaves = "transfer_leaves"
        /// A transfer's nullifiers are not recorded as spent by it in its batch.
        case transferNullifiers = "transfer_nullifiers"
        /// A nullifier is recorded twice, or spent by two transfers.
        case nullifierDuplicate = "nullifier_duplicate"
        /// A nullifier row names a transfer that does not spend it.
        case nullifierOrphan = "nullifier_orphan"
        /// External data does not decode or does not hash to the transfer's extDataHash/publicAmount.
        case extData = "ext_data"
        /// A receipt signature does not verify under the given public key.
        case receiptSignature = "receipt_signature"
        /// The roots table (the recent roots `/v1/tree` lists) is not the roots of the newest
        /// batches. Older roots stay accepted through the batches' own roots, not this table.
        case rootWindow = "root_window"
        /// A transfer's root is not a root the tree had before its batch (the empty tree's or an
        /// earlier batch's): the server accepts every past root as an anchor, and no other.
        case anchor = "anchor"
        /// A payout disagrees with its withdrawal, or a withdrawal has no payout.
        case payout = "payout"
        /// A deposit of the voucher era has no voucher, or one for another amount or batch; a
        /// voucher pays for no deposit; or (given the deposit key) its signature does not verify.
        case voucher = "voucher"
        /// A stored value does not decode (not a canonical field element, wrong length).
        case undecodable = "undecodable"
        /// A stored proof does not decode or does not verify (`auditProofs`, `db verify --proofs`).
        case proof = "proof"
    }

    public var kind: Kind
    public var batch: Int64?
    public var detail: String

    public init(_ kind: Kind, batch: Int64? = nil, _ detail: String) {
        self.kind = kind; self.batch = batch; self.detail = detail
    }

    public var description: String { "\(kind.rawValue)" + (batch.map { " [batch \($0)]" } ?? "") + ": \(detail)" }
}
