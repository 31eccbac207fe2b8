import BN254
import Groth16
import Ledger
import Primitives
import Protocol
import Settlement
import Testing

/// `Admission` without a server: the rules of what is admitted, joined, refused, routed and
/// answered, driven with plain values (the handles are numbers, the time is passed in), as
/// `SequencerState` is tested.
@Suite struct AdmissionTests {
    typealias Machine = Admission<Int>
    static let t0 = AdmissionTime(unixSeconds: 1_700_000_000, uptimeNanoseconds: 1_000_000_000)

    static func later(_ seconds: Int) -> AdmissionTime {
        AdmissionTime(unixSeconds: t0.unixSeconds + Int64(seconds), uptimeNanoseconds: t0.uptimeNanoseconds + UInt64(seconds) * 1_000_000_000)
    }

    static func machine(_ edit: (inout SettlementConfig) -> Void = { _ in }) -> Machine {
        var config = SettlementConfig()
        edit(&config)
        var m = Machine(config: config)
        m.startAccepting()
        return m
    }

    static func proof(_ n: UInt8) -> [UInt8] { [n] }

    static func admit(_ m: inout Machine, _ t: VerifiedTransfer, proof: UInt8 = 1, client: String? = nil, rootKnown: Bool = true,
                      handle: Int, state: SequencerState, now: AdmissionTime = t0) -> Machine.Action {
        m.admit(t.request, proof: Self.proof(proof), client: client, rootKnown: rootKnown, handle: handle, state: state, now: now)
    }

    static func refusal(_ action: Machine.Action) -> Rejection? {
        if case .rejected(let r) = action { return r }
        return nil
    }

    static func enqueued(_ action: Machine.Action) -> (route: Route, handle: Int)? {
        if case .enqueue(let route, let handle) = action { return (route, handle) }
        return nil
    }

    static func joined(_ action: Machine.Action) -> Int? {
        if case .joined(let handle) = action { return handle }
        return nil
    }

    static func sequence(_ route: Route) -> Int64? {
        if case .batch(let item) = route { return item.sequence }
        return nil
    }

    static func isLane(_ route: Route) -> Bool {
        if case .lane = route { return true }
        return false
    }

    // MARK: Admitted, joined, answered

    @Test func admitsInArrivalOrderAndAnswersOnSettlement() throws {
        var fx = try LedgerFixture(label: "admission-order")
        var m = Self.machine()
        let a = fx.transfer(), b = fx.transfer()
        let first = try #require(Self.enqueued(Self.admit(&m, a, handle: 1, state: fx.state)))
        let second = try #require(Self.enqueued(Self.admit(&m, b, handle: 2, state: fx.state)))
        #expect(Self.sequence(first.route) == 0 && Self.sequence(second.route) == 1)
        #expect(first.handle == 1 && m.pending == 2 && m.isInFlight(a.request.id))

        let (_, decisions) = fx.batch([a, b])
        let outcome = m.settle([a.request, b.request], decisions, now: Self.t0)
        #expect(outcome.replies.map(\.handle) == [1, 2] && outcome.requeue.isEmpty)
        #expect(outcome.replies.allSatisfy { (try? $0.result.get()) != nil })
        #expect(m.pending == 0 && !m.isInFlight(a.request.id))
    }

    @Test func theSameProofJoinsAnotherWaitsBesideAndIsVerifiedIfTheFirstFails() throws {
        var fx = try LedgerFixture(label: "admission-join")
        var m = Self.machine()
        let t = fx.transfer()
        #expect(Self.enqueued(Self.admit(&m, t, proof: 1, handle: 1, state: fx.state)) != nil)
        #expect(Self.joined(Self.admit(&m, t, proof: 1, handle: 2, state: fx.state)) == 1)
        #expect(Self.joined(Self.admit(&m, t, proof: 2, handle: 3, state: fx.state)) == 3)
        #expect(Self.joined(Self.admit(&m, t, proof: 2, handle: 4, state: fx.state)) == 3)
        #expect(m.pending == 1)

        // The first proof fails: its clients hear `invalid_proof`, the other proof goes next.
        let failed = m.settle([t.request], [.rejected(.invalidProof)], now: Self.t0)
        #expect(failed.replies.map(\.handle) == [1] && failed.replies[0].result == .failure(.invalidProof))
        #expect(failed.requeue.count == 1 && m.isInFlight(t.request.id) && m.pending == 1)

        let (_, decisions) = fx.batch([t])
        let settled = m.settle([t.request], decisions, now: Self.t0)
        #expect(settled.replies.map(\.handle) == [3] && m.pending == 0)
    }

