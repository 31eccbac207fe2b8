import BN254
import Groth16
import Primitives
import Protocol

/// The header of a settled batch. Headers are hash-chained: each names the hash of the one
/// before, so rewriting history changes every later hash (tamper evidence for auditors).
public struct BatchHeader: Sendable, Equatable {
    public var number: Int64
    /// Hash of the previous header; 32 zero bytes for batch 1.
    public var previousHash: [UInt8]
    /// The commitment tree this batch appended to (issue 14: when a tree is full the next one
    /// starts; a batch never spans two trees). 0 for every batch of a ledger that never rolled over.
    public var tree: Int64
    /// Root of tree `tree` after this batch.
    public var root: Fr
    /// Leaves in tree `tree` after this batch (its leaves' global indices run up to
    /// `tree × capacity + leafCount`).
    public var leafCount: Int64
    /// The transfers settled by this batch, in the order they were applied.
    public var transferIDs: [TransferID]
    /// Unix time of the commit, milliseconds.
    public var createdAt: Int64

    public init(number: Int64, previousHash: [UInt8], tree: Int64 = 0, root: Fr, leafCount: Int64, transferIDs: [TransferID], createdAt: Int64) {
        self.number = number; self.previousHash = previousHash; self.tree = tree; self.root = root
        self.leafCount = leafCount; self.transferIDs = transferIDs; self.createdAt = createdAt
    }

    /// SHA-256 of, version 1 (a batch of tree 0, so every header written before trees existed
    /// keeps its hash):
    ///
    ///     "zksettle/batch/v1" ‖ u64 number ‖ previousHash (32) ‖ root (32) ‖ u64 leafCount
    ///       ‖ u64 createdAt ‖ u32 count ‖ transferID (32) …
    ///
    /// and version 2 for a batch of a later tree, the tree number after the number:
    ///
    ///     "zksettle/batch/v2" ‖ u64 number ‖ u64 tree ‖ previousHash (32) ‖ root (32) ‖ …
    public var hash: [UInt8] {
        var out = Array((tree == 0 ? "zksettle/batch/v1" : "zksettle/batch/v2").utf8)
        out += bigEndian(UInt64(bitPattern: number), 8)
        if tree != 0 { out += bigEndian(UInt64(bitPattern: tree), 8) }
        out += previousHash + root.bigEndianBytes
        out += bigEndian(UInt64(bitPattern: leafCount), 8) + bigEndian(UInt64(bitPattern: createdAt), 8)
        out += bigEndian(UInt64(transferIDs.count), 4)
        for id in transferIDs { out += id.bytes }
        return SHA256.hash(out)
    }

    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The lane of this batch on a ledger of `openTrees` open trees (`OpenTrees`).
    public func lane(openTrees: Int) -> Int { OpenTrees.lane(ofBatch: number, openTrees: openTrees) }

    /// The frontier stored with this batch, decoded for its `leafCount` (`corrupt` unless it is
    /// one canonical node per set bit): what every engine's reads of `batches.frontier` call.
    public func storedFrontier(_ bytes: [UInt8]) throws(LedgerError) -> [Fr] {
        do { return try MerkleTree.decodeFrontier(bytes, count: Int(leafCount)) } catch {
            throw .corrupt("the frontier of batch \(number): \(error)")
        }
    }
}

/// A transfer as the ledger keeps it once settled.
public struct SettledTransfer: Sendable, Equatable {
    public var id: TransferID
    public var publicInputs: TransferPublicInputs
    public var extData: ExtData
    /// The proof as snarkjs `proof.json` bytes (for `db verify --proofs`).
    public var proofJSON: [UInt8]
    /// Leaf indices of the two output commitments.
    public var leafIndices: [Int64]
    public var receipt: Receipt

    public init(id: TransferID, publicInputs: TransferPublicInputs, extData: ExtData, proofJSON: [UInt8], leafIndices: [Int64], receipt: Receipt) {
        self.id = id; self.publicInputs = publicInputs; self.extData = extData
        self.proofJSON = proofJSON; self.leafIndices = leafIndices; self.receipt = receipt
    }
}

/// One leaf of the commitment tree with the encrypted note that opens it.
public struct LeafRecord: Sendable, Equatable {
    public var index: Int64
    public var commitment: Fr
    public var encryptedOutput: [UInt8]
    public var transferID: TransferID
    public var batch: Int64

