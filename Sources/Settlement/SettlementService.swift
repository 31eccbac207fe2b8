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
/// Accepted roots: every root the tree ever had (the recent window in memory, older ones
/// through `RootHistory` over the ledger's index), unless `config.acceptsHistoricalRoots` is off.
public final class SettlementService: @unchecked Sendable {
    public let config: SettlementConfig
    public let ledger: any Ledger
    public let receiptKey: Ed25519Key
    public let verifyingKey: VerifyingKey
    let logger: Logger
    let pool: VerifierPool
    /// Roots older than the window (nil: `acceptsHistoricalRoots` is off).
    let rootHistory: RootHistory?
    /// Threads for blocking ledger reads asked from async code (`read`, admission).
    public let readers: BlockingPool

    /// An admitted transfer on its way: the proof being verified for it, the handle its
    /// clients wait on, and later submissions of the same transfer (same public inputs) with
    /// another proof. Those do not share the first proof's fate if it does not verify: they are
    /// verified in turn (issue 14, 4a). A settled or otherwise refused transfer answers them all.
    private struct InFlight {
        var proof: [UInt8]
        var pending: PendingSettlement
        /// Who offered this proof (its source address), for the per-client limits; nil for
        /// callers without one (tests in process).
        var client: String?
        var alternates: [Alternate] = []
        /// The nonce of the voucher marked in flight at admission (a deposit).
        var voucherNonce: [UInt8]? = nil
    }
    private struct Alternate {
        var request: TransferRequest
        var proof: [UInt8]
        var pending: PendingSettlement
        var client: String?
    }
    /// Where an admitted proof is verified: in the batches of `VerifierPool`, or alone in the
    /// probation lane when its client has sent a proof that did not verify.
    private enum Route {
        case batch(PipelineItem)
        case lane(ProbationLane.Item)
    }
    /// Other proofs one in-flight transfer may gather before further ones are `overloaded`.
    static let maxAlternates = 16

    // Guarded by `lock`.
    private let lock = NSLock()
    private var state: SequencerState
    /// The sequencer thread's own copy, mutated in place (O(batch) per batch); `state`, which
    /// readers see, follows it only after each batch is durable.
    private var working: SequencerState
    private var waiters: [TransferID: InFlight] = [:]
    private var inFlightNullifiers: [Fr: TransferID] = [:]
    /// Nonces of the vouchers of admitted deposits not yet settled or refused.
    private var inFlightVouchers: [[UInt8]: TransferID] = [:]
    private var nextSequence: Int64 = 0
    private var pending = 0
    private var accepting = false
    private var limits = ClientLimits()
    /// Items in the probation lane (admitted there, not yet verified).
    private var laneDepth = 0
    let lane: ProbationLane

    // Guarded by `sequencerCondition`.
    private let sequencerCondition = NSCondition()
    private var ready: [Int64: VerifiedTransfer] = [:]
    private var nextToApply: Int64 = 0
    private var sequencerStopping = false
    private var sequencerThread: Thread?
    private let drained = NSCondition()
    // The last closed tree rebuilt for a path or subtree page (`withTree`).
    private let closedTreeLock = NSLock()
    private var closedTree: (number: Int64, tree: MerkleTree)?

    // Metrics (swift-metrics; the server bootstraps a Prometheus backend).
    private let settledCounter = Counter(label: "zksettle_transfers_settled_total")
    private let batchSizeRecorder = Recorder(label: "zksettle_verify_batch_size")
    private let verifyTimer = Metrics.Timer(label: "zksettle_verify_batch_seconds")
    private let commitTimer = Metrics.Timer(label: "zksettle_commit_batch_seconds")
    private let bisectionCounter = Counter(label: "zksettle_verify_bisections_total")
    private let queueGauge = Gauge(label: "zksettle_queue_depth")

