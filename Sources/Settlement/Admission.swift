import BN254
import Ledger
import Protocol

/// The time admission reads, passed in so that its rules run without a clock: wall-clock
/// seconds (a deposit voucher's expiry) and monotonic nanoseconds (token buckets, probation,
/// the admission stamp a batch's flush deadline counts from).
package struct AdmissionTime: Sendable {
    package var unixSeconds: Int64
    package var uptimeNanoseconds: UInt64

    package init(unixSeconds: Int64, uptimeNanoseconds: UInt64) {
        self.unixSeconds = unixSeconds; self.uptimeNanoseconds = uptimeNanoseconds
    }
}

/// Where an admitted proof is verified: in the batches of `VerifierPool`, or alone in the
/// probation lane when its client has sent a proof that did not verify.
package enum Route: Sendable {
    case batch(PipelineItem)
    case lane(ProbationItem)
}

/// Admission as a pure state machine (the pattern of `SequencerState`): what is in flight (the
/// transfers admitted and not yet answered, their nullifiers and vouchers, the clients waiting
/// on each), the queue's capacity, shutdown, and the per-client limits. It decides and returns
/// actions; the caller (`SettlementService`) holds the lock, sends routes to the verifiers and
/// resolves the handles. `Handle` is what a client waits on (`PendingSettlement` in the
/// service; anything in a test).
///
/// Admission rejects early what it can; the sequencer re-checks everything against committed
/// state, so admission is an optimization, never the authority.
package struct Admission<Handle> {
    /// What admission decided for one offer.
    package enum Action {
        /// The same transfer is in flight: wait on this handle (the same proof joins its
        /// clients; another proof waits beside it, to be verified if the first one fails).
        case joined(Handle)
        /// Admitted: send the route to the verifiers, and wait on the handle.
        case enqueue(Route, Handle)
        case rejected(Rejection)
        /// A nullifier is spent: the caller answers a re-submission of a settled transfer with
        /// its settlement (a ledger read, outside the lock), anything else with `double_spend`.
        case spentNullifier(Fr)
    }

    /// A client to answer.
    package struct Reply {
        package var handle: Handle
        package var result: Result<SettledTransfer, Rejection>
    }

    /// What settling (or refusing) verified transfers asks of the caller: the replies to
    /// resolve, and proofs (other proofs of a transfer whose proof failed) to verify next.
    package struct Outcome {
        package var replies: [Reply] = []
        package var requeue: [Route] = []
    }

    /// An admitted transfer on its way: the proof being verified for it, the handle its
    /// clients wait on, and later submissions of the same transfer (same public inputs) with
    /// another proof. Those do not share the first proof's fate if it does not verify: they are
    /// verified in turn (issue 14, 4a). A settled or otherwise refused transfer answers them all.
    private struct InFlight {
        var proof: [UInt8]
        var handle: Handle
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
        var handle: Handle
        var client: String?
    }

    /// Other proofs one in-flight transfer may gather before further ones are `overloaded`.
    package static var maxAlternates: Int { 16 }

    package let config: SettlementConfig
    /// Whether new transfers are taken (off before `start` and after `stopAccepting`).
    package private(set) var accepting = false
    /// Admitted transfers not yet answered (the queue depth).
    package private(set) var pending = 0
    /// Items in the probation lane (admitted there, not yet verified).
    package private(set) var laneDepth = 0
    private var waiters: [TransferID: InFlight] = [:]
    private var inFlightNullifiers: [Fr: TransferID] = [:]
    /// Nonces of the vouchers of admitted deposits not yet settled or refused.
    private var inFlightVouchers: [[UInt8]: TransferID] = [:]
    private var nextSequence: Int64 = 0
    private var limits = ClientLimits()

    package init(config: SettlementConfig) { self.config = config }

    package mutating func startAccepting() { accepting = true }
    package mutating func stopAccepting() { accepting = false }

    package func isInFlight(_ id: TransferID) -> Bool { waiters[id] != nil }

    /// Clients on probation at `now`, and the transfers waiting in their lane.
    package func probation(now: AdmissionTime) -> (clients: Int, queued: Int) {
        (limits.onProbationCount(now: now.uptimeNanoseconds), laneDepth)
    }

    /// Takes one token of `client`'s bucket (`SettlementConfig.clientRate`); the refusal if
    /// it is empty. No limit without a client or a rate.
    package mutating func takeToken(client: String?, now: AdmissionTime) -> Rejection? {
        guard let client, config.clientRate > 0 else { return nil }
        if limits.take(client, rate: config.clientRate, now: now.uptimeNanoseconds) { return nil }
        return .rateLimited(retryAfterSeconds: 1, reason: "this client offers more than \(config.clientRate) transfers a second")
    }

    /// Admission against the committed `state` and what is in flight. `rootKnown`: the caller
    /// found the root among the recent ones or in the ledger's history. `handle` is used if the
    /// transfer is admitted (or waits as another proof); a joined offer gets the existing one.
    package mutating func admit(_ request: TransferRequest, proof: [UInt8], client: String?, rootKnown: Bool,
                                handle: Handle, state: SequencerState, now: AdmissionTime) -> Action {
        if !accepting { return .rejected(.unavailable("the server is shutting down; retry against another node or later")) }
        let id = request.id
        let atLimit = config.clientMaxInFlight > 0 && limits.count(client) >= config.clientMaxInFlight
        let tooMany = Rejection.rateLimited(retryAfterSeconds: 1, reason: "this client has \(config.clientMaxInFlight) transfers in flight, its limit")
        if var entry = waiters[id] {
            // The same transfer in flight. The same proof joins its clients; another proof
            // waits beside it and is verified on its own if the first one fails.
            if entry.proof == proof { return .joined(entry.handle) }
            if let same = entry.alternates.first(where: { $0.proof == proof }) { return .joined(same.handle) }
            if entry.alternates.count >= Self.maxAlternates { return .rejected(.overloaded(retryAfterSeconds: 1)) }
            if atLimit { return .rejected(tooMany) }
            entry.alternates.append(Alternate(request: request, proof: proof, handle: handle, client: client))
            limits.add(client)
            waiters[id] = entry
            return .joined(handle)
        }
        if let refusal = conflict(request, state: state, now: now) { return refusal }
        if !rootKnown && !state.isRecentRoot(request.publicInputs.root) { return .rejected(.unknownRoot(request.publicInputs.root)) }
        if atLimit { return .rejected(tooMany) }
        if limits.onProbation(client, now: now.uptimeNanoseconds) && laneDepth >= config.probationQueue {
            return .rejected(.rateLimited(retryAfterSeconds: 1, reason: "this client sent proofs that did not verify, so its transfers are verified one at a time, and that queue is full"))
        }
        if pending >= config.queueCapacity { return .rejected(.overloaded(retryAfterSeconds: 1)) }
        waiters[id] = InFlight(proof: proof, handle: handle, client: client, voucherNonce: request.voucher?.nonce)
        limits.add(client)
        for nf in request.publicInputs.nullifiers { inFlightNullifiers[nf] = id }
        if let voucher = request.voucher { inFlightVouchers[voucher.nonce] = id }
        pending += 1
        return .enqueue(route(request, proof: proof, client: client, now: now), handle)
    }

    /// A nullifier or voucher spent, used or in flight for another transfer, or an expired voucher.
    private func conflict(_ request: TransferRequest, state: SequencerState, now: AdmissionTime) -> Action? {
        let id = request.id
        for nf in request.publicInputs.nullifiers {
            if state.isSpent(nf) { return .spentNullifier(nf) }
            if !config.sharedLedger, let other = inFlightNullifiers[nf], other != id { return .rejected(.doubleSpend(nf)) }
        }
        if let voucher = request.voucher {
            if state.isVoucherUsed(voucher) { return .rejected(.voucherUsed(voucher.id)) }
            if !config.sharedLedger, let other = inFlightVouchers[voucher.nonce], other != id { return .rejected(.voucherUsed(voucher.id)) }
            if now.unixSeconds >= voucher.expiresAt {
                return .rejected(.unauthorized(DepositVoucher.Failure.expired(at: voucher.expiresAt).description))
            }
        }
        return nil
    }

    /// Where a proof is verified: alone in the probation lane if its client is on probation,
    /// else in the batches.
    private mutating func route(_ request: TransferRequest, proof: [UInt8], client: String?, now: AdmissionTime) -> Route {
        if limits.onProbation(client, now: now.uptimeNanoseconds) {
            laneDepth += 1
            return .lane(ProbationItem(request: request, proofJSON: proof, client: client))
        }
        return .batch(nextItem(request, proof: proof, now: now))
    }

    /// The next pipeline item, in arrival order.
    private mutating func nextItem(_ request: TransferRequest, proof: [UInt8], now: AdmissionTime) -> PipelineItem {
        let item = PipelineItem(sequence: nextSequence, request: request, proofJSON: proof, admittedAt: now.uptimeNanoseconds)
        nextSequence += 1
        return item
    }

    /// The batch verifier found proofs that do not verify: their senders go on probation at
    /// once, not when the sequencer gets there (every proof they post meanwhile would sink
    /// another honest batch).
    package mutating func proofsFailed(_ ids: [TransferID], now: AdmissionTime) {
        for id in ids {
            limits.putOnProbation(waiters[id]?.client, seconds: config.probationSeconds, now: now.uptimeNanoseconds)
        }
    }

    /// A proof of the probation lane verified: it takes the next place in arrival order (a
    /// lane proof never holds up the sequencer while it waits: it gets its place only now).
    package mutating func lanePassed(_ item: ProbationItem, now: AdmissionTime) -> PipelineItem {
        laneDepth -= 1
        return nextItem(item.request, proof: item.proofJSON, now: now)
    }

    /// A proof of the probation lane did not verify: it is refused here (it never reaches the
    /// sequencer), its client's probation starts again, and another proof of the same transfer,
    /// if one waits, is verified next on its own client's route.
    package mutating func laneFailed(_ item: ProbationItem, now: AdmissionTime) -> Outcome {
        var outcome = Outcome()
        let id = item.request.id
        laneDepth -= 1
        limits.putOnProbation(item.client, seconds: config.probationSeconds, now: now.uptimeNanoseconds)
        if var entry = waiters.removeValue(forKey: id) {
            limits.release(entry.client)
            outcome.replies.append(Reply(handle: entry.handle, result: .failure(.invalidProof)))
            if !entry.alternates.isEmpty {
                // The transfer stays in flight.
                let alt = entry.alternates.removeFirst()
                waiters[id] = InFlight(proof: alt.proof, handle: alt.handle, client: alt.client, alternates: entry.alternates,
                                       voucherNonce: entry.voucherNonce)
                outcome.requeue.append(route(alt.request, proof: alt.proof, client: alt.client, now: now))
            } else {
                for nf in item.request.publicInputs.nullifiers where inFlightNullifiers[nf] == id { inFlightNullifiers[nf] = nil }
                // The deposit's voucher leaves with it: held in flight, it would answer every later
                // deposit with it voucher_used until a restart.
                if let nonce = entry.voucherNonce, inFlightVouchers[nonce] == id { inFlightVouchers[nonce] = nil }
                pending -= 1
            }
        }
        return outcome
    }

    /// The sequencer decided `items` (settled, or refused): each transfer leaves the in-flight
    /// set and its clients are answered, except one whose proof failed while another proof of it
    /// waits: that proof is verified next and the transfer stays in flight.
    package mutating func settle(_ items: [TransferRequest], _ decisions: [Decision], now: AdmissionTime) -> Outcome {
        var outcome = Outcome()
        for (request, decision) in zip(items, decisions) {
            let id = request.id
            let result: Result<SettledTransfer, Rejection>
            switch decision {
            case .settled(let t): result = .success(t)
            case .rejected(let r): result = .failure(r)
            }
            guard var entry = waiters.removeValue(forKey: id) else { pending -= 1; continue }
            limits.release(entry.client)
            if case .rejected(.invalidProof) = decision {
                // Its sender's next transfers are verified alone, outside everyone's batches.
                limits.putOnProbation(entry.client, seconds: config.probationSeconds, now: now.uptimeNanoseconds)
                if !entry.alternates.isEmpty {
                    // The transfer stays in flight (its nullifier marks and its place in `pending`).
                    outcome.replies.append(Reply(handle: entry.handle, result: result))
                    let next = entry.alternates.removeFirst()
                    waiters[id] = InFlight(proof: next.proof, handle: next.handle, client: next.client, alternates: entry.alternates,
                                           voucherNonce: entry.voucherNonce)
                    outcome.requeue.append(route(next.request, proof: next.proof, client: next.client, now: now))
                    continue
                }
            }
            for nf in request.publicInputs.nullifiers where inFlightNullifiers[nf] == id { inFlightNullifiers[nf] = nil }
            if let nonce = entry.voucherNonce, inFlightVouchers[nonce] == id { inFlightVouchers[nonce] = nil }
            outcome.replies.append(Reply(handle: entry.handle, result: result))
            for other in entry.alternates {
                outcome.replies.append(Reply(handle: other.handle, result: result))
                limits.release(other.client)
            }
            pending -= 1
        }
        return outcome
    }
}