    @Test func anotherProofBeyondTheAlternatesIsOverloaded() throws {
        var fx = try LedgerFixture(label: "admission-alternates")
        var m = Self.machine()
        let t = fx.transfer()
        _ = Self.admit(&m, t, proof: 0, handle: 0, state: fx.state)
        for k in 1...Machine.maxAlternates { #expect(Self.joined(Self.admit(&m, t, proof: UInt8(k), handle: k, state: fx.state)) == k) }
        #expect(Self.refusal(Self.admit(&m, t, proof: 200, handle: 99, state: fx.state)) == .overloaded(retryAfterSeconds: 1))
    }

    // MARK: Refused

    @Test func aNullifierInFlightOrSpentIsRefused() throws {
        var fx = try LedgerFixture(label: "admission-spent")
        var m = Self.machine()
        let t = fx.transfer()
        _ = Self.admit(&m, t, handle: 1, state: fx.state)
        let rival = fx.transfer(nullifiers: Pair(t.request.publicInputs.nullifiers[1], fx.nullifier()))
        #expect(Self.refusal(Self.admit(&m, rival, handle: 2, state: fx.state)) == .doubleSpend(t.request.publicInputs.nullifiers[1]))

        _ = fx.batch([t])  // spent in the committed state now
        var fresh = Self.machine()
        guard case .spentNullifier(let nf) = Self.admit(&fresh, t, handle: 3, state: fx.state) else {
            Issue.record("a spent nullifier is left to the ledger read (a settled re-submission)"); return
        }
        #expect(nf == t.request.publicInputs.nullifiers[0])
    }

    @Test func anUnknownRootIsRefusedAndAKnownOneAdmitted() throws {
        var fx = try LedgerFixture(label: "admission-root")
        var m = Self.machine()
        var t = fx.transfer()
        t.request.publicInputs.root = fx.fr()
        #expect(Self.refusal(Self.admit(&m, t, rootKnown: false, handle: 1, state: fx.state)) == .unknownRoot(t.request.publicInputs.root))
        #expect(Self.enqueued(Self.admit(&m, t, rootKnown: true, handle: 1, state: fx.state)) != nil)
    }

    @Test func nothingIsAdmittedBeforeStartOrAfterStop() throws {
        var fx = try LedgerFixture(label: "admission-stop")
        var m = Machine(config: SettlementConfig())
        #expect(Self.refusal(Self.admit(&m, fx.transfer(), handle: 1, state: fx.state))?.code == "unavailable")
        m.startAccepting()
        #expect(Self.enqueued(Self.admit(&m, fx.transfer(), handle: 2, state: fx.state)) != nil)
        m.stopAccepting()
        #expect(Self.refusal(Self.admit(&m, fx.transfer(), handle: 3, state: fx.state))?.code == "unavailable")
    }

    @Test func aFullQueueIsOverloaded() throws {
        var fx = try LedgerFixture(label: "admission-capacity")
        var m = Self.machine { $0.queueCapacity = 2 }
        for h in 1...2 { #expect(Self.enqueued(Self.admit(&m, fx.transfer(), handle: h, state: fx.state)) != nil) }
        #expect(Self.refusal(Self.admit(&m, fx.transfer(), handle: 3, state: fx.state)) == .overloaded(retryAfterSeconds: 1))
    }

    @Test func aClientAtItsInFlightLimitIsRateLimitedOthersAreNot() throws {
        var fx = try LedgerFixture(label: "admission-client-limit")
        var m = Self.machine { $0.clientMaxInFlight = 1 }
        let t = fx.transfer()
        _ = Self.admit(&m, t, client: "a", handle: 1, state: fx.state)
        #expect(Self.refusal(Self.admit(&m, fx.transfer(), client: "a", handle: 2, state: fx.state))?.code == "rate_limited")
        #expect(Self.enqueued(Self.admit(&m, fx.transfer(), client: "b", handle: 3, state: fx.state)) != nil)
        let (_, decisions) = fx.batch([t])
        _ = m.settle([t.request], decisions, now: Self.t0)
        #expect(Self.enqueued(Self.admit(&m, fx.transfer(), client: "a", handle: 4, state: fx.state)) != nil)
    }

    @Test func theTokenBucketRefillsWithTime() {
        var m = Self.machine { $0.clientRate = 2 }
        #expect(m.takeToken(client: "a", now: Self.t0) == nil)
        #expect(m.takeToken(client: "a", now: Self.t0) == nil)
        #expect(m.takeToken(client: "a", now: Self.t0)?.code == "rate_limited")
        #expect(m.takeToken(client: "b", now: Self.t0) == nil)
        #expect(m.takeToken(client: nil, now: Self.t0) == nil)
        #expect(m.takeToken(client: "a", now: Self.later(1)) == nil)
    }

    @Test func anExpiredOrInFlightVoucherIsRefused() throws {
        var fx = try LedgerFixture(label: "admission-voucher")
        var m = Self.machine { $0.acceptDeposits(of: fx.depositKey) }
        let deposit = fx.transfer(extAmount: 500)
        let voucher = try #require(deposit.request.voucher)
        let expired = AdmissionTime(unixSeconds: voucher.expiresAt, uptimeNanoseconds: Self.t0.uptimeNanoseconds)
        #expect(Self.refusal(Self.admit(&m, deposit, handle: 1, state: fx.state, now: expired))?.code == "unauthorized")
        #expect(Self.enqueued(Self.admit(&m, deposit, handle: 1, state: fx.state)) != nil)
        var twin = fx.transfer(extAmount: 500)
        twin.request.voucher = voucher
        #expect(Self.refusal(Self.admit(&m, twin, handle: 2, state: fx.state)) == .voucherUsed(voucher.id))
    }

    // MARK: Probation

    @Test func aClientWhoseProofFailedIsVerifiedAloneUntilProbationEnds() throws {
        var fx = try LedgerFixture(label: "admission-probation")
        var m = Self.machine { $0.probationSeconds = 60; $0.probationQueue = 1 }
        let bad = fx.transfer()
        _ = Self.admit(&m, bad, client: "a", handle: 1, state: fx.state)
        m.proofsFailed([bad.request.id], now: Self.t0)
        #expect(m.probation(now: Self.t0).clients == 1)
        _ = m.settle([bad.request], [.rejected(.invalidProof)], now: Self.t0)

        let next = fx.transfer()
        let routed = try #require(Self.enqueued(Self.admit(&m, next, client: "a", handle: 2, state: fx.state)))
        #expect(Self.isLane(routed.route) && m.laneDepth == 1)
        #expect(Self.refusal(Self.admit(&m, fx.transfer(), client: "a", handle: 3, state: fx.state))?.code == "rate_limited")
        let other = try #require(Self.enqueued(Self.admit(&m, fx.transfer(), client: "b", handle: 4, state: fx.state)))
        #expect(!Self.isLane(other.route))
        #expect(m.probation(now: Self.later(61)).clients == 0)
        #expect(!Self.isLane(try #require(Self.enqueued(Self.admit(&m, fx.transfer(), client: "a", handle: 5, state: fx.state, now: Self.later(61)))).route))
    }

    @Test func aLaneProofThatFailsIsAnsweredThereOneThatPassesTakesTheNextPlace() throws {
        var fx = try LedgerFixture(label: "admission-lane")
        var m = Self.machine { $0.probationSeconds = 60 }
        let bad = fx.transfer()
        _ = Self.admit(&m, bad, client: "a", handle: 1, state: fx.state)
        _ = m.settle([bad.request], [.rejected(.invalidProof)], now: Self.t0)
        guard case .lane(let failing) = try #require(Self.enqueued(Self.admit(&m, fx.transfer(), client: "a", handle: 2, state: fx.state))).route,
              case .lane(let passing) = try #require(Self.enqueued(Self.admit(&m, fx.transfer(), client: "a", handle: 3, state: fx.state))).route
        else { Issue.record("a client on probation goes to the lane"); return }
        #expect(m.pending == 2 && m.laneDepth == 2)

        let outcome = m.laneFailed(failing, now: Self.t0)
        #expect(outcome.replies.map(\.handle) == [2] && outcome.replies[0].result == .failure(.invalidProof))
        #expect(m.pending == 1 && !m.isInFlight(failing.request.id))
        let item = m.lanePassed(passing, now: Self.t0)
        #expect(item.sequence == 1 && m.laneDepth == 0)  // sequence 0 was the failed batch proof
    }

    /// A deposit whose lane proof fails gives its voucher back: another deposit with the same
    /// voucher (a proof made again) is admitted, not refused as `voucher_used` until a restart.
    @Test func aDepositWhoseLaneProofFailsReleasesItsVoucher() throws {
        var fx = try LedgerFixture(label: "admission-lane-voucher")
        var m = Self.machine { $0.probationSeconds = 60; $0.acceptDeposits(of: fx.depositKey) }
        let bad = fx.transfer()
        _ = Self.admit(&m, bad, client: "a", handle: 1, state: fx.state)
        _ = m.settle([bad.request], [.rejected(.invalidProof)], now: Self.t0)
        let deposit = fx.transfer(extAmount: 500)
        let voucher = try #require(deposit.request.voucher)
        guard case .lane(let failing) = try #require(Self.enqueued(Self.admit(&m, deposit, client: "a", handle: 2, state: fx.state))).route
        else { Issue.record("a client on probation goes to the lane"); return }
        var again = fx.transfer(extAmount: 500)
        again.request.voucher = voucher
        #expect(Self.refusal(Self.admit(&m, again, client: "b", handle: 3, state: fx.state)) == .voucherUsed(voucher.id))
        _ = m.laneFailed(failing, now: Self.t0)
        #expect(Self.enqueued(Self.admit(&m, again, client: "b", handle: 4, state: fx.state)) != nil)
    }

    // MARK: Checks without state

    @Test func precheckRefusesEqualNullifiersBadExtDataLowFeesAndDisabledDeposits() throws {
        var fx = try LedgerFixture(label: "admission-precheck")
        let m = Self.machine { $0.minFee = 5 }
        let nf = fx.nullifier()
        let twice = fx.transfer(nullifiers: Pair(nf, nf), fee: 5)
        #expect(m.precheck(twice.request) == .malformed("the two nullifiers are equal"))
        #expect(m.precheck(fx.transfer(fee: 4).request) == .feeTooLow(minimum: 5, given: 4))
        #expect(m.precheck(fx.transfer(fee: 5).request) == nil)
        var forged = fx.transfer(fee: 5)
        forged.request.publicInputs.extDataHash = fx.fr()
        #expect(m.precheck(forged.request)?.code == "bad_ext_data")
        #expect(m.precheck(fx.transfer(extAmount: 100).request)?.code == "unauthorized")
    }

    @Test func theSequencerRefusesEqualNullifiersWithAdmissionsWords() throws {
        var fx = try LedgerFixture(label: "admission-sequencer-nullifiers")
        let nf = fx.nullifier()
        let twice = fx.transfer(nullifiers: Pair(nf, nf))
        let (commit, decisions) = fx.batch([twice])
        #expect(commit == nil)
        guard case .rejected(let r) = decisions[0] else { Issue.record("settled a transfer spending one note twice"); return }
        #expect(r == Self.machine().precheck(twice.request))
    }
}
