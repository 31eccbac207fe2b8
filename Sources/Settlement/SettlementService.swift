import BN254
import Foundation
import Groth16
import Ledger
import Logging
import Metrics
import Primitives
import Protocol

/// The settlement pipeline of DESIGN.md section 5:
///
///     intake ─► admission (no pairings) ─► verifier pool ─► sequencer (arrival order)
///            ─► one SQLite transaction per batch ─► reply to every waiting client
///
/// `admit` answers once the transfer is admitted or refused; the handle it returns (and
/// `submit`, which waits on it) gives the outcome once the transfer's batch is durable.
/// Admission rejects early what it can (ext data, a deposit's voucher, unknown root, spent or
/// in-flight nullifiers and vouchers, a full queue); the sequencer re-checks everything against committed
/// state, so admission is an optimization, never the authority.
///
/// The rules are the pure state machines `Admission` and `SequencerState`; this class is their
/// shell: the lock, the threads (verifier pool, probation lane, sequencer), the ledger calls,
/// the metrics, and the handles clients wait on.
///
/// Accepted roots: every root the tree ever had (the recent window in memory, older ones
/// through `RootHistory` over the ledger's index), unless `config.acceptsHistoricalRoots` is off.
public final class SettlementService: @unchecked Sendable {
    public let config: SettlementConfig
    public let ledger: any Ledger
    public let receiptKey: Ed25519Key
    public let verifyingKey: VerifyingKey
    let logger: Logger
    /// Roots older than the window (nil: `acceptsHistoricalRoots` is off).
    let rootHistory: RootHistory?
    /// Threads for blocking ledger reads asked from async code (`read`, admission).
    public let readers: BlockingPool
    /// Leaves per tree, fixed for the ledger (`TreeCapacity`).
    public let treeCapacity: Int
    private let pvk: PreparedVerifyingKey

    // The verifiers hand their results to this service, so they are made with it as their sink
    // (`lazy`: the closures need `self`); `init` makes both, and they are only read after.
    private lazy var pool = VerifierPool(pvk: pvk, config: config) { [weak self] items, seqs, stats in
        self?.verified(items, seqs, stats)
    }
    private lazy var lane = ProbationLane(pvk: pvk) { [weak self] item, valid in self?.laneVerified(item, valid: valid) }

    // Guarded by `lock`.
    let lock = NSLock()
    var state: SequencerState
    /// The sequencer thread's own copy, mutated in place (O(batch) per batch); `state`, which
    /// readers see, follows it only after each batch is durable.
    private var working: SequencerState
    var admission: Admission<PendingSettlement>

    // Guarded by `sequencerCondition`.
    private let sequencerCondition = NSCondition()
    private var ready: [Int64: VerifiedTransfer] = [:]
    private var nextToApply: Int64 = 0
    private var sequencerStopping = false
    /// Readers waiting for the state to catch up with batches other nodes committed (shared
    /// ledger only); the sequencer thread catches up, between batches.
    private var catchUpWaiters: [CheckedContinuation<Void, Never>] = []
    private var sequencerThread: Thread?
    private let drained = NSCondition()
    // The last closed tree rebuilt for a path or subtree page (`withTree`).
    let closedTreeLock = NSLock()
    var closedTree: (number: Int64, tree: MerkleTree)?
    // The open tree with all its nodes, when the sequencer holds it pruned (`servedOpenTree`).
    let openTreeLock = NSLock()
    var openTree: (number: Int64, tree: MerkleTree)?
    // Trees of other lanes (several open trees) as far as the ledger holds them, by number,
    // followed by appending the leaves stored since (`followedTree`).
    let laneTreesLock = NSLock()
    var laneTrees: [Int64: MerkleTree] = [:]

    // Metrics (swift-metrics; the server bootstraps a Prometheus backend).
    private let settledCounter = Counter(label: "zksettle_transfers_settled_total")
    private let batchSizeRecorder = Recorder(label: "zksettle_verify_batch_size")
    private let verifyTimer = Metrics.Timer(label: "zksettle_verify_batch_seconds")
    private let commitTimer = Metrics.Timer(label: "zksettle_commit_batch_seconds")
    private let bisectionCounter = Counter(label: "zksettle_verify_bisections_total")
    private let queueGauge = Gauge(label: "zksettle_queue_depth")
    private let catchUpCounter = Counter(label: "zksettle_ledger_catchups_total")
    /// Batches built again under the writer lock because another node committed first.
    private let rebuiltCounter = Counter(label: "zksettle_batches_rebuilt_total")

