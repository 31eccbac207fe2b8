import Foundation
import Groth16
import Protocol

/// A transfer of a client on probation, waiting for the lane.
package struct ProbationItem: Sendable {
    package let request: TransferRequest
    package let proofJSON: [UInt8]
    package let client: String?
}

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
    typealias Item = ProbationItem

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var head = 0
    private var stopping = false
    private var thread: Thread?
    private let pvk: PreparedVerifyingKey
    /// Receives each item with whether its proof verified.
    private let deliver: @Sendable (Item, Bool) -> Void

    init(pvk: PreparedVerifyingKey, deliver: @escaping @Sendable (Item, Bool) -> Void) {
        self.pvk = pvk
        self.deliver = deliver
    }

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
            deliver(item, valid)
            Thread.sleep(forTimeInterval: Double(spent) / 1e9)
        }
    }
}