    public init(config: SettlementConfig, ledger: any Ledger, verifyingKey: VerifyingKey, receiptKey: Ed25519Key,
                logger: Logger = Logger(label: "zksettle.settlement")) throws {
        self.config = config
        self.ledger = ledger
        self.verifyingKey = verifyingKey
        self.receiptKey = receiptKey
        self.logger = logger
        rootHistory = config.acceptsHistoricalRoots ? RootHistory(ledger: ledger, capacity: config.rootCacheCapacity) : nil
        readers = BlockingPool(threads: config.readThreads, name: "zksettle-read")
        let snapshot = try ledger.loadSnapshot(recentRootWindow: config.rootWindow)
        state = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow, olderRoots: rootHistory?.membership)
        treeCapacity = state.treeCapacity
        working = state
        let pvk = PreparedVerifyingKey(verifyingKey)
        pool = VerifierPool(pvk: pvk, config: config)
        lane = ProbationLane(pvk: pvk)
        pool.deliver = { [weak self] items, seqs, stats in self?.verified(items, seqs, stats) }
        lane.deliver = { [weak self] item, valid in self?.laneVerified(item, valid: valid) }
        logger.info("ledger loaded", metadata: [
            "tree": "\(snapshot.tree)", "tree_leaves": "\(snapshot.leaves.count)", "tree_capacity": "\(snapshot.treeCapacity)", "nullifiers": "\(snapshot.spentNullifiers.count)",
            "last_batch": "\(snapshot.recentHeaders.last?.number ?? 0)", "root": "\(state.currentRoot)",
        ])
    }

    /// Starts the verifier threads and the sequencer.
    public func start() {
        lock.lock(); accepting = true; lock.unlock()
        pool.start()
        lane.start()
        let t = Thread { [self] in self.sequencerLoop() }
        t.name = "zksettle-sequencer"
        sequencerThread = t
        t.start()
    }

    // MARK: Queries

    public var currentRoot: Fr { lock.lock(); defer { lock.unlock() }; return state.currentRoot }
    /// Leaves settled in every tree (the next leaf's global index).
    public var leafCount: Int { lock.lock(); defer { lock.unlock() }; return Int(state.totalLeaves) }
    /// Leaves per tree, fixed for the ledger (`TreeCapacity`).
    public let treeCapacity: Int
    public var lastBatch: BatchHeader? { lock.lock(); defer { lock.unlock() }; return state.lastHeader }
    /// The recent roots (the in-memory window), oldest first. Older roots are accepted too
    /// (see `isKnownRoot`); this is the list `/v1/tree` shows.
    public var acceptedRoots: [Fr] { lock.lock(); defer { lock.unlock() }; return state.rootWindow }

    /// Whether a transfer proved against `root` would pass admission's root check. May read
    /// the ledger (blocking): from async code, prefer `read { _ in service.isKnownRoot(root) }`.
    public func isKnownRoot(_ root: Fr) -> Bool {
        lock.lock(); let recent = state.isRecentRoot(root); lock.unlock()
        return recent || (rootHistory?.contains(root) ?? false)
    }

    /// Runs a blocking ledger read on the service's reader threads, off Swift's cooperative
    /// pool (HTTP handlers use it for every ledger call).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any Ledger) throws -> T) async throws -> T {
        let ledger = self.ledger
        return try await readers.run { try body(ledger) }
    }

    public var queueDepth: Int { lock.lock(); defer { lock.unlock() }; return pending }

    /// Clients on probation now, and the transfers waiting in their lane (admin stats).
    public var probation: (clients: Int, queued: Int) { lock.withLock { (limits.onProbationCount, laneDepth) } }

    /// A tree that is not there: one after the open tree.
    public struct NoSuchTree: Error, CustomStringConvertible {
        public var tree: Int64, open: Int64
        public var description: String { "no tree \(tree): the open tree is \(open)" }
    }

    /// Runs `body` on tree `number`: the open tree under the lock (no copy), or a closed tree
    /// rebuilt from the ledger's leaves (blocking: call it off the cooperative pool). Closed
    /// trees never change, so the last one rebuilt is kept for the next call.
    public func withTree<T>(_ number: Int64?, _ body: (MerkleTree, Int64) throws -> T) throws -> T {
        lock.lock()
        let open = state.treeNumber
        let t = number ?? open
        if t == open {
            defer { lock.unlock() }
            return try body(state.tree, t)
        }
        lock.unlock()
        guard t >= 0, t < open else { throw NoSuchTree(tree: t, open: open) }
        closedTreeLock.lock(); defer { closedTreeLock.unlock() }
        if let cached = closedTree, cached.number == t { return try body(cached.tree, t) }
        let capacity = treeCapacity
        let leaves = try ledger.leafCommitments(from: t * Int64(capacity), limit: capacity)
        guard leaves.count == capacity else { throw LedgerError.corrupt("closed tree \(t) has \(leaves.count) of \(capacity) leaves") }
        let tree = try MerkleTree(leaves: leaves)
        closedTree = (t, tree)
        return try body(tree, t)
    }

    /// The authentication path of a leaf (global index) in its tree, with the tree's number,
    /// the leaf's position in it and the tree's current root. Blocking for a closed tree.
    public func path(leafIndex: Int64) throws -> (tree: Int64, position: Int, leaf: Fr, root: Fr, path: [Fr]) {
        let total = lock.withLock { state.totalLeaves }
        guard leafIndex >= 0, leafIndex < total else { throw MerkleTreeError.noSuchLeaf(index: Int(leafIndex), count: Int(total)) }
        let (t, position) = TreeCapacity.locate(leafIndex, capacity: treeCapacity)
        return try withTree(t) { tree, t in
            (t, position, tree.node(height: 0, index: position), tree.root, try tree.path(position))
        }
    }

    /// The nodes at `height` of complete subtrees `from..<from+limit` of tree `tree` (nil: the
    /// open tree), the number of complete subtrees at that height, and the tree's leaf count,
    /// read in one critical section. Blocking for a closed tree.
    public func subtreeRoots(tree number: Int64? = nil, height: Int, from: Int, limit: Int) throws -> (tree: Int64, roots: [Fr], complete: Int, leafCount: Int) {
        try withTree(number) { tree, t in
            let complete = tree.completeNodes(atHeight: height)
            let end = min(complete, from + max(0, limit))
            return (t, from < end ? (from..<end).map { tree.node(height: height, index: $0) } : [], complete, tree.count)
        }
    }

    /// Everything `GET /v1/tree` reports, read in one critical section: the open tree's root,
    /// the leaves of every tree, the open tree's number and leaves.
    public var treeSummary: (root: Fr, leafCount: Int, lastBatch: Int64, acceptedRoots: [Fr], tree: Int64, treeLeafCount: Int, capacity: Int) {
        lock.lock(); defer { lock.unlock() }
        return (state.currentRoot, Int(state.totalLeaves), state.lastHeader?.number ?? 0, state.rootWindow,
                state.treeNumber, state.tree.count, state.treeCapacity)
    }

    public enum TransferStatus: Sendable {
        case settled(SettledTransfer)
        case pending
        case unknown
    }

    public func status(of id: TransferID) throws -> TransferStatus {
        lock.lock(); let inFlight = waiters[id] != nil; lock.unlock()
        if inFlight { return .pending }
        if let t = try ledger.settledTransfer(id) { return .settled(t) }
        return .unknown
    }

    /// `status(of:)` with its ledger read on the reader threads.
    public func transferStatus(of id: TransferID) async throws -> TransferStatus {
        let inFlight = lock.withLock { waiters[id] != nil }
        if inFlight { return .pending }
        if let t = try await read({ try $0.settledTransfer(id) }) { return .settled(t) }
        return .unknown
    }

    // MARK: Intake

    /// Admits, verifies and settles a transfer; returns once its batch is durable. A transfer
    /// that already settled (same public inputs) returns its original settlement; one that is
    /// in flight with the same proof joins the waiting clients. (`proofJSON` is unused: the
    /// proof's bytes are its canonical snarkjs encoding.)
    public func submit(_ request: TransferRequest, proofJSON: [UInt8] = [], client: String? = nil) async -> Result<SettledTransfer, Rejection> {
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
        if let client, config.clientRate > 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            if !lock.withLock({ limits.take(client, rate: config.clientRate, now: now) }) {
                return reject(.rateLimited(retryAfterSeconds: 1, reason: "this client offers more than \(config.clientRate) transfers a second"))
            }
        }
        if let problem = precheck(request) { return reject(problem) }
        let id = request.id
        let proof = proofJSON(of: request)
        // A root outside the recent window: one indexed ledger read, off the cooperative pool
        // and outside the lock. A root the tree had stays one, so the answer cannot go stale.
        let root = request.publicInputs.root
        var rootKnown = lock.withLock { state.isRecentRoot(root) }
        if !rootKnown, let history = rootHistory {
            rootKnown = await readers.perform { history.contains(root) }
        }
        switch lock.withLock({ admitLocked(request, id: id, proof: proof, client: client, rootKnown: rootKnown) }) {
        case .joined(let pending):
            return .success(pending)
        case .enqueue(let route, let pending):
            send(route)
            return .success(pending)
        case .rejected(let r):
            return reject(r)
        case .alreadySpentCheckLedger(let nf):
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

    /// Checks that need no shared state.
    private func precheck(_ request: TransferRequest) -> Rejection? {
        let ext = request.extData
        do { try ext.validate() } catch { return .badExtData(error.description) }
        if ext.hash != request.publicInputs.extDataHash {
            return .badExtData("extDataHash does not match the hash of the external data")
        }
        if ext.publicAmount != request.publicInputs.publicAmount {
            return .badExtData("publicAmount does not equal extAmount - fee (mod r)")
        }
        if ext.extAmount > 0 {
            guard config.depositPublicKey != nil, let macKey = config.depositMacKey else {
                return .unauthorized("deposits are disabled on this server (it was started with --no-deposits)")
            }
            guard let voucher = request.voucher else {
                return .unauthorized("a deposit needs a deposit voucher (header X-Deposit-Voucher: zkv1…) from the operator: zksettle-admin deposits voucher --amount \(ext.extAmount)")
            }
            // The tag (made with the deposit key, over the signature too) and the amount here;
            // the expiry at admission, after a re-submission of a settled deposit has had its
            // chance to be answered with its receipt.
            guard voucher.hasValidTag(macKey: macKey) else { return .unauthorized(DepositVoucher.Failure.badSignature.description) }
            guard voucher.amount == UInt64(ext.extAmount) else {
                return .unauthorized(DepositVoucher.Failure.wrongAmount(voucher: voucher.amount, deposit: UInt64(ext.extAmount)).description)
            }
        }
        if request.publicInputs.nullifiers[0] == request.publicInputs.nullifiers[1] {
            return .malformed("the two nullifiers are equal")
        }
        // After the ext-data checks, so the fee named here is the one the proof commits to.
        // Deposits are exempt: the operator's voucher already decides who may make one.
        if ext.extAmount <= 0 && ext.fee < config.minFee { return .feeTooLow(minimum: config.minFee, given: ext.fee) }
        return nil
    }

    private enum Admission {
        case joined(PendingSettlement)
        case enqueue(Route, PendingSettlement)
        case rejected(Rejection)
        case alreadySpentCheckLedger(Fr)
    }

    /// Admission against shared state; called with `lock` held. `rootKnown`: the caller found
    /// the root among the recent ones or in the ledger's history.
    private func admitLocked(_ request: TransferRequest, id: TransferID, proof: [UInt8], client: String?, rootKnown: Bool) -> Admission {
        if !accepting { return .rejected(.unavailable("the server is shutting down; retry against another node or later")) }
        let atLimit = config.clientMaxInFlight > 0 && limits.count(client) >= config.clientMaxInFlight
        let tooMany = Rejection.rateLimited(retryAfterSeconds: 1, reason: "this client has \(config.clientMaxInFlight) transfers in flight, its limit")
        if var entry = waiters[id] {
            // The same transfer in flight. The same proof joins its clients; another proof
            // waits beside it and is verified on its own if the first one fails.
            if entry.proof == proof { return .joined(entry.pending) }
            if let same = entry.alternates.first(where: { $0.proof == proof }) { return .joined(same.pending) }
            if entry.alternates.count >= Self.maxAlternates { return .rejected(.overloaded(retryAfterSeconds: 1)) }
            if atLimit { return .rejected(tooMany) }
            let pending = PendingSettlement(id: id)
            entry.alternates.append(Alternate(request: request, proof: proof, pending: pending, client: client))
            limits.add(client)
            waiters[id] = entry
            return .joined(pending)
        }
        for nf in request.publicInputs.nullifiers {
            if state.isSpent(nf) { return .alreadySpentCheckLedger(nf) }
            if let other = inFlightNullifiers[nf], other != id { return .rejected(.doubleSpend(nf)) }
        }
        if let voucher = request.voucher {
            if state.isVoucherUsed(voucher) { return .rejected(.voucherUsed(voucher.id)) }
            if let other = inFlightVouchers[voucher.nonce], other != id { return .rejected(.voucherUsed(voucher.id)) }
            let now = Int64(Date().timeIntervalSince1970)
            if now >= voucher.expiresAt { return .rejected(.unauthorized(DepositVoucher.Failure.expired(at: voucher.expiresAt).description)) }
        }
        if !rootKnown && !state.isRecentRoot(request.publicInputs.root) { return .rejected(.unknownRoot(request.publicInputs.root)) }
        if atLimit { return .rejected(tooMany) }
        let now = DispatchTime.now().uptimeNanoseconds
        let probation = limits.onProbation(client, now: now)
        if probation && laneDepth >= config.probationQueue {
            return .rejected(.rateLimited(retryAfterSeconds: 1, reason: "this client sent proofs that did not verify, so its transfers are verified one at a time, and that queue is full"))
        }
        if pending >= config.queueCapacity { return .rejected(.overloaded(retryAfterSeconds: 1)) }
        let handle = PendingSettlement(id: id)
        waiters[id] = InFlight(proof: proof, pending: handle, client: client, voucherNonce: request.voucher?.nonce)
        limits.add(client)
        for nf in request.publicInputs.nullifiers { inFlightNullifiers[nf] = id }
        if let voucher = request.voucher { inFlightVouchers[voucher.nonce] = id }
        pending += 1
        queueGauge.record(pending)
        return .enqueue(route(request, proof: proof, client: client, now: now), handle)
    }

    /// Where a proof is verified: alone in the probation lane if its client is on probation,
    /// else in the batches. Called with `lock` held; the caller then calls `send` without it.
    private func route(_ request: TransferRequest, proof: [UInt8], client: String?, now: UInt64) -> Route {
        if limits.onProbation(client, now: now) {
            laneDepth += 1
            return .lane(ProbationLane.Item(request: request, proofJSON: proof, client: client))
        }
        return .batch(nextItem(request, proof: proof))
    }

    private func send(_ route: Route) {
        switch route {
        case .batch(let item): pool.enqueue(item)
        case .lane(let item): lane.enqueue(item)
        }
    }

    /// A proof of the probation lane was checked. One that verifies takes the next place in
    /// arrival order and goes to the sequencer like a batch result (a lane proof never holds
    /// up the sequencer while it waits: it gets its place only now). One that does not is
    /// refused here, and its client's probation starts again.
    private func laneVerified(_ item: ProbationLane.Item, valid: Bool) {
        let id = item.request.id
        let now = DispatchTime.now().uptimeNanoseconds
        if valid {
            let sequence: Int64 = lock.withLock {
                laneDepth -= 1
                return nextItem(item.request, proof: item.proofJSON).sequence
            }
            sequencerCondition.lock()
            ready[sequence] = VerifiedTransfer(request: item.request, proofJSON: item.proofJSON, proofValid: true)
            sequencerCondition.signal()
            sequencerCondition.unlock()
            return
        }
        var resolutions: [PendingSettlement] = []
        var next: Route?
        lock.lock()
        laneDepth -= 1
        limits.putOnProbation(item.client, seconds: config.probationSeconds, now: now)
        if var entry = waiters.removeValue(forKey: id) {
            limits.release(entry.client)
            resolutions.append(entry.pending)
            if !entry.alternates.isEmpty {
                // Another proof of the same transfer waits: it is verified next, on its own
                // client's route. The transfer stays in flight.
                let alt = entry.alternates.removeFirst()
                waiters[id] = InFlight(proof: alt.proof, pending: alt.pending, client: alt.client, alternates: entry.alternates)
                next = route(alt.request, proof: alt.proof, client: alt.client, now: now)
            } else {
                for nf in item.request.publicInputs.nullifiers where inFlightNullifiers[nf] == id { inFlightNullifiers[nf] = nil }
                pending -= 1
            }
        }
        queueGauge.record(pending)
        let empty = pending == 0
        lock.unlock()
        if let next { send(next) }
        for handle in resolutions { handle.resolve(.failure(.invalidProof)) }
        countRejection(.invalidProof)
        if empty { drained.lock(); drained.broadcast(); drained.unlock() }
    }

    /// The next pipeline item, in arrival order; called with `lock` held.
    private func nextItem(_ request: TransferRequest, proof: [UInt8]) -> PipelineItem {
        let item = PipelineItem(sequence: nextSequence, request: request, proofJSON: proof,
                                admittedAt: DispatchTime.now().uptimeNanoseconds)
        nextSequence += 1
        return item
    }

    private func proofJSON(of request: TransferRequest) -> [UInt8] { Array(SnarkJS.encode(request.proof)) }

    // MARK: Verified → sequenced → committed

    private func verified(_ items: [VerifiedTransfer], _ sequences: [Int64], _ stats: VerifierPool.BatchStats) {
        batchSizeRecorder.record(stats.size)
        verifyTimer.recordNanoseconds(Int64(stats.verifyNanoseconds))
        if stats.bisections > 0 { bisectionCounter.increment(by: stats.bisections) }
        if stats.invalid > 0 {
            // Probation starts as soon as the batch verifier knows, not once the sequencer gets
            // there: every proof the sender posts meanwhile would sink another honest batch.
            let now = DispatchTime.now().uptimeNanoseconds
            lock.withLock {
                for item in items where !item.proofValid {
                    limits.putOnProbation(waiters[item.request.id]?.client, seconds: config.probationSeconds, now: now)
                }
            }
        }
        sequencerCondition.lock()
        for (item, seq) in zip(items, sequences) { ready[seq] = item }
        sequencerCondition.signal()
        sequencerCondition.unlock()
    }

    private func sequencerLoop() {
        while true {
            sequencerCondition.lock()
            while ready[nextToApply] == nil && !sequencerStopping { sequencerCondition.wait() }
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
    private func applyAndCommitOnce(_ all: [VerifiedTransfer]) -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var (commit, decisions, decided) = working.apply(upToTreeEnd: all, now: now, key: receiptKey)
        let items = Array(all[..<decided])
        var committed = false
        if let batch = commit {
            let t0 = DispatchTime.now().uptimeNanoseconds
            do {
                try ledger.commit(batch)
                committed = true
                commitTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - t0))
                logger.debug("batch committed", metadata: ["batch": "\(batch.header.number)", "transfers": "\(batch.transfers.count)", "root": "\(batch.header.root)"])
            } catch {
                commit = nil
                decisions = recoverFromFailedCommit(batch, decisions, error)
            }
        }
        var resolutions: [(PendingSettlement, Result<SettledTransfer, Rejection>)] = []
        var requeue: [Route] = []
        let clock = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        // Publish the committed state and release in-flight marks in one critical section.
        if committed, let batch = commit {
            state.adopt(committed: working, nullifiers: batch.nullifiers.map(\.nullifier), vouchers: batch.vouchers.map(\.voucher))
        }
        for (item, decision) in zip(items, decisions) {
            let id = item.request.id
            let result: Result<SettledTransfer, Rejection>
            switch decision {
            case .settled(let t): result = .success(t)
            case .rejected(let r): result = .failure(r)
            }
            guard var entry = waiters.removeValue(forKey: id) else { pending -= 1; continue }
            limits.release(entry.client)
            if case .rejected(.invalidProof) = decision {
                // Its sender's next transfers are verified alone, outside everyone's batches.
                limits.putOnProbation(entry.client, seconds: config.probationSeconds, now: clock)
                if !entry.alternates.isEmpty {
                    // This proof failed, another one of the same transfer waits: verify it next.
                    // The transfer stays in flight (its nullifier marks and its place in `pending`).
                    resolutions.append((entry.pending, result))
                    let next = entry.alternates.removeFirst()
                    waiters[id] = InFlight(proof: next.proof, pending: next.pending, client: next.client, alternates: entry.alternates,
                                           voucherNonce: entry.voucherNonce)
                    requeue.append(route(next.request, proof: next.proof, client: next.client, now: clock))
                    continue
                }
            }
            for nf in item.request.publicInputs.nullifiers where inFlightNullifiers[nf] == id { inFlightNullifiers[nf] = nil }
            if let nonce = entry.voucherNonce, inFlightVouchers[nonce] == id { inFlightVouchers[nonce] = nil }
            resolutions.append((entry.pending, result))
            for other in entry.alternates { resolutions.append((other.pending, result)); limits.release(other.client) }
            pending -= 1
        }
        queueGauge.record(pending)
        let empty = pending == 0
        lock.unlock()
        for route in requeue { send(route) }
        for (handle, result) in resolutions { handle.resolve(result) }
        var settled = 0
        for d in decisions {
            switch d {
            case .settled: settled += 1
            case .rejected(let r): countRejection(r)
            }
        }
        settledCounter.increment(by: settled)
        if empty { drained.lock(); drained.broadcast(); drained.unlock() }
        return decided
    }

    /// After `ledger.commit` threw, the outcome is unclear: the batch may have landed (a
    /// failure after COMMIT), and the in-memory working state has applied it either way. The
    /// state is reloaded from the ledger, so the next batch extends what is really stored, and
    /// each transfer that was to settle is answered by what the ledger holds: its stored
    /// settlement if it is there, `storage_failure` if not. (If even the reload fails, the
    /// service falls back to its last durable state in memory.)
    private func recoverFromFailedCommit(_ batch: BatchCommit, _ decisions: [Decision], _ error: Error) -> [Decision] {
        logger.error("batch commit failed; reloading the state from the ledger", metadata: ["batch": "\(batch.header.number)", "error": "\(error)"])
        do {
            let snapshot = try ledger.loadSnapshot(recentRootWindow: config.rootWindow)
            let fresh = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow, olderRoots: rootHistory?.membership)
            lock.lock(); state = fresh; working = fresh; lock.unlock()
            logger.notice("state reloaded from the ledger", metadata: [
                "last_batch": "\(fresh.lastHeader?.number ?? 0)", "leaves": "\(fresh.tree.count)", "root": "\(fresh.currentRoot)",
            ])
        } catch let reloadError {
            logger.error("reloading the ledger failed; back to the last durable state in memory", metadata: ["error": "\(reloadError)"])
            lock.lock(); working = state; lock.unlock()  // a full copy: rare
        }
        return decisions.map { d in
            guard case .settled(let t) = d else { return d }
            if let stored = try? ledger.settledTransfer(t.id) { return .settled(stored) }
            return .rejected(.storageFailure("\(error)"))
        }
    }

    // MARK: Shutdown

    /// Stops taking transfers, finishes everything admitted (verify, commit, reply), stops
    /// the threads. Safe to call more than once.
    public func shutdown() async {
        stopAccepting()
        await Task.detached { [self] in self.waitUntilDrained() }.value
        stopThreads()
        logger.info("settlement drained and stopped")
    }

    private func stopAccepting() { lock.lock(); accepting = false; lock.unlock() }

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

