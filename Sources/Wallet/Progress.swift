import Foundation

/// A step of the wallet long enough to report as it goes.
public enum LongStep: Sendable {
    /// Proving a transfer: stages "witness", "quotient", "msm".
    case proving
    /// Checking a proving key before its first use: stages "points", "pairings".
    case checkingProvingKey
    /// Downloading the proving key: bytes.
    case downloadingProvingKey

    /// The step's name at the head of its progress line.
    public var title: String {
        switch self {
        case .proving: "proving"
        case .checkingProvingKey: "checking key"
        case .downloadingProvingKey: "downloading"
        }
    }

    /// The words before the duration in a timed step's summary ("proved in" 1.23 s).
    public var finishedTitle: String {
        switch self {
        case .proving: "proved in"
        case .checkingProvingKey: "checked the proving key in"
        case .downloadingProvingKey: "downloaded in"
        }
    }

    /// The step's summary when it ends, `seconds` after it started, with `bytes` received.
    public func summary(seconds: Double, bytes: Int) -> String {
        switch self {
        case .proving, .checkingProvingKey: finishedTitle + " " + String(format: "%.2f s", seconds)
        case .downloadingProvingKey: String(format: "downloaded %.1f MiB", Double(bytes) / 1_048_576)
        }
    }

    /// The share of the whole step done when `fraction` of `stage` is. Proving: witness
    /// 0–10 %, quotient 10–35 %, msm 35–100 % (their shares of a proof's time). Checking a
    /// key: points 0–75 %, pairings 75–100 %.
    public static func overall(stage: String, fraction: Double) -> Double {
        let (lo, hi): (Double, Double) = switch stage {
        case "witness": (0, 0.1)
        case "quotient": (0.1, 0.35)
        case "points": (0, 0.75)
        case "pairings": (0.75, 1)
        default: (0.35, 1)
        }
        return lo + (hi - lo) * fraction
    }

    /// One line of a staged step: its title, a 30-character bar, the percentage and the stage.
    public func line(stage: String, fraction: Double) -> String {
        let p = Self.overall(stage: stage, fraction: fraction)
        let width = 30
        let filled = Int(p * Double(width))
        return "\(title) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(Int(p * 100))% \(stage)"
    }
}

/// What a long step has done, reported as it goes (from any thread). `zkwallet` draws it in
/// place on a terminal; the wallet's own report writes lines to its log.
public protocol StepProgress: AnyObject, Sendable {
    /// `fraction` (0…1) of the stage `stage` is done.
    func update(stage: String, fraction: Double)
    /// `received` bytes of `expected` (if known) have arrived.
    func update(received: Int, expected: Int?)
    /// The step is done: its summary.
    func finish()
    /// The step failed and its error follows: no summary.
    func abandon()
}

/// The report without a terminal: a line to `log` as each stage starts, and the summary.
final class LoggedProgress: StepProgress, @unchecked Sendable {
    private let step: LongStep
    private let log: (String) -> Void
    private let start = Date()
    private let lock = NSLock()
    private var received = 0

    init(_ step: LongStep, log: @escaping (String) -> Void) { self.step = step; self.log = log }

    func update(stage: String, fraction: Double) {
        if fraction == 0 { log(step.line(stage: stage, fraction: fraction)) }
    }

    func update(received: Int, expected: Int?) { lock.lock(); self.received = received; lock.unlock() }

    func finish() {
        lock.lock(); let bytes = received; lock.unlock()
        log(step.summary(seconds: Date().timeIntervalSince(start), bytes: bytes))
    }

    func abandon() {}
}
