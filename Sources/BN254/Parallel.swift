import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processors this process may run on (at least 1): the one core count of the project,
/// for worker pools, batch sizes and benchmark reports.
public let coreCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// `body(0..<count)` on all cores; results in index order.
public func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    if count == 0 { return [] }
    if count == 1 { return [body(0)] }
    let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    slots.initialize(repeating: nil)
    defer { slots.deinitialize(); slots.deallocate() }
    let out = SendablePointer(slots.baseAddress!)
    DispatchQueue.concurrentPerform(iterations: count) { i in out.pointer[i] = body(i) }
    return slots.map { $0! }
}

/// A raw pointer handed to parallel workers that touch disjoint ranges.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}

/// A value shared with parallel workers that only read it (or write disjoint parts).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// `body(lo, hi)` over `chunks` contiguous ranges covering 0..<count, concurrently.
func parallelChunks(_ count: Int, _ chunks: Int, _ body: (Int, Int) -> Void) {
    let k = max(1, min(chunks, count))
    if k == 1 { body(0, count); return }
    withoutActuallyEscaping(body) { body in
        let b = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: k) { i in
            b.value(count * i / k, count * (i + 1) / k)
        }
    }
}

/// Serial source of job indices for a pool of workers.
final class JobQueue: @unchecked Sendable {
    private let lock = DispatchQueue(label: "zksettle.jobs")
    private var nextIndex = 0
    private let count: Int
    init(_ count: Int) { self.count = count }
    func next() -> Int? {
        lock.sync {
            if nextIndex >= count { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }
}