    public init(config: SettlementConfig, ledger: any Ledger, verifyingKey: VerifyingKey, receiptKey: Ed25519Key,
                logger: Logger = Logger(label: "zksettle.settlement")) throws {
        self.config = config
        self.ledger = ledger
        self.verifyingKey = verifyingKey
        self.receiptKey = receiptKey
        self.logger = logger
        rootHistory = config.acceptsHistoricalRoots ? RootHistory(ledger: ledger, capacity: config.rootCacheCapacity) : nil
        readers = BlockingPool(threads: config.readThreads, name: "zksettle-read")
        // Several open trees: nodes start in lanes chosen at random, so that they seldom ask for
        // one lane's lock at once (each moves to any free lane per batch anyway).
        let startLane = ledger.openTrees > 1 ? (config.firstLane ?? Int.random(in: 0..<ledger.openTrees)) % ledger.openTrees : 0
        let snapshot = try ledger.loadSnapshot(recentRootWindow: config.rootWindow, treeFromFrontier: true, lane: startLane)
        state = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow, olderRoots: rootHistory?.membership)
        treeCapacity = state.treeCapacity
        working = state
        admission = Admission(config: config)
        pvk = PreparedVerifyingKey(verifyingKey)
        _ = pool
        _ = lane
        logger.info("ledger loaded", metadata: [
            "tree": "\(snapshot.tree)", "tree_leaves": "\(snapshot.treeLeafCount)", "tree_from_frontier": "\(snapshot.frontier != nil)", "tree_capacity": "\(snapshot.treeCapacity)", "nullifiers": "\(snapshot.spentNullifiers.count)",
            "last_batch": "\(snapshot.lastHeader?.number ?? 0)", "root": "\(state.currentRoot)",
            "open_trees": "\(ledger.openTrees)", "lane": "\(state.lane)",
        ])
    }

    /// Starts the verifier threads and the sequencer.
    public func start() {
        lock.withLock { admission.startAccepting() }
        pool.start()
        lane.start()
        let t = Thread { [self] in self.sequencerLoop() }
        t.name = "zksettle-sequencer"
        sequencerThread = t
        t.start()
        warmServedOpenTree()
    }

    /// The sequencer started from the open tree's stored frontier (issue 16: no leaf replayed
    /// before settling starts); the copy that serves paths and subtree pages is built from the
    /// ledger's leaves now, on a reader thread, instead of on the first wallet's request.
    private func warmServedOpenTree() {
        guard lock.withLock({ !state.tree.holdsAllNodes }) else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        Task { [self, logger] in
            do {
                let leaves = try await readers.run { try self.withTree(nil) { tree, _ in tree.count } }
                logger.info("open tree ready for readers", metadata: [
                    "leaves": "\(leaves)", "seconds": "\(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)",
                ])
            } catch {
                logger.error("building the open tree for readers failed (the next read retries)", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Intake

    /// Admits, verifies and settles a transfer; returns once its batch is durable. A transfer
    /// that already settled (same public inputs) returns its original settlement; one that is
    /// in flight with the same proof joins the waiting clients.
    public func submit(_ request: TransferRequest, client: String? = nil) async -> Result<SettledTransfer, Rejection> {
        switch await admit(request, client: client) {
        case .failure(let r): return .failure(r)
        case .success(let pending): return await pending.wait()
        }
    }

    /// Admission alone: a refusal now (`unknown_root`, `double_spend`, `overloaded`, …), or the
    /// handle on which the outcome arrives once the batch is durable. `POST /v1/transfers?wait=false`
    /// answers 202 only after this, so no refusal is lost. A re-submission of a settled
    /// transfer gets a handle that already holds the original settlement.
    ///
    /// `client` names the sender (the HTTP layer passes its source address) for the per-client
    /// limits of `SettlementConfig`: every offer takes a token of its bucket, and a client on
    /// probation is verified alone. nil: no per-client limits.
    public func admit(_ request: TransferRequest, client: String? = nil) async -> Result<PendingSettlement, Rejection> {
        if config.clientRate > 0, client != nil {
            let now = AdmissionTime.now
            if let refusal = lock.withLock({ admission.takeToken(client: client, now: now) }) { return reject(refusal) }
        }
        // Outside the lock: from the (immutable) configuration only, never from `admission`,
        // which other threads change under the lock.
        if let problem = Admission<PendingSettlement>.precheck(request, config: config) { return reject(problem) }
        let id = request.id
        // The proof's canonical snarkjs bytes: what the ledger stores, and what tells another
        // proof of the same transfer from a re-submission of this one. Encoded once, here.
        let proof = Array(SnarkJS.encode(request.proof))
        // A root outside the recent window: one indexed ledger read, off the cooperative pool
        // and outside the lock. A root the tree had stays one, so the answer cannot go stale.
        let root = request.publicInputs.root
        var rootKnown = lock.withLock { state.isRecentRoot(root) }
        if !rootKnown, let history = rootHistory {
            rootKnown = await readers.perform { history.contains(root) }
        }
        let handle = PendingSettlement(id: id)
        let action: Admission<PendingSettlement>.Action = lock.withLock {
            let action = admission.admit(request, proof: proof, client: client, rootKnown: rootKnown, handle: handle,
                                         state: state, now: .now)
            queueGauge.record(admission.pending)
            return action
        }
        switch action {
        case .joined(let pending):
            return .success(pending)
        case .enqueue(let route, let pending):
            send(route)
            return .success(pending)
        case .rejected(let r):
            return reject(r)
        case .spentNullifier(let nf):
            // A spent nullifier: a re-submission of a settled transfer is not an error.
            let ledger = self.ledger
            if let t = await readers.perform({ try? ledger.settledTransfer(id) }) {
                return .success(PendingSettlement(id: id, outcome: .success(t)))
            }
            return reject(.doubleSpend(nf))
        }
    }

    private func reject<T>(_ r: Rejection) -> Result<T, Rejection> {
        countRejection(r)
        return .failure(r)
    }

    private func countRejection(_ r: Rejection) {
        Counter(label: "zksettle_transfers_rejected_total", dimensions: [("reason", r.code)]).increment()
    }

    private func send(_ route: Route) {
        switch route {
        case .batch(let item): pool.enqueue(item)
        case .lane(let item): lane.enqueue(item)
        }
    }

    // MARK: Verified → sequenced → committed

    /// A proof of the probation lane was checked. One that verifies goes to the sequencer like
    /// a batch result; one that does not is refused (`Admission.laneFailed`).
    private func laneVerified(_ item: ProbationItem, valid: Bool) {
        if valid {
            let next = lock.withLock { admission.lanePassed(item, now: .now) }
            deliverToSequencer([VerifiedTransfer(request: item.request, proofJSON: item.proofJSON, proofValid: true)], [next.sequence])
            return
        }
        let (outcome, empty) = lock.withLock {
            let outcome = admission.laneFailed(item, now: .now)
            queueGauge.record(admission.pending)
            return (outcome, admission.pending == 0)
        }
        for route in outcome.requeue { send(route) }
        for reply in outcome.replies { reply.handle.resolve(reply.result) }
        countRejection(.invalidProof)
        if empty { signalDrained() }
    }

    private func verified(_ items: [VerifiedTransfer], _ sequences: [Int64], _ stats: VerifierPool.BatchStats) {
        batchSizeRecorder.record(stats.size)
        verifyTimer.recordNanoseconds(Int64(stats.verifyNanoseconds))
        if stats.bisections > 0 { bisectionCounter.increment(by: stats.bisections) }
        if stats.invalid > 0 {
            let failed = items.filter { !$0.proofValid }.map(\.request.id)
            lock.withLock { admission.proofsFailed(failed, now: .now) }
        }
        deliverToSequencer(items, sequences)
    }

    private func deliverToSequencer(_ items: [VerifiedTransfer], _ sequences: [Int64]) {
        sequencerCondition.lock()
        for (item, seq) in zip(items, sequences) { ready[seq] = item }
        sequencerCondition.signal()
        sequencerCondition.unlock()
    }

    private func sequencerLoop() {
        while true {
            sequencerCondition.lock()
            while ready[nextToApply] == nil && !sequencerStopping && catchUpWaiters.isEmpty { sequencerCondition.wait() }
            if !catchUpWaiters.isEmpty {
                let waiters = catchUpWaiters
                catchUpWaiters = []
                sequencerCondition.unlock()
                catchUpBetweenBatches()
                for w in waiters { w.resume() }
                continue
            }
            if ready[nextToApply] == nil && sequencerStopping { sequencerCondition.unlock(); return }
            var items: [VerifiedTransfer] = []
            // The count first: removing an item and then leaving the loop would drop it, and
            // `nextToApply` would wait for it forever (issue 14: settlement and shutdown stalled
            // whenever more than four batches' worth was ready at once).
            while items.count < 4 * config.maxBatch, let item = ready.removeValue(forKey: nextToApply) {
                items.append(item)
                nextToApply += 1
            }
            sequencerCondition.unlock()
            applyAndCommit(items)
        }
    }

    /// Applies and commits `items` as one batch, or as two when the open tree fills up among
    /// them: the transfers that did not fit go into the next batch, which starts the next tree.
    private func applyAndCommit(_ items: [VerifiedTransfer]) {
        var rest = items[...]
        while !rest.isEmpty {
            let decided = applyAndCommitOnce(Array(rest))
            precondition(decided > 0, "a batch decides at least its first transfer")
            rest = rest.dropFirst(decided)
        }
    }

    /// One batch; returns how many of `items` (a prefix) it decided.
    ///
    /// The batch is built on what this node knows, outside the ledger's writer lock, and the
    /// lock is held only to write it (`commit(anyOf:after:)`). If another node committed in
    /// between (a shared ledger), the batch is undone, that node's batches are learned
    /// (`catchUp`) and the batch is built again under the lock: the database's order decides
    /// every conflict and the chain never forks, and the lock is held for the write alone when
    /// nodes do not race.
    ///
    /// With several open trees the node writes in whichever lane's lock is free, its own first
    /// (moving to another lane rebuilds the batch there from that lane's stored frontier), and
    /// a nullifier, voucher or transfer another lane stored first refuses the whole batch in
    /// the database: the node then learns every lane's new batches and builds it again, until
    /// it lands (each round decides at least the conflicting transfers).
    private func applyAndCommitOnce(_ all: [VerifiedTransfer]) -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var base = working.lastHeader?.number ?? 0
        var appliedLane = working.lane
        var applied = working.apply(upToTreeEnd: all, now: now, key: receiptKey)
        var decisions = applied.decisions
        var decided = applied.decided
        var committed: BatchCommit?
        let t0 = DispatchTime.now().uptimeNanoseconds
        var storedElsewhere = 0
        /// Back to the published state (the last durable one, with what was learned since).
        func undo() {
            if let undone = applied.commit {
                working.revert(to: lock.withLock { state }, nullifiers: undone.nullifiers.map(\.nullifier),
                               voucherNonces: undone.vouchers.map(\.voucher.nonce))
            }
        }
        do {
            while true {
                do {
                    try ledger.commit(anyOf: laneOrder()) { lane, lastBatch in
                        if lane == appliedLane && lastBatch == base { return applied.commit }
                        undo()
                        try catchUp(lane: lane, after: working.tip(of: lane).number, to: lastBatch)
                        try working.switchLane(to: lane)
                        base = working.lastHeader?.number ?? 0
                        appliedLane = lane
                        applied = working.apply(upToTreeEnd: all, now: now, key: receiptKey)
                        rebuiltCounter.increment()
                        return applied.commit
                    }
                    break
                } catch let e as LedgerError where e.isStoredFirstElsewhere && ledger.openTrees > 1 && storedElsewhere < 2 * config.maxBatch {
                    // Another lane stored it first; nothing was written.
                    storedElsewhere += 1
                    undo()
                    try catchUpAllLanes()
                    base = working.lastHeader?.number ?? 0
                    appliedLane = working.lane
                    applied = working.apply(upToTreeEnd: all, now: now, key: receiptKey)
                    rebuiltCounter.increment()
                }
            }
            decisions = applied.decisions
            decided = applied.decided
            committed = applied.commit
            if let batch = committed {
                // The commit's latency (the writer lock, a catch-up, the database's durable
                // commit) and each tree's batch rate, for operators of a shared ledger.
                commitTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - t0))
                Counter(label: "zksettle_batches_committed_total", dimensions: [("tree", "\(batch.header.tree)")]).increment()
                logger.debug("batch committed", metadata: ["batch": "\(batch.header.number)", "transfers": "\(batch.transfers.count)", "root": "\(batch.header.root)"])
            }
        } catch {
            if let batch = applied.commit {
                decisions = recoverFromFailedCommit(batch, applied.decisions, error)
                decided = applied.decided
            } else {
                // Nothing was written, and nothing was to be: the lock or the catch-up failed.
                // The working state may be half caught up, so it is reloaded.
                logger.error("batch not written", metadata: ["error": "\(error)"])
                reloadState()
                decisions = all.map { _ in .rejected(.storageFailure("\(error)")) }
                decided = all.count
            }
        }
        let items = Array(all[..<decided])
        decisions = settledElsewhere(items, decisions)
        let clock = AdmissionTime.now
        let (outcome, empty) = lock.withLock {
            // Publish the committed state and release in-flight marks in one critical section.
            if let batch = committed {
                state.adopt(committed: working, nullifiers: batch.nullifiers.map(\.nullifier), vouchers: batch.vouchers.map(\.voucher))
            }
            let outcome = admission.settle(items.map(\.request), decisions, now: clock)
            queueGauge.record(admission.pending)
            return (outcome, admission.pending == 0)
        }
        for route in outcome.requeue { send(route) }
        for reply in outcome.replies { reply.handle.resolve(reply.result) }
        var settled = 0
        for d in decisions {
            switch d {
            case .settled: settled += 1
            case .rejected(let r): countRejection(r)
            }
        }
        settledCounter.increment(by: settled)
        if empty { signalDrained() }
        return decided
    }

    /// The lanes this node asks for, in order: its current one first, then the others from
    /// the next on (one open tree: lane 0).
    private func laneOrder() -> [Int] {
        let k = ledger.openTrees, first = working.lane
        return (0..<k).map { (first + $0) % k }
    }

    /// Learns what other nodes committed in lane `lane` after its batch `mine` (up to
    /// `lastBatch`), in the working state and in the published one. Called under the lane's
    /// writer lock. (One open tree: lane 0, the whole ledger.)
    private func catchUp(lane: Int, after mine: Int64, to lastBatch: Int64) throws {
        guard lastBatch > mine else { return }
        let changes = try ledger.changes(lane: lane, after: mine)
        try working.catchUp(changes, lane: lane)
        lock.withLock { state.adopt(committed: working, nullifiers: changes.nullifiers, voucherNonces: changes.voucherNonces) }
        catchUpCounter.increment()
        logger.debug("caught up with the ledger", metadata: ["lane": "\(lane)", "from_batch": "\(mine)", "to_batch": "\(lastBatch)", "leaves": "\(changes.leaves.count)"])
    }

    /// Learns every lane's new batches (one indexed probe per lane, then a read per lane that
    /// moved).
    private func catchUpAllLanes() throws {
        let heads = try ledger.laneHeads()
        for (lane, head) in heads.enumerated() {
            try catchUp(lane: lane, after: working.tip(of: lane).number, to: head)
        }
    }

    /// On a shared ledger, makes the published state at least as new as the last batch stored
    /// when it is called (the public reads call it first, so a wallet that settled through one
    /// node and syncs through another sees its batch): one indexed read when nothing is new,
    /// else the sequencer learns the new batches between two of its own. Alone on its ledger
    /// the state is the ledger's, and this returns at once.
    public func catchUpWithLedger() async {
        guard config.sharedLedger else { return }
        let ledger = self.ledger
        guard let heads = try? await readers.run({ try ledger.laneHeads() }) else { return }
        let behind = lock.withLock { heads.enumerated().contains { lane, head in head > state.tip(of: lane).number } }
        if !behind { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            sequencerCondition.lock()
            if sequencerStopping || sequencerThread == nil {
                sequencerCondition.unlock()
                c.resume()
                return
            }
            catchUpWaiters.append(c)
            sequencerCondition.signal()
            sequencerCondition.unlock()
        }
    }

    /// The sequencer, between batches: learns what other nodes committed since its last batch.
    private func catchUpBetweenBatches() {
        do {
            try catchUpAllLanes()
        } catch {
            logger.error("catching up with the ledger failed; reloading the state", metadata: ["error": "\(error)"])
            reloadState()
        }
    }

    /// A transfer refused as a double spend whose own settlement is in the ledger (another
    /// node settled the same transfer first) gets that settlement, as any re-submission does.
    private func settledElsewhere(_ items: [VerifiedTransfer], _ decisions: [Decision]) -> [Decision] {
        decisions.enumerated().map { i, d in
            guard case .rejected(.doubleSpend) = d, let stored = try? ledger.settledTransfer(items[i].request.id) else { return d }
            return .settled(stored)
        }
    }

    /// After `ledger.commit` threw, the outcome is unclear: the batch may have landed (a
    /// failure after COMMIT), and the in-memory working state has applied it either way. The
    /// state is reloaded from the ledger, so the next batch extends what is really stored, and
    /// each transfer that was to settle is answered by what the ledger holds: its stored
    /// settlement if it is there, `storage_failure` if not. (If even the reload fails, the
    /// service falls back to its last durable state in memory.)
    private func recoverFromFailedCommit(_ batch: BatchCommit, _ decisions: [Decision], _ error: Error) -> [Decision] {
        logger.error("batch commit failed; reloading the state from the ledger", metadata: ["batch": "\(batch.header.number)", "error": "\(error)"])
        reloadState()
        return decisions.map { d in
            guard case .settled(let t) = d else { return d }
            if let stored = try? ledger.settledTransfer(t.id) { return .settled(stored) }
            return .rejected(.storageFailure("\(error)"))
        }
    }

    /// Reloads the working and published state from the ledger (after a failed write); if even
    /// that fails, falls back to the last durable state in memory.
    private func reloadState() {
        do {
            let snapshot = try ledger.loadSnapshot(recentRootWindow: config.rootWindow, treeFromFrontier: true, lane: working.lane)
            let fresh = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow, olderRoots: rootHistory?.membership)
            lock.lock(); state = fresh; working = fresh; lock.unlock()
            logger.notice("state reloaded from the ledger", metadata: [
                "last_batch": "\(fresh.lastHeader?.number ?? 0)", "leaves": "\(fresh.tree.count)", "root": "\(fresh.currentRoot)",
            ])
        } catch let reloadError {
            logger.error("reloading the ledger failed; back to the last durable state in memory", metadata: ["error": "\(reloadError)"])
            lock.lock(); working = state; lock.unlock()  // a full copy: rare
        }
    }

    // MARK: Shutdown

    /// Stops taking transfers, finishes everything admitted (verify, commit, reply), stops
    /// the threads. Safe to call more than once.
    public func shutdown() async {
        lock.withLock { admission.stopAccepting() }
        await Task.detached { [self] in self.waitUntilDrained() }.value
        stopThreads()
        logger.info("settlement drained and stopped")
    }

    private func signalDrained() { drained.lock(); drained.broadcast(); drained.unlock() }

    private func waitUntilDrained() {
        drained.lock()
        while queueDepth > 0 { _ = drained.wait(until: Date(timeIntervalSinceNow: 0.05)) }
        drained.unlock()
    }

    private func stopThreads() {
        pool.stop()
        lane.stop()
        readers.stop()
        sequencerCondition.lock(); sequencerStopping = true; sequencerCondition.signal(); sequencerCondition.unlock()
    }
}

extension AdmissionTime {
    /// The clocks now (the service's; `Admission` itself reads none).
    static var now: AdmissionTime {
        AdmissionTime(unixSeconds: Int64(Date().timeIntervalSince1970), uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds)
    }
}
