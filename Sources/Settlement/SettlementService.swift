import BN254
import Foundation
import Groth16
import Logging
import Metrics
import Protocol

/// The settlement pipeline of DESIGN.md section 5:
///
///     intake ─► admission (no pairings) ─► verifier pool ─► sequencer (arrival order)
///            ─► one SQLite transaction per batch ─► reply to every waiting client
///
/// `submit` returns only after the transfer's batch is durable. Admission rejects early what
/// it can (ext data, deposit credential, unknown root, spent or in-flight nullifiers, a full
/// queue); the sequencer re-checks everything against committed state, so admission is an
/// optimization, never the authority.
public final class SettlementService: @unchecked Sendable {
    public let config: SettlementConfig
    public let ledger: any Ledger
    public let receiptKey: Ed25519Key
    public let verifyingKey: VerifyingKey
    let logger: Logger
    let pool: VerifierPool

    // Guarded by `lock`.
    private let lock = NSLock()
    private var state: SequencerState
    /// The sequencer thread's own copy, mutated in place (O(batch) per batch); `state`, which
    /// readers see, follows it only after each batch is durable.
    private var working: SequencerState
    private var waiters: [TransferID: [CheckedContinuation<Result<SettledTransfer, Rejection>, Never>]] = [:]
    private var inFlightNullifiers: [Fr: TransferID] = [:]
    private var nextSequence: Int64 = 0
    private var pending = 0
    private var accepting = false

