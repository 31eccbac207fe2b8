import Foundation
import Testing

/// Runs blocking code (sockets, synchronous HTTP, waiting on a child process) on a thread of its
/// own instead of a thread of Swift's cooperative pool. The pool has one thread per core (two
/// here); blocking them starves every other test and any in-process server under test, whose
/// handlers run on that pool. Dispatch's global queues are no way out on Linux: measured here,
/// three blocked `DispatchQueue.global()` items held up a task on the pool for as long as they
/// blocked.
///
/// The code runs in the calling task, only on another executor, so task-local values stay: an
/// `#expect` inside is recorded against the test that runs it.
public func offCooperativePool<T>(_ work: () throws -> T) async throws -> T {
    try await withTaskExecutorPreference(BlockingExecutor.shared) { try work() }
}

/// A task executor that runs each job on a new thread, which may block as long as it likes.
final class BlockingExecutor: TaskExecutor {
    static let shared = BlockingExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        Thread { job.runSynchronously(on: self.asUnownedTaskExecutor()) }.start()
    }
}

/// A suite or test trait: the test runs with `BlockingExecutor` as its task executor, and so do
/// the tasks it starts (an in-process server's included). For tests that prove on the calling
/// thread (half a second a proof): on the cooperative pool, each proof would block one of its
/// two threads and starve every other test's server running in parallel, which then times out.
public struct OffCooperativePoolTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(BlockingExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OffCooperativePoolTrait {
    /// Runs the test (and the tasks it starts) off Swift's cooperative pool.
    public static var offCooperativePool: Self { OffCooperativePoolTrait() }
}