    public init(index: Int64, commitment: Fr, encryptedOutput: [UInt8], transferID: TransferID, batch: Int64) {
        self.index = index; self.commitment = commitment; self.encryptedOutput = encryptedOutput
        self.transferID = transferID; self.batch = batch
    }
}

/// Who spent a nullifier, and when.
public struct NullifierRecord: Sendable, Equatable {
    public var nullifier: Fr
    public var transferID: TransferID
    public var batch: Int64
    public var spentAt: Int64

    public init(nullifier: Fr, transferID: TransferID, batch: Int64, spentAt: Int64) {
        self.nullifier = nullifier; self.transferID = transferID; self.batch = batch; self.spentAt = spentAt
    }
}

/// One spent nullifier in the public list every wallet pages through to learn its spends
/// without naming them. Every transfer spends two nullifiers and makes two leaves, so the
/// list is numbered like the leaves: position i is nullifier (i mod 2) of the transfer whose
/// outputs are leaves i − (i mod 2) and i − (i mod 2) + 1. Its external amount is public (it
/// is in the transfer's external data) and lets a restored wallet tell a withdrawal's amount.
public struct PublicSpend: Sendable, Equatable {
    public var index: Int64
    public var nullifier: Fr
    public var transferID: TransferID
    public var batch: Int64
    public var extAmount: Int64

    public init(index: Int64, nullifier: Fr, transferID: TransferID, batch: Int64, extAmount: Int64) {
        self.index = index; self.nullifier = nullifier; self.transferID = transferID; self.batch = batch; self.extAmount = extAmount
    }
}

/// A deposit voucher as the ledger records it, used, in the batch of the deposit it paid for.
/// The whole voucher is kept so that an auditor holding the deposit public key can check that
/// every deposit was authorized (`db verify`), not only that none was paid twice.
public struct VoucherRecord: Sendable, Equatable {
    public var voucher: DepositVoucher
    public var transferID: TransferID
    public var batch: Int64

    public init(voucher: DepositVoucher, transferID: TransferID, batch: Int64) {
        self.voucher = voucher; self.transferID = transferID; self.batch = batch
    }
}

/// Money owed to a withdrawal's recipient.
public struct Payout: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, paid }
    public var id: Int64
    public var transferID: TransferID
    public var recipient: String
    public var amount: UInt64
    public var status: Status
    public var createdAt: Int64
    public var paidAt: Int64?

    public init(id: Int64, transferID: TransferID, recipient: String, amount: UInt64, status: Status, createdAt: Int64, paidAt: Int64?) {
        self.id = id; self.transferID = transferID; self.recipient = recipient; self.amount = amount
        self.status = status; self.createdAt = createdAt; self.paidAt = paidAt
    }
}

/// Everything one batch writes, in one transaction.
public struct BatchCommit: Sendable {
    public var header: BatchHeader
    public var transfers: [SettledTransfer]
    public var leaves: [LeafRecord]
    public var nullifiers: [NullifierRecord]
    /// New payouts (ids are assigned by the ledger).
    public var payouts: [(transferID: TransferID, recipient: String, amount: UInt64)]
    /// The vouchers this batch's deposits used, recorded in the same transaction.
    public var vouchers: [VoucherRecord]
    /// The frontier of the batch's tree after it (`MerkleTree.frontier`, one node per set bit
    /// of `header.leafCount`), stored with the header (issue 16): a writer that learns this
    /// batch from the ledger appends after it without replaying the tree's leaves. Not in the
    /// header's hash: `db verify` checks it against the leaves, and a reader against the root.
    /// Nil: not stored (a hand-made batch).
    public var frontier: [Fr]?

    public init(header: BatchHeader, transfers: [SettledTransfer], leaves: [LeafRecord], nullifiers: [NullifierRecord],
                payouts: [(transferID: TransferID, recipient: String, amount: UInt64)], vouchers: [VoucherRecord] = [], frontier: [Fr]? = nil) {
        self.header = header; self.transfers = transfers; self.leaves = leaves
        self.nullifiers = nullifiers; self.payouts = payouts; self.vouchers = vouchers; self.frontier = frontier
    }

    /// The frontier as the ledger stores it (nil: none).
    public var frontierBytes: [UInt8]? { frontier.map(MerkleTree.encodeFrontier) }
}

