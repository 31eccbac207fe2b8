import BN254
import Foundation
import Primitives
import Protocol

/// Tunables of the settlement pipeline (the server exposes each as a flag).
public struct SettlementConfig: Sendable {
    /// Proofs per verification batch (flush when reached).
    public var maxBatch: Int = 64
    /// Longest a proof waits for its batch to fill, milliseconds.
    public var flushMilliseconds: Int = 5
    /// Verifier threads (default: one per core).
    public var workers: Int = coreCount
    /// Admitted transfers waiting for verification or commit; beyond it, 503 overloaded.
    public var queueCapacity: Int = 4096
    /// The public key of the operator's deposit key, which signs deposit vouchers; nil
    /// disables deposits.
    public var depositPublicKey: [UInt8]?
    /// The key of the vouchers' tags (`DepositVoucher.macKey(for:)`), derived from the deposit
    /// key: admission accepts a voucher on its tag, which covers its signature (the audit checks
    /// the signature itself). Nil with deposits disabled.
    public var depositMacKey: [UInt8]?

    /// Deposits paid by vouchers of `key` (nil: no deposits).
    public mutating func acceptDeposits(of key: Ed25519Key?) {
        depositPublicKey = key?.publicKey
        depositMacKey = key.map(DepositVoucher.macKey(for:))
    }
    /// Recent roots kept in memory (and listed by `/v1/tree` as `accepted_roots`). Older
    /// roots stay accepted through the ledger when `acceptsHistoricalRoots` is on.
    public var rootWindow: Int = SequencerState.defaultRootWindow
    /// Accept every root the tree ever had (the tree is append-only, so each is a safe
    /// anchor), not only the recent window. Off only to exercise a client's `unknown_root` path.
    public var acceptsHistoricalRoots = true
    /// Older roots found in the ledger that are remembered (two generations of this many).
    public var rootCacheCapacity = 4096
    /// Threads for blocking ledger reads of HTTP handlers and admission.
    public var readThreads = 4
    /// Other nodes write the same ledger (PostgreSQL, issue 16). Admission then refuses only
    /// what is committed: a transfer whose nullifier or voucher another transfer holds in
    /// flight *here* may still be the one the ledger settles (another node may commit it
    /// first), so it is admitted and the sequencer decides, in the database's order. Alone
    /// on its ledger, a node refuses it at once: the one in flight is ahead of it.
    public var sharedLedger = false
    /// On a ledger of several open trees (`OpenTrees`), the lane this node writes first (nil:
    /// one at random); it moves to any free lane per batch. Nodes pinned to distinct lanes
    /// seldom wait on each other's lock.
    public var firstLane: Int?

    // Spam (issue 14, point 4). A client is a source address (an IPv6 client its /64).
    /// The lowest fee a transfer that spends notes (ext amount ≤ 0) may pay (0: free transfers
    /// are accepted); below it, 422 `fee_too_low`. Deposits are authorized by the operator and exempt.
    public var minFee: UInt64 = 0
    /// Transfers one client may have admitted and not yet settled (its own and other proofs of
    /// in-flight transfers); beyond it, 429 `rate_limited`. 0: no limit.
    public var clientMaxInFlight = 1024
    /// Transfers one client may offer per second, on average (a token bucket holding one
    /// second's worth); beyond it, 429 `rate_limited`. 0: no limit.
    public var clientRate = 0
    /// Seconds a client whose proof did not verify stays on probation: its transfers are then
    /// verified one at a time on their own thread, never in the batches of other clients.
    public var probationSeconds = 60
    /// Transfers of clients on probation waiting for that thread, all clients together;
    /// beyond it, 429 `rate_limited`.
    public var probationQueue = 64

    public init() {}
}