extension Admission {
    /// The checks that need no shared state: the external data against the proof's inputs, a
    /// deposit's voucher (tag and amount; its expiry and use are `admit`'s), distinct
    /// nullifiers, the minimum fee.
    package func precheck(_ request: TransferRequest) -> Rejection? { Self.precheck(request, config: config) }

    /// `precheck` from the configuration alone: the service calls it outside its lock, where
    /// reading the machine itself would race with the threads that change it under the lock.
    package static func precheck(_ request: TransferRequest, config: SettlementConfig) -> Rejection? {
        let ext = request.extData
        do { try ext.validate() } catch { return .badExtData(error.description) }
        if ext.hash != request.publicInputs.extDataHash {
            return .badExtData("extDataHash does not match the hash of the external data")
        }
        if ext.publicAmount != request.publicInputs.publicAmount {
            return .badExtData("publicAmount does not equal extAmount - fee (mod r)")
        }
        if ext.extAmount > 0, let refusal = checkVoucher(request, config: config) { return refusal }
        if let refusal = Rejection.equalNullifiers(request.publicInputs) { return refusal }
        // After the ext-data checks, so the fee named here is the one the proof commits to.
        // Deposits are exempt: the operator's voucher already decides who may make one.
        if ext.extAmount <= 0 && ext.fee < config.minFee { return .feeTooLow(minimum: config.minFee, given: ext.fee) }
        return nil
    }

    /// A deposit's voucher: there, tagged with the deposit key, for the deposit's amount.
    private static func checkVoucher(_ request: TransferRequest, config: SettlementConfig) -> Rejection? {
        let ext = request.extData
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
        return nil
    }
}
