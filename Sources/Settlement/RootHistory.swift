import BN254
import Foundation
import Ledger

/// Every root the tree ever had, for admission and the sequencer (issue 14: "every root stays an
/// anchor"). The tree is append-only, so an old root is as safe an anchor as the newest one.
///
/// Recent roots live in the sequencer's window; this answers for the others: the empty tree's
/// root at once, a root found before from a bounded cache, any other through the ledger's index
/// of batch roots (`LedgerReader.batchNumber(ofRoot:)`, one indexed read). The cache keeps found roots
/// only: a root never seen may still become a root later, so misses are always asked again.
/// The cache is two generations of `capacity` each (a cheap LRU: a hit in the old generation
/// moves to the new one; when the new one is full the old one is dropped).
public final class RootHistory: @unchecked Sendable {
    private let ledger: any LedgerReader
    private let capacity: Int
    private let lock = NSLock()
    private var young: Set<Fr> = []
    private var old: Set<Fr> = []

    public init(ledger: any LedgerReader, capacity: Int = 4096) {
        self.ledger = ledger
        self.capacity = max(1, capacity)
    }

    /// Whether the tree ever had `root`. A failed ledger read counts as "not known" (the
    /// transfer is refused as `unknown_root` and may be posted again), never as known.
    public func contains(_ root: Fr) -> Bool {
        if root == SequencerState.emptyRoot { return true }
        if cached(root) { return true }
        guard (try? ledger.batchNumber(ofRoot: root)) != nil else { return false }
        remember(root)
        return true
    }

    /// The membership function the sequencer state holds.
    public var membership: RootMembership { { [self] root in self.contains(root) } }

    private func cached(_ root: Fr) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if young.contains(root) { return true }
        if old.contains(root) { insertLocked(root); return true }
        return false
    }

    private func remember(_ root: Fr) {
        lock.lock(); defer { lock.unlock() }
        insertLocked(root)
    }

    private func insertLocked(_ root: Fr) {
        if young.count >= capacity { old = young; young = [] }
        young.insert(root)
    }
}
