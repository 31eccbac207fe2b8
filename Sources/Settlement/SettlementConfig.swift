/// Tunables of the settlement pipeline (the server exposes each as a flag).
public struct SettlementConfig: Sendable {
    /// Proofs per verification batch (flush when reached).
    public var maxBatch: Int = 64
    /// Longest a proof waits for its batch to fill, milliseconds.
    public var flushMilliseconds: Int = 5
    /// Verifier threads (default: one per core).
    public var workers: Int = ProcessInfoCores.count
    /// Admitted transfers waiting for verification or commit; beyond it, 503 overloaded.
    public var queueCapacity: Int = 4096
    /// The operator's deposit credential; nil disables deposits.
    public var depositToken: String?
    /// Roots accepted besides the current one.
    public var rootWindow: Int = SequencerState.defaultRootWindow

    public init() {}
}

import Foundation

public enum ProcessInfoCores {
    public static let count = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
