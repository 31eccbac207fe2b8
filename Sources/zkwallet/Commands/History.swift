import ArgumentParser
import Foundation
import Wallet
import TerminalUI

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Payments received and made, newest first, dated by when their batch settled.",
        discussion: """
            --json prints a list of rows of one shape: kind (received, deposit, send, withdraw, \
            merge), direction (in, out, self), amount, counterparty (null where the wallet did not \
            make the transfer), memo, transfer_id (null for a received note), status (settled, \
            pending, refused, not_settled, receipt_invalid), batch, leaf_index, spent (null for \
            transfers), settled_at (ISO 8601 UTC) and settled_at_ms (null when it did not settle), \
            recorded_at_ms (when this wallet learned of it). --csv prints the same columns.

            EXAMPLES
              zkwallet history --limit 10
              zkwallet history --since 7d --kind received
              zkwallet history --csv > history.csv
            """)
    @OptionGroup var options: WalletOptions
    @Option(help: "Only rows settled (or recorded) at or after this time: ISO 8601, or 15m, 2h, 7d back from now.") var since: String?
    @Option(help: "At most this many rows, the newest.") var limit: Int?
    @Option(help: "Only these kinds, comma-separated: received, deposit, send, withdraw, merge.") var kind: String?
    @Flag(help: "Print CSV (the --json columns).") var csv = false
    @Flag(help: "Full transfer ids, addresses and memos in the table (wider than 100 columns).") var wide = false
    @OptionGroup var output: OutputOptions

    static let kinds: Set<String> = ["received", "deposit", "send", "withdraw", "merge"]

    func validate() throws {
        if let since { _ = try parseTime(since) }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let kind {
            let unknown = kind.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !Self.kinds.contains($0) }
            if !unknown.isEmpty { throw ValidationError("--kind \(unknown.joined(separator: ",")): expected some of \(Self.kinds.sorted().joined(separator: ", "))") }
        }
        if csv && output.json { throw ValidationError("--csv and --json: choose one") }
    }

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            var entries = try w.history().reversed() as [HistoryEntry]  // newest first
            if let since { let t = try parseTime(since); entries = entries.filter { $0.time >= t } }
            if let kind {
                let wanted = Set(kind.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                entries = entries.filter { wanted.contains($0.kind) }
            }
            if let limit { entries = Array(entries.prefix(limit)) }
            if output.json { Terminal.printJSON(entries.map(\.json)); return }
            if csv { printCSV(entries); return }
            if entries.isEmpty { print("no payments yet (run `zkwallet sync` to look for incoming ones)"); return }
            Terminal.printTable(["settled (UTC)", "kind", "amount", "counterparty", "status", "memo"], entries.map { $0.row(wide: wide) }, numeric: [2])
        }
    }

    static let csvColumns = ["settled_at", "settled_at_ms", "recorded_at_ms", "kind", "direction", "amount", "counterparty", "memo",
                             "transfer_id", "status", "batch", "leaf_index", "spent"]

    func printCSV(_ entries: [HistoryEntry]) {
        func field(_ v: Any) -> String {
            switch v {
            case is NSNull: return ""
            case let b as Bool: return b ? "true" : "false"
            default: return Terminal.csvField("\(v)")
            }
        }
        print(Self.csvColumns.joined(separator: ","))
        for e in entries {
            let row = e.json
            print(Self.csvColumns.map { field(row[$0] ?? NSNull()) }.joined(separator: ","))
        }
    }
}

extension HistoryEntry {
    /// The row for `history --json` (and `--csv`): one shape for every kind, null where a
    /// field does not apply.
    var json: [String: Any] {
        var e: [String: Any] = [
            "kind": kind, "direction": direction.rawValue, "amount": amount, "memo": memo, "status": status.code,
            "settled_at": Terminal.nullable(settledAt.map { Terminal.isoTime($0) }), "settled_at_ms": Terminal.nullable(settledAt),
            "recorded_at_ms": recordedAt,
        ]
        switch event {
        case .received(let n):
            e["counterparty"] = NSNull()
            e["transfer_id"] = NSNull()
            e["batch"] = n.batch
            e["leaf_index"] = n.leafIndex
            e["spent"] = n.spent
        case .transfer(let t):
            e["counterparty"] = Terminal.nullable(t.counterparty)
            e["transfer_id"] = t.id
            e["batch"] = Terminal.nullable(t.batch)
            e["leaf_index"] = NSNull()
            e["spent"] = NSNull()
        }
        return e
    }

    /// The entry's row in the table: settlement time, kind, amount, counterparty, status, memo.
    /// Long addresses and memos are cut to fit 100 columns unless `wide`.
    func row(wide: Bool) -> [String] {
        let counterparty: String = switch event {
        case .received: "(private)"
        case .transfer(let t): t.counterparty.map { wide ? $0 : Terminal.shortened($0) } ?? "(not recorded)"
        }
        let when = settledAt.map(Terminal.utcTime) ?? (status == .settled ? Terminal.utcTime(recordedAt) : "—")
        let shownMemo = wide || memo.count <= 24 ? memo : String(memo.prefix(23)) + "…"
        return [when, kind, "\(amount)", counterparty, status == .settled ? "" : status.rawValue, shownMemo]
    }
}