/// Compares secrets without an early exit (admin tokens in the HTTP layer).
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    if a.count != b.count { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// The outcome of one admitted transfer, delivered once: its settlement when the batch is
/// durable, or why it was refused. Any number of tasks may wait on it.
public final class PendingSettlement: @unchecked Sendable {
    public let id: TransferID
    private let lock = NSLock()
    private var result: Result<SettledTransfer, Rejection>?
    private var waiting: [CheckedContinuation<Result<SettledTransfer, Rejection>, Never>] = []

    init(id: TransferID, outcome: Result<SettledTransfer, Rejection>? = nil) {
        self.id = id
        result = outcome
    }

    /// The outcome if it is already known (a re-submission of a settled transfer), else nil.
    public var outcome: Result<SettledTransfer, Rejection>? { lock.lock(); defer { lock.unlock() }; return result }

    /// Waits for the outcome. Cancelling the waiting task does not cancel the settlement.
    public func wait() async -> Result<SettledTransfer, Rejection> {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let result {
                lock.unlock()
                continuation.resume(returning: result)
                return
            }
            waiting.append(continuation)
            lock.unlock()
        }
    }

    func resolve(_ outcome: Result<SettledTransfer, Rejection>) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        result = outcome
        let resumed = waiting
        waiting = []
        lock.unlock()
        for c in resumed { c.resume(returning: outcome) }
    }
}
