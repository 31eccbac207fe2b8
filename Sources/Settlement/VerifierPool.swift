import Foundation
import Groth16
import Protocol

/// One admitted transfer on its way through the pipeline.
package struct PipelineItem: Sendable {
    package let sequence: Int64
    package let request: TransferRequest
    package let proofJSON: [UInt8]
    package let admittedAt: UInt64  // monotonic nanoseconds
}

/// Verifier threads (one per core by default) that form batches of up to `maxBatch` proofs,
/// or fewer after `flushMilliseconds`, verify them with one randomized batch equation
/// (bisecting failures), and hand results on. CPU-heavy work stays off Swift's cooperative
/// executor (as bellman's and zebra's batch verifiers do).
final class VerifierPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [PipelineItem] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    private let pvk: PreparedVerifyingKey
    private let config: SettlementConfig
    /// Receives each verified batch, with the items' sequence numbers.
    private let deliver: @Sendable ([VerifiedTransfer], [Int64], BatchStats) -> Void

    struct BatchStats: Sendable {
        var size: Int
        var verifyNanoseconds: UInt64
        var bisections: Int
        var invalid: Int
    }

    init(pvk: PreparedVerifyingKey, config: SettlementConfig,
         deliver: @escaping @Sendable ([VerifiedTransfer], [Int64], BatchStats) -> Void) {
        self.pvk = pvk
        self.config = config
        self.deliver = deliver
    }

    func start() {
        for i in 0..<max(1, config.workers) {
            let t = Thread { [self] in self.run() }
            t.name = "zksettle-verifier-\(i)"
            t.stackSize = 4 << 20
            threads.append(t)
            t.start()
        }
    }

    func enqueue(_ item: PipelineItem) {
        condition.lock()
        queue.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the threads once the queue is empty.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func take() -> [PipelineItem]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let available = queue.count - head
            if available >= config.maxBatch || (available > 0 && stopping) { break }
            if available > 0 {
                let deadline = queue[head].admittedAt + UInt64(config.flushMilliseconds) * 1_000_000
                let now = DispatchTime.now().uptimeNanoseconds
                if now >= deadline { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
                continue
            }
            if stopping { return nil }
            condition.wait()
        }
        let n = min(config.maxBatch, queue.count - head)
        let batch = Array(queue[head..<(head + n)])
        head += n
        if head > 4096 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        return batch
    }

    private func run() {
        while let batch = take() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let outcome = Groth16.batchVerify(pvk, batch.map { (proof: $0.request.proof, publicInputs: $0.request.publicInputs.array) },
                                              parallelism: 1)
            let elapsed = DispatchTime.now().uptimeNanoseconds - t0
            let verified = batch.enumerated().map { i, item in
                VerifiedTransfer(request: item.request, proofJSON: item.proofJSON, proofValid: outcome.valid[i])
            }
            deliver(verified, batch.map(\.sequence),
                    BatchStats(size: batch.count, verifyNanoseconds: elapsed, bisections: outcome.bisections,
                               invalid: outcome.invalidIndices.count))
        }
    }
}