    // Guarded by `sequencerCondition`.
    private let sequencerCondition = NSCondition()
    private var ready: [Int64: VerifiedTransfer] = [:]
    private var nextToApply: Int64 = 0
    private var sequencerStopping = false
    private var sequencerThread: Thread?
    private let drained = NSCondition()

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
        let snapshot = try ledger.loadSnapshot(recentRootWindow: config.rootWindow)
        state = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow)
        working = state
        let pvk = PreparedVerifyingKey(verifyingKey)
        pool = VerifierPool(pvk: pvk, config: config)
        pool.deliver = { [weak self] items, seqs, stats in self?.verified(items, seqs, stats) }
        logger.info("ledger loaded", metadata: [
            "leaves": "\(snapshot.leaves.count)", "nullifiers": "\(snapshot.spentNullifiers.count)",
            "last_batch": "\(snapshot.recentHeaders.last?.number ?? 0)", "root": "\(state.currentRoot)",
        ])
    }

    /// Starts the verifier threads and the sequencer.
    public func start() {
        lock.lock(); accepting = true; lock.unlock()
        pool.start()
        let t = Thread { [self] in self.sequencerLoop() }
        t.name = "zksettle-sequencer"
        sequencerThread = t
        t.start()
    }

    // MARK: Queries

    public var currentRoot: Fr { lock.lock(); defer { lock.unlock() }; return state.currentRoot }
    public var leafCount: Int { lock.lock(); defer { lock.unlock() }; return state.tree.count }
    public var lastBatch: BatchHeader? { lock.lock(); defer { lock.unlock() }; return state.lastHeader }
    public var acceptedRoots: [Fr] { lock.lock(); defer { lock.unlock() }; return state.rootWindow }
    public var queueDepth: Int { lock.lock(); defer { lock.unlock() }; return pending }

    /// The authentication path of a leaf in the committed tree.
    public func path(leafIndex: Int) throws(MerkleTreeError) -> (leaf: Fr, root: Fr, path: [Fr]) {
        // Read under the lock: holding a copy of the tree past it would make the next batch
        // copy every level.
        lock.lock(); defer { lock.unlock() }
        let path = try state.tree.path(leafIndex)
        return (state.tree.node(height: 0, index: leafIndex), state.tree.root, path)
    }

    /// Everything `GET /v1/tree` reports, read in one critical section.
    public var treeSummary: (root: Fr, leafCount: Int, lastBatch: Int64, acceptedRoots: [Fr]) {
        lock.lock(); defer { lock.unlock() }
        return (state.currentRoot, state.tree.count, state.lastHeader?.number ?? 0, state.rootWindow)
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

    // MARK: Intake

    /// Admits, verifies and settles a transfer; returns once its batch is durable. A transfer
    /// that already settled (same public inputs) returns its original settlement; one that is
    /// in flight joins the waiting clients.
    public func submit(_ request: TransferRequest, proofJSON: [UInt8]) async -> Result<SettledTransfer, Rejection> {
        let id = request.id
        if let problem = precheck(request) { return reject(problem) }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<SettledTransfer, Rejection>, Never>) in
            lock.lock()
            switch admit(request, id: id, continuation: continuation) {
            case .joined:
                lock.unlock()
            case .enqueue(let item):
                lock.unlock()
                pool.enqueue(item)
            case .rejected(let r):
                lock.unlock()
                continuation.resume(returning: .failure(r))
            case .alreadySpentCheckLedger(let nf):
                lock.unlock()
                // A spent nullifier: a re-submission of a settled transfer is not an error.
                if let t = try? ledger.settledTransfer(id) {
                    continuation.resume(returning: .success(t))
                } else {
                    continuation.resume(returning: .failure(.doubleSpend(nf)))
                }
            }
        }
        if case .failure(let r) = outcome { countRejection(r) }
        return outcome
    }

    private func reject(_ r: Rejection) -> Result<SettledTransfer, Rejection> {
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
            guard let expected = config.depositToken else {
                return .unauthorized("deposits are disabled on this server (it was started without a deposit token)")
            }
            guard let given = request.depositToken, constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
                return .unauthorized("a deposit needs the operator's deposit token")
            }
        }
        if request.publicInputs.nullifiers[0] == request.publicInputs.nullifiers[1] {
            return .malformed("the two nullifiers are equal")
        }
        return nil
    }

    private enum Admission {
        case joined
        case enqueue(PipelineItem)
        case rejected(Rejection)
        case alreadySpentCheckLedger(Fr)
    }

    /// Admission against shared state; called with `lock` held.
    private func admit(_ request: TransferRequest, id: TransferID,
                       continuation: CheckedContinuation<Result<SettledTransfer, Rejection>, Never>) -> Admission {
        if !accepting { return .rejected(.unavailable("the server is shutting down; retry against another node or later")) }
        if waiters[id] != nil {
            waiters[id]!.append(continuation)
            return .joined
        }
        for nf in request.publicInputs.nullifiers {
            if state.isSpent(nf) { return .alreadySpentCheckLedger(nf) }
            if let other = inFlightNullifiers[nf], other != id { return .rejected(.doubleSpend(nf)) }
        }
        if !state.isKnownRoot(request.publicInputs.root) { return .rejected(.unknownRoot(request.publicInputs.root)) }
        if pending >= config.queueCapacity { return .rejected(.overloaded(retryAfterSeconds: 1)) }
        waiters[id] = [continuation]
        for nf in request.publicInputs.nullifiers { inFlightNullifiers[nf] = id }
        pending += 1
        queueGauge.record(pending)
        let item = PipelineItem(sequence: nextSequence, request: request, proofJSON: proofJSON(of: request),
                                admittedAt: DispatchTime.now().uptimeNanoseconds)
        nextSequence += 1
        return .enqueue(item)
    }

    private func proofJSON(of request: TransferRequest) -> [UInt8] { Array(SnarkJS.encode(request.proof)) }

    // MARK: Verified → sequenced → committed

    private func verified(_ items: [VerifiedTransfer], _ sequences: [Int64], _ stats: VerifierPool.BatchStats) {
        batchSizeRecorder.record(stats.size)
        verifyTimer.recordNanoseconds(Int64(stats.verifyNanoseconds))
        if stats.bisections > 0 { bisectionCounter.increment(by: stats.bisections) }
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

    private func applyAndCommit(_ items: [VerifiedTransfer]) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var (commit, decisions) = working.apply(items, now: now, key: receiptKey)
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
        var resume: [(CheckedContinuation<Result<SettledTransfer, Rejection>, Never>, Result<SettledTransfer, Rejection>)] = []
        lock.lock()
        // Publish the committed state and release in-flight marks in one critical section.
        if committed, let batch = commit { state.adopt(committed: working, nullifiers: batch.nullifiers.map(\.nullifier)) }
        for (item, decision) in zip(items, decisions) {
            let id = item.request.id
            for nf in item.request.publicInputs.nullifiers where inFlightNullifiers[nf] == id { inFlightNullifiers[nf] = nil }
            let result: Result<SettledTransfer, Rejection>
            switch decision {
            case .settled(let t): result = .success(t)
            case .rejected(let r): result = .failure(r)
            }
            for w in waiters.removeValue(forKey: id) ?? [] { resume.append((w, result)) }
            pending -= 1
        }
        queueGauge.record(pending)
        let empty = pending == 0
        lock.unlock()
        var settled = 0
        for (w, result) in resume {
            if case .success = result { settled += 1 }
            w.resume(returning: result)
        }
        for d in decisions { if case .rejected(let r) = d { countRejection(r) } }
        settledCounter.increment(by: commit?.transfers.count ?? 0)
        if empty { drained.lock(); drained.broadcast(); drained.unlock() }
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
            let fresh = try SequencerState(snapshot: snapshot, windowSize: config.rootWindow)
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
        sequencerCondition.lock(); sequencerStopping = true; sequencerCondition.signal(); sequencerCondition.unlock()
    }
}

/// Compares secrets without an early exit (deposit tokens here, admin tokens in the HTTP layer).
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    if a.count != b.count { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
