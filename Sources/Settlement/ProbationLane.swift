import Foundation
import Groth16
import Protocol

/// Issue 14, point 4: the verification lane of clients on probation.
///
/// A proof that does not verify costs its sender one HTTP request and the server a bisection
/// of the batch it sank (about two extra pairing products per level, for every honest proof
/// beside it). A client that has sent one is put on probation, and while it is, its transfers
/// come here instead of to `VerifierPool`: one thread, one proof at a time (`Groth16.verify`),
/// resting as long as each proof took, so all such clients together take at most half a core,
/// and never share a batch with anyone else.
/// The queue is bounded by `SettlementConfig.probationQueue` (admission refuses beyond it).
/// A proof that verifies here is handed to the sequencer like any batch result; one that does
/// not is refused without ever reaching it.
final class ProbationLane: @unchecked Sendable {
    struct Item: Sendable {
        let request: TransferRequest
        let proofJSON: [UInt8]
        let client: String?
    }

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var head = 0
    private var stopping = false
    private var thread: Thread?
    private let pvk: PreparedVerifyingKey
    /// Receives each item with whether its proof verified; set before `start`.
    var deliver: (@Sendable (Item, Bool) -> Void)?

    init(pvk: PreparedVerifyingKey) { self.pvk = pvk }

    func start() {
        let t = Thread { [self] in self.run() }
        t.name = "zksettle-probation"
        t.stackSize = 4 << 20
        thread = t
        t.start()
    }

    func enqueue(_ item: Item) {
        condition.lock()
        queue.append(item)
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread once the queue is empty.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            if stopping { return nil }
            condition.wait()
        }
        let item = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        return item
    }

    /// Verifies one proof at a time, then rests as long as it took: the lane takes at most half
    /// of one core however many clients are on probation (on the 2-core machine of
    /// RELIABILITY.md a quarter of it), and a longer flood only fills its bounded queue, whose
    /// refusals cost no pairing.
    private func run() {
        while let item = take() {
            let start = DispatchTime.now().uptimeNanoseconds
            let valid = (try? Groth16.verify(pvk, proof: item.request.proof, publicInputs: item.request.publicInputs.array)) ?? false
            let spent = DispatchTime.now().uptimeNanoseconds - start
            deliver?(item, valid)
            Thread.sleep(forTimeInterval: Double(spent) / 1e9)
        }
    }
}

/// Per-client admission state (issue 14, point 4), guarded by the service's lock: what each
/// client has in flight, its token bucket, and its probation. Entries of clients that hold
/// nothing are dropped, so the maps hold only clients seen recently.
struct ClientLimits {
    private(set) var inFlight: [String: Int] = [:]
    private var buckets: [String: (tokens: Double, at: UInt64)] = [:]
    private var probationUntil: [String: UInt64] = [:]

    mutating func add(_ client: String?) { if let client { inFlight[client, default: 0] += 1 } }

    mutating func release(_ client: String?) {
        guard let client, let n = inFlight[client] else { return }
        inFlight[client] = n > 1 ? n - 1 : nil
    }

    func count(_ client: String?) -> Int { client.flatMap { inFlight[$0] } ?? 0 }

    /// Takes one token of `client`'s bucket (`rate` a second, holding at most `rate`); false
    /// if it is empty.
    mutating func take(_ client: String, rate: Int, now: UInt64) -> Bool {
        let capacity = Double(rate)
        var b = buckets[client] ?? (tokens: capacity, at: now)
        b.tokens = min(capacity, b.tokens + Double(now &- b.at) / 1e9 * capacity)
        b.at = now
        let ok = b.tokens >= 1
        if ok { b.tokens -= 1 }
        buckets[client] = b
        if buckets.count > 16_384 {
            // Forget clients whose bucket has refilled: remembering them changes nothing.
            buckets = buckets.filter { Double(now &- $0.value.at) / 1e9 * capacity + $0.value.tokens < capacity }
        }
        return ok
    }

    func onProbation(_ client: String?, now: UInt64) -> Bool {
        guard let client, let until = probationUntil[client] else { return false }
        return until > now
    }

    mutating func putOnProbation(_ client: String?, seconds: Int, now: UInt64) {
        guard let client, seconds > 0 else { return }
        probationUntil[client] = now + UInt64(seconds) * 1_000_000_000
        if probationUntil.count > 16_384 { probationUntil = probationUntil.filter { $0.value > now } }
    }

    var onProbationCount: Int {
        let now = DispatchTime.now().uptimeNanoseconds
        return probationUntil.values.filter { $0 > now }.count
    }
}