/// What the server needs at start to rebuild its in-memory state.
public struct LedgerSnapshot: Sendable {
    /// The open tree: the one holding the last leaf (0 for an empty ledger). A full open tree
    /// is replaced by the next one when the next transfer settles.
    public var tree: Int64
    /// Leaves per tree, fixed when the ledger was created (a power of two, 2^5…2^20).
    public var treeCapacity: Int
    /// The open tree's leaf commitments, by position (global index − tree × capacity); empty
    /// when `frontier` is given.
    public var leaves: [Fr]
    /// The open tree as the frontier stored with the last batch (issue 16: a node starts
    /// without replaying the open tree's leaves), when it was asked for and is stored; its
    /// leaf count is the last header's. Nil: the tree is `leaves`.
    public var frontier: [Fr]?
    /// Every spent nullifier.
    public var spentNullifiers: [Fr]
    /// The newest headers, oldest first (at most `recentRootWindow`), for the accepted roots.
    /// With several open trees they are of every lane; `tree` and `frontier` are then of lane
    /// `lane`, whose last header is `lanes[lane].header`.
    public var recentHeaders: [BatchHeader]
    /// Every lane's last batch and open tree (`OpenTrees`), by lane; empty with one open tree.
    public var lanes: [LaneTip] = []
    /// The lane of `tree` (0 with one open tree).
    public var lane = 0
    /// The nonces of every used deposit voucher.
    public var usedVouchers: [[UInt8]]

    public init(tree: Int64 = 0, treeCapacity: Int = TreeCapacity.maximum, leaves: [Fr], frontier: [Fr]? = nil, spentNullifiers: [Fr],
                recentHeaders: [BatchHeader], usedVouchers: [[UInt8]] = []) {
        self.tree = tree; self.treeCapacity = treeCapacity; self.leaves = leaves; self.frontier = frontier
        self.spentNullifiers = spentNullifiers; self.recentHeaders = recentHeaders; self.usedVouchers = usedVouchers
    }

    /// The last batch of the snapshot's tree's lane.
    public var lastHeader: BatchHeader? { lanes.isEmpty ? recentHeaders.last : lanes[lane].header }
    /// Leaves in the open tree.
    public var treeLeafCount: Int { frontier == nil ? leaves.count : Int(lastHeader?.leafCount ?? 0) }
}

/// Where one lane of a ledger of several open trees stands: its last batch (nil: none yet) and
/// the frontier stored with it, its open tree after it (`MerkleTree(frontier:count:)`). A
/// writer moves to the lane from this alone, without reading its leaves.
public struct LaneTip: Sendable, Equatable {
    public var header: BatchHeader?
    public var frontier: [Fr]

    public init(header: BatchHeader? = nil, frontier: [Fr] = []) { self.header = header; self.frontier = frontier }

    /// The lane's last batch number (0: none).
    public var number: Int64 { header?.number ?? 0 }
}

/// Counts for operators.
public struct LedgerCounts: Sendable, Equatable {
    public var batches: Int64
    public var transfers: Int64
    public var nullifiers: Int64
    public var leaves: Int64
    public var pendingPayouts: Int64
    /// Deposit vouchers used (one per deposit since vouchers replaced the deposit token).
    public var vouchersUsed: Int64
    /// The sum of the fees of every settled transfer: what the operator has earned (fees are
    /// public, in each transfer's external data).
    public var feesAccrued: Int64

    public init(batches: Int64, transfers: Int64, nullifiers: Int64, leaves: Int64, pendingPayouts: Int64, vouchersUsed: Int64 = 0,
                feesAccrued: Int64 = 0) {
        self.batches = batches; self.transfers = transfers; self.nullifiers = nullifiers
        self.leaves = leaves; self.pendingPayouts = pendingPayouts; self.vouchersUsed = vouchersUsed; self.feesAccrued = feesAccrued
    }
}

/// The records an operator lists (`zksettle-admin`): counts, spent nullifiers, batch headers,
/// payouts. A ledger serves them, and so does a running server's admin API, which is why they
/// are a protocol of their own, without the pipeline's reads.
public protocol LedgerListing {
    func counts() throws -> LedgerCounts
    /// Spent nullifiers in spending order, optionally of one batch or spent at or after a time (Unix ms).
    func nullifiers(batch: Int64?, since: Int64?, limit: Int, offset: Int) throws -> [NullifierRecord]
    func nullifier(_ nf: Fr) throws -> NullifierRecord?
    /// Up to `limit` batch headers from `number` on, in order.
    func batchHeaders(from number: Int64, limit: Int) throws -> [BatchHeader]
    func batchHeader(_ number: Int64) throws -> BatchHeader?
    func payouts(pendingOnly: Bool) throws -> [Payout]
    /// The id of the payout a withdrawal made (nil: the transfer made none).
    func payoutID(forTransfer id: TransferID) throws -> Int64?
}

