import BN254
import Protocol

/// Why a ledger call failed. Commit conflicts are named so that the pipeline (and a test) can
/// tell a double spend from a broken chain from a disk error; a failed commit wrote nothing.
public enum LedgerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The batch number is not the one after the last stored batch.
    case batchOutOfOrder(expected: Int64, got: Int64)
    /// The header's previousHash is not the hash of the last stored header.
    case previousHashMismatch(batch: Int64)
    /// A nullifier of the batch is already spent by a settled transfer.
    case nullifierAlreadySpent(Fr)
    /// The batch spends the same nullifier twice.
    case duplicateNullifierInBatch(Fr)
    /// A leaf index of the batch is already filled.
    case leafAlreadyPresent(Int64)
    /// Leaf indices must continue from the current leaf count without gaps.
    case leafIndexGap(expected: Int64, got: Int64)
    /// A transfer with this id already settled.
    case transferAlreadySettled(TransferID)
    /// A deposit voucher (by nonce, hex) is already recorded as used.
    case voucherAlreadyUsed(String)
    /// The batch's records disagree with each other (header, transfers, leaves, nullifiers,
    /// receipts, payouts); the text says how.
    case inconsistentBatch(String)
    /// A write on a ledger opened read-only.
    case readOnly
    /// A read-only open of a file that holds no ledger (missing, or without the schema).
    case noLedger(path: String)
    /// The file was written by a newer build (its schema version is higher than ours).
    case schemaTooNew(found: Int64, supported: Int64)
    /// A stored value does not decode (not canonical, wrong length, bad encoding).
    case corrupt(String)
    /// The storage engine failed (I/O, locking, a constraint it enforces); the text is its own.
    case storage(String)
    /// A failure planned by `ZKSETTLE_FAULT_FAIL_AT` (fault tests only; see `FaultInjection`).
    case injectedFault(String)
    /// The ledger was created with another tree capacity than the one asked for (it is fixed
    /// for a ledger's life), or the one asked for is not valid.
    case treeCapacity(stored: Int?, requested: Int)

    /// A row another writer stored first (several open trees: another lane's commit): a
    /// nullifier, a voucher or the transfer itself. Nothing of the batch was written; the
    /// writer learns what was stored and builds its batch again.
    public var isStoredFirstElsewhere: Bool {
        switch self {
        case .nullifierAlreadySpent, .voucherAlreadyUsed, .transferAlreadySettled: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .batchOutOfOrder(let e, let g): return "batch \(g) does not follow the ledger's last batch (expected \(e))"
        case .previousHashMismatch(let b): return "batch \(b) does not name the hash of the previous batch header"
        case .nullifierAlreadySpent(let nf): return "nullifier \(nf.hexString) is already spent"
        case .duplicateNullifierInBatch(let nf): return "nullifier \(nf.hexString) is spent twice in the batch"
        case .leafAlreadyPresent(let i): return "leaf \(i) is already in the tree"
        case .leafIndexGap(let e, let g): return "leaf index \(g) where \(e) was next"
        case .transferAlreadySettled(let id): return "transfer \(id) already settled"
        case .voucherAlreadyUsed(let id): return "deposit voucher \(id) is already used"
        case .inconsistentBatch(let s): return "inconsistent batch: \(s)"
        case .readOnly: return "the ledger was opened read-only"
        case .noLedger(let p): return "\(p) holds no ZKSettle ledger (start zksettle-server on it first, or check --data)"
        case .schemaTooNew(let f, let s): return "the ledger has schema version \(f); this build knows up to \(s): upgrade zksettle"
        case .corrupt(let s): return "corrupt ledger: \(s)"
        case .storage(let s): return s
        case .injectedFault(let at): return "injected fault at \(at) (ZKSETTLE_FAULT_FAIL_AT)"
        case .treeCapacity(let stored?, let requested):
            return "this ledger was created with a tree capacity of \(stored) leaves and keeps it for its life; --tree-capacity \(requested) asks for another (start with --tree-capacity \(stored), or without the option)"
        case .treeCapacity(nil, let requested):
            return TreeCapacity.problem(requested) ?? "tree capacity \(requested) is not usable"
        }
    }
}
