import Dispatch

/// Runs blocking code (sockets, synchronous HTTP, waiting on a child process) on a Dispatch
/// thread. Blocking a thread of Swift's cooperative pool instead (as `Task.detached` would; the
/// pool has one thread per core, two here) can starve an in-process server under test, whose
/// handlers run on that pool.
public func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try work() }) }
    }
}