/// The reading half of durable settled history: what the pipeline loads at start and asks at
/// admission, what the API serves, the listings, and the audits. Reads may come from any
/// thread, beside a writer (each is one consistent snapshot).
public protocol LedgerReader: LedgerListing, AnyObject, Sendable {
    /// Leaves per commitment tree (`TreeCapacity`), fixed for the ledger's life.
    var treeCapacity: Int { get }
    /// Trees that accept leaves at once (`OpenTrees`), fixed for the ledger's life: 1 but on a
    /// PostgreSQL ledger made with more.
    var openTrees: Int { get }
    /// State to rebuild the tree, the spent set and the root window on start: the open tree's
    /// leaves, or with `treeFromFrontier` the frontier stored with the last batch when there is
    /// one (the leaves are then counted, not read).
    /// With several open trees, the tree (always from its frontier) is lane `lane`'s open tree,
    /// and the snapshot names every lane's last batch and frontier (`lanes`).
    func loadSnapshot(recentRootWindow: Int, treeFromFrontier: Bool, lane: Int) throws -> LedgerSnapshot
    func settledTransfer(_ id: TransferID) throws -> SettledTransfer?
    /// The first batch whose root is `root` (nil: the tree never had that root after a batch).
    /// Indexed: admission asks it for roots older than the recent window.
    func batchNumber(ofRoot root: Fr) throws -> Int64?
    /// Leaves from global index `index` up to (not including) `end`, in index order, at most
    /// `limit`. A range within one tree (`tree × capacity ..< (tree + 1) × capacity`) is gap-free
    /// up to the tree's last leaf; across trees of several lanes it is not (`OpenTrees`).
    func leaves(from index: Int64, below end: Int64, limit: Int) throws -> [LeafRecord]
    /// The commitments alone of leaves `index..<min(end, index+limit)` (a closed tree rebuilt for
    /// a path or subtree page: a million leaves' ciphertexts would be ~230 MB more to read).
    func leafCommitments(from index: Int64, below end: Int64, limit: Int) throws -> [Fr]
    /// Spent nullifiers from position `index` up to `end`, at most `limit` (see `PublicSpend`):
    /// what `GET /v1/nullifiers` serves to every wallet alike, one tree at a time.
    func spends(from index: Int64, below end: Int64, limit: Int) throws -> [PublicSpend]
    /// The used voucher with this nonce, if any.
    func usedVoucher(nonce: [UInt8]) throws -> VoucherRecord?
    /// Every fault in the stored ledger (empty if sound): the chain, the trees, each transfer
    /// against its records, and the signatures the given keys can check.
    func audit(receiptPublicKey: [UInt8]?, depositPublicKey: [UInt8]?) throws -> [LedgerFault]
    /// Every stored proof re-verified against `verifyingKey`, `chunk` at a time, reporting
    /// (done, total) as it goes.
    func auditProofs(verifyingKey: VerifyingKey, chunk: Int, progress: (Int, Int) -> Void) throws -> (checked: Int, faults: [LedgerFault])
    /// What was committed after batch `after` (by this process or, on a shared ledger, by any
    /// other node): what a writer whose state ends at `after` must learn before it extends the
    /// chain. Reads only the new rows (indexed by batch).
    func changes(after batch: Int64) throws -> LedgerChanges
    /// The number of the last stored batch (0 for none): one indexed read, what a node asks to
    /// learn whether others committed since.
    func lastBatchNumber() throws -> Int64
    /// The number of each lane's last stored batch (0 for none), by lane (`OpenTrees`): one
    /// indexed probe per lane. `[lastBatchNumber()]` with one open tree.
    func laneHeads() throws -> [Int64]
    /// `changes(after:)` of one lane: what lane `lane` committed after its batch `after`, the
    /// tree as the frontier stored with the lane's last batch. Lane 0 of one open tree is
    /// `changes(after:)`.
    func changes(lane: Int, after batch: Int64) throws -> LedgerChanges
}

