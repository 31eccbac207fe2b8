import Foundation

/// A few threads of its own for blocking work asked from async code: SQLite reads of HTTP
/// handlers and admission. A SQLite call blocks its thread; on a thread of Swift's cooperative
/// pool (one per core, two here) it would hold up every task meanwhile, and `DispatchQueue.global`
/// is no way out on Linux (its items share those cores' worker limit; TestSupport's
/// `offCooperativePool` has the measurement). Same shape as `VerifierPool`: threads waiting on
/// a condition for a FIFO of jobs.
///
/// Threads start on first use and end on `stop()`; after that, work runs on the caller's thread
/// (a read after shutdown is still answered, as before this pool existed).
public final class BlockingPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var started = false
    private var stopping = false
    private let threadCount: Int
    private let name: String

    /// `name`-0, `name`-1, … name the threads (Linux keeps 15 bytes of a thread's name).
    public init(threads: Int, name: String) {
        threadCount = max(1, threads)
        self.name = name
    }

    /// Runs `body` on one of the pool's threads and returns its value.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, Error>) in
            let job: @Sendable () -> Void = { done.resume(with: Result { try body() }) }
            if !enqueue(job) { job() }
        }
    }

    /// `run` for work that cannot fail.
    public func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            let job: @Sendable () -> Void = { done.resume(returning: body()) }
            if !enqueue(job) { job() }
        }
    }

    /// Lets the threads finish the queued jobs, then end.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// False when the pool is stopped (the caller runs the job itself).
    private func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        if !started {
            started = true
            for i in 0..<threadCount {
                // Named from inside: on Linux, Foundation applies a name set before `start()`
                // to the Thread object only, and the thread keeps its creator's name.
                let threadName = "\(name)-\(i)"
                Thread { [self] in
                    Thread.current.name = threadName
                    self.work()
                }.start()
            }
        }
        jobs.append(job)
        condition.signal()
        return true
    }

    private func take() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if stopping { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        if head == jobs.count { jobs.removeAll(keepingCapacity: true); head = 0 }
        return job
    }

    private func work() {
        while let job = take() { job() }
    }
}
