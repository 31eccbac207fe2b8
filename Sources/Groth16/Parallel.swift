import Dispatch
import Foundation

/// Results written by parallel workers, each to its own slot.
final class Slots<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T?>
    init(_ n: Int) { buffer = .allocate(capacity: n); buffer.initialize(repeating: nil) }
    deinit { buffer.deinitialize(); buffer.deallocate() }
    func set(_ i: Int, _ v: T) { buffer[i] = v }
}

/// `body(0..<count)` on all cores; results in index order.
public func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    if count == 1 { return [body(0)] }
    let slots = Slots<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { i in slots.set(i, body(i)) }
    return slots.buffer.map { $0! }
}

public enum ProcessInfoShim {
    public static let cores = ProcessInfo.processInfo.activeProcessorCount
}