/// The batches committed after some batch, as a writer needs them to catch up: their headers
/// in order, the last one's tree as its stored frontier or (when none is stored) the leaves'
/// commitments in leaf order, their nullifiers and voucher nonces.
public struct LedgerChanges: Sendable {
    public var headers: [BatchHeader]
    /// (global leaf index, commitment), ascending and gap-free; empty when `frontier` is given.
    public var leaves: [(index: Int64, commitment: Fr)]
    /// The frontier stored with the last header (issue 16): its tree after it, without the
    /// leaves. Nil when that batch has none stored (written before schema 5); then `leaves`.
    public var frontier: [Fr]?
    public var nullifiers: [Fr]
    public var voucherNonces: [[UInt8]]

    public init(headers: [BatchHeader] = [], leaves: [(index: Int64, commitment: Fr)] = [], frontier: [Fr]? = nil, nullifiers: [Fr] = [],
                voucherNonces: [[UInt8]] = []) {
        self.headers = headers; self.leaves = leaves; self.frontier = frontier; self.nullifiers = nullifiers; self.voucherNonces = voucherNonces
    }
}

/// The writing half. There are two writers: the settlement pipeline appends each batch
/// (`commit`), and the operator marks payouts paid (`markPayoutPaid`, through the admin API).
public protocol LedgerWriter: AnyObject, Sendable {
    /// Writes a whole batch atomically; durable when it returns. Throws and writes nothing if
    /// any row conflicts (a nullifier or leaf index already present, a broken header chain).
    func commit(_ batch: BatchCommit) throws
    /// One writer at a time in lane `lane` across every process that shares the ledger (issue
    /// 16): takes the lane's writer lock, calls `prepare` with the number of the lane's last
    /// stored batch (0 for none), commits the batch it returns (nil: nothing to write) and
    /// releases the lock. A writer whose state is older than that batch catches up
    /// (`changes(after:)`) inside `prepare`, so the batch it builds extends the stored chain and
    /// the database, not the writer's memory, decides which of two transfers spending one
    /// nullifier came first. Throws `prepare`'s error, or the commit's, and writes nothing then.
    ///
    /// A ledger of one open tree has one lane, 0 (`commit(after:)`). With several (`OpenTrees`),
    /// writers of different lanes commit at once, and a nullifier or voucher another lane stored
    /// first fails the whole batch (`nullifierAlreadySpent`, `voucherAlreadyUsed`): nothing is
    /// written, and the writer learns the spent nullifiers and builds its batch again.
    func commit(lane: Int, after prepare: (_ lastBatchOfLane: Int64) throws -> BatchCommit?) throws
    /// `commit(lane:after:)` in the first of `lanes` whose writer lock is free (a node takes any
    /// free tree), or, when every one is taken, in `lanes[0]` once its lock is free. `prepare`
    /// gets the lane and its last batch number.
    func commit(anyOf lanes: [Int], after prepare: (_ lane: Int, _ lastBatchOfLane: Int64) throws -> BatchCommit?) throws
    /// Marks a pending payout paid; false if there is no such pending payout.
    func markPayoutPaid(_ id: Int64, at time: Int64) throws -> Bool
}

/// Durable storage of settled history, read and written: `SQLiteLedger` (one file, one
/// process) and `PostgresLedger` (one database, any number of nodes).
public typealias Ledger = LedgerReader & LedgerWriter

/// The recent roots a ledger lists (`GET /v1/tree`) and a sequencer keeps in memory; older roots
/// stay anchors, looked up in the ledger.
public enum RootWindow {
    public static let defaultSize = 100
}

/// How many leaves a commitment tree holds before the next one starts (issue 14). Every tree
/// is the circuit's depth-20 tree; a smaller capacity only rolls over earlier (tests, and
/// operators who want smaller trees). A power of two from 2^5 (one wallet leaf group) to 2^20,
/// so leaf groups never straddle two trees; fixed for a ledger when it is created.
public enum TreeCapacity {
    public static let minimum = 1 << MerkleTree.groupHeight
    public static let maximum = MerkleTree.capacity

    /// Nil if `n` is valid, else why not.
    public static func problem(_ n: Int) -> String? {
        if n < minimum || n > maximum || n & (n - 1) != 0 {
            return "the tree capacity must be a power of two from \(minimum) to \(maximum) (2^5 to 2^20), not \(n)"
        }
        return nil
    }

    /// The tree holding global leaf `index`, and the leaf's position in it.
    public static func locate(_ index: Int64, capacity: Int) -> (tree: Int64, position: Int) {
        (index / Int64(capacity), Int(index % Int64(capacity)))
    }
}

