import Foundation

/// Crash and failure points for the fault tests (`scripts/crash_test.py`, issue 7; the failed
/// commit tests, issue 14), off unless asked for.
///
/// `ZKSETTLE_FAULT_KILL_AT=<point>:<n>` makes the process send itself SIGKILL the n-th time it
/// reaches `<point>`:
///
/// - `inside-commit`: a batch's rows are written inside its transaction and COMMIT has not run;
/// - `after-commit`: COMMIT has returned and no client has heard "settled" yet.
///
/// Both ledgers reach these points in their commit (`SQLiteLedger`, `PostgresLedger`).
///
/// `ZKSETTLE_FAULT_FAIL_AT=<point>:<n>[,<point>:<n>…]` makes the ledger's commit throw
/// `LedgerError.injectedFault` the n-th time it reaches `<point>`, instead of dying: at
/// `inside-commit` the transaction rolls back (nothing lands); at `after-commit` the batch is
/// durable but the caller hears a failure, the unclear outcome a lost disk or a full one can
/// give. Counts are per point, over the life of the process.
///
/// Those windows last a few milliseconds, so a fault from outside at a random moment rarely
/// lands in them; this makes the tests hit them on purpose. The variables are read once;
/// without them every `reach` is a load and a compare.
package enum FaultInjection {
    package enum Point: String { case insideCommit = "inside-commit", afterCommit = "after-commit" }

    package static let plan: (point: Point, count: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["ZKSETTLE_FAULT_KILL_AT"] else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let point = Point(rawValue: String(parts[0])), let n = Int(parts[1]), n >= 1 else {
            FileHandle.standardError.write(Data("ZKSETTLE_FAULT_KILL_AT=\(text) ignored: expected inside-commit:N or after-commit:N\n".utf8))
            return nil
        }
        return (point, n)
    }()

    /// The planned failures: for each point, the visits (1-based) at which commit throws.
    package static let failures: [Point: Set<Int>] = {
        guard let text = ProcessInfo.processInfo.environment["ZKSETTLE_FAULT_FAIL_AT"] else { return [:] }
        var out: [Point: Set<Int>] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let point = Point(rawValue: String(parts[0])), let n = Int(parts[1]), n >= 1 else {
                FileHandle.standardError.write(Data("ZKSETTLE_FAULT_FAIL_AT entry \(entry) ignored: expected inside-commit:N or after-commit:N\n".utf8))
                continue
            }
            out[point, default: []].insert(n)
        }
        return out
    }()

    /// Times each point was reached; only touched by the ledger's single writer, under its lock.
    nonisolated(unsafe) package static var reached: [Point: Int] = [:]

    /// Called by the single writer (under the ledger's writer lock) at `point`.
    package static func reach(_ point: Point) throws(LedgerError) {
        if plan == nil && failures.isEmpty { return }
        let n = (reached[point] ?? 0) + 1
        reached[point] = n
        if let plan, plan.point == point, n == plan.count { kill(getpid(), SIGKILL) }
        if failures[point]?.contains(n) == true { throw .injectedFault("\(point.rawValue):\(n)") }
    }
}
