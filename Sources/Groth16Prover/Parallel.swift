import Dispatch

/// `body(i)` for i in 0..<count on all cores; results in index order.
func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    if count == 1 { return [body(0)] }
    let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    slots.initialize(repeating: nil)
    defer { slots.deinitialize(); slots.deallocate() }
    nonisolated(unsafe) let out = slots
    DispatchQueue.concurrentPerform(iterations: count) { i in out[i] = body(i) }
    return slots.map { $0! }
}
