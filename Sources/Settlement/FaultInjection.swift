import Foundation

/// Crash points for the crash test (`scripts/crash_test.py`, issue 7), off unless asked for.
///
/// `ZKSETTLE_FAULT_KILL_AT=<point>:<n>` makes the process send itself SIGKILL the n-th time it
/// reaches `<point>`:
///
/// - `inside-commit`: a batch's rows are written inside its transaction and COMMIT has not run;
/// - `after-commit`: COMMIT has returned and no client has heard "settled" yet.
///
/// Those windows last a few milliseconds, so a SIGKILL from outside at a random moment rarely
/// lands in them; this makes the test hit them on purpose. The variable is read once; without
/// it every `reach` is a load and a compare.
enum FaultInjection {
    enum Point: String { case insideCommit = "inside-commit", afterCommit = "after-commit" }

    static let plan: (point: Point, count: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["ZKSETTLE_FAULT_KILL_AT"] else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let point = Point(rawValue: String(parts[0])), let n = Int(parts[1]), n >= 1 else {
            FileHandle.standardError.write(Data("ZKSETTLE_FAULT_KILL_AT=\(text) ignored: expected inside-commit:N or after-commit:N\n".utf8))
            return nil
        }
        return (point, n)
    }()

    /// Times each point was reached; only touched by the ledger's single writer, under its lock.
    nonisolated(unsafe) static var reached: [Point: Int] = [:]

    /// Called by the single writer (under the ledger's writer lock) at `point`.
    static func reach(_ point: Point) {
        guard let plan, plan.point == point else { return }
        let n = (reached[point] ?? 0) + 1
        reached[point] = n
        if n == plan.count { kill(getpid(), SIGKILL) }
    }
}