/// Open trees (issue 16, "parallel trees"): a ledger made with K open trees has K lanes, each
/// with its own hash chain, writer lock and open tree, so K writers commit at once. Lane l
/// holds trees l, l + K, l + 2K, … (a full tree is followed by the lane's next) and batches
/// l + 1, l + 1 + K, l + 1 + 2K, …: batch n's lane is (n − 1) mod K, and its header names the
/// hash of batch n − K (the genesis hash for n ≤ K). Numbers need no counter shared between
/// lanes, and within a lane they are gap-free, as leaf indices are within a tree; across lanes
/// they say nothing about order. Leaf indices stay global (tree × capacity + position).
/// Nullifiers and vouchers stay unique across every lane (one table, one key). With K = 1
/// this is the single chain and the trees 0, 1, 2, … of every ledger before.
public enum OpenTrees {
    /// 64 lanes: far past what the plan in SCALING.md needs (10–16).
    public static let maximum = 64

    /// Nil if `k` is valid, else why not.
    public static func problem(_ k: Int) -> String? {
        (1...maximum).contains(k) ? nil : "the number of open trees must be between 1 and \(maximum), not \(k)"
    }

    /// Throws unless `lane` is one of a ledger of `openTrees` open trees (what every engine's
    /// lane-taking call checks first).
    public static func check(lane: Int, of openTrees: Int) throws(LedgerError) {
        guard !(0..<openTrees).contains(lane) else { return }
        throw .storage(openTrees == 1
            ? "lane \(lane) does not exist: this ledger has one open tree (lane 0); several need a PostgreSQL ledger made with them"
            : "lane \(lane) does not exist: this ledger has \(openTrees) open trees (lanes 0 to \(openTrees - 1))")
    }

    public static func lane(ofBatch number: Int64, openTrees: Int) -> Int { Int((number - 1) % Int64(openTrees)) }
    public static func lane(ofTree tree: Int64, openTrees: Int) -> Int { Int(tree % Int64(openTrees)) }
    /// The number of the batch after `number` in its lane, or the lane's first.
    public static func nextBatch(after number: Int64?, lane: Int, openTrees: Int) -> Int64 {
        number.map { $0 + Int64(openTrees) } ?? Int64(lane + 1)
    }
}

@inline(__always)
func bigEndian(_ v: UInt64, _ n: Int) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * (n - 1 - $0))) }
}

extension LedgerWriter {
    /// The one writer of a ledger of one open tree (lane 0 of one with more).
    public func commit(after prepare: (_ lastBatch: Int64) throws -> BatchCommit?) throws {
        try commit(lane: 0, after: prepare)
    }
}

extension LedgerReader {
    /// `leaves(from:below:limit:)` with no upper bound (one open tree: the global order).
    public func leaves(from index: Int64, limit: Int) throws -> [LeafRecord] { try leaves(from: index, below: .max, limit: limit) }
    public func leafCommitments(from index: Int64, limit: Int) throws -> [Fr] { try leafCommitments(from: index, below: .max, limit: limit) }
    public func spends(from index: Int64, limit: Int) throws -> [PublicSpend] { try spends(from: index, below: .max, limit: limit) }

    /// `loadSnapshot` with the open tree's leaves.
    public func loadSnapshot(recentRootWindow: Int) throws -> LedgerSnapshot {
        try loadSnapshot(recentRootWindow: recentRootWindow, treeFromFrontier: false, lane: 0)
    }

    /// `loadSnapshot` of lane 0.
    public func loadSnapshot(recentRootWindow: Int, treeFromFrontier: Bool) throws -> LedgerSnapshot {
        try loadSnapshot(recentRootWindow: recentRootWindow, treeFromFrontier: treeFromFrontier, lane: 0)
    }

    /// When each batch in `numbers` settled (its header's `createdAt`, ms since 1970), from one
    /// read of the headers `min…max` (a page of leaves or spends covers a contiguous run of
    /// batches). A number with no batch is absent from the answer.
    public func batchTimes(_ numbers: some Sequence<Int64>) throws -> [Int64: Int64] {
        guard let lo = numbers.min(), let hi = numbers.max(), lo >= 1 else { return [:] }
        let wanted = Set(numbers)
        var out: [Int64: Int64] = [:]
        for h in try batchHeaders(from: lo, limit: Int(hi - lo + 1)) where wanted.contains(h.number) { out[h.number] = h.createdAt }
        return out
    }
}
