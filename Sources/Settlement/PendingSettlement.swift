import Foundation
import Ledger
import Protocol

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
