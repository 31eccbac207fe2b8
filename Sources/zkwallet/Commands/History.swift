import ArgumentParser
import Foundation
import Wallet
import TerminalUI

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Payments received and made, with memos.",
                                                    discussion: "--json prints a list, memos included.")
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            let entries = try w.history()
            if output.json { Terminal.printJSON(entries.map(\.json)); return }
            if entries.isEmpty { print("no payments yet (run `zkwallet sync` to look for incoming ones)"); return }
            Terminal.printTable(["time (UTC)", "kind", "amount", "counterparty", "memo"], entries.map(\.row), numeric: [2])
        }
    }
}

extension HistoryEntry {
    /// The entry for `history --json`.
    var json: [String: Any] {
        switch event {
        case .received(let n):
            var e: [String: Any] = ["direction": direction.rawValue, "amount": n.value, "memo": n.memo, "leaf_index": n.leafIndex,
                                    "batch": n.batch, "spent": n.spent, "time": n.foundAt]
            if let by = n.spentBy { e["spent_by"] = by }
            return e
        case .transfer(let t):
            return ["direction": direction.rawValue, "kind": t.kind.rawValue, "amount": t.amount, "counterparty": t.counterparty,
                    "memo": t.memo, "transfer_id": t.id, "status": t.status.rawValue, "batch": t.batch ?? -1, "time": t.createdAt]
        }
    }

    /// The entry's row in the table: time, kind, amount, counterparty (long ones cut), memo.
    var row: [String] {
        let (kind, counterparty): (String, String) = switch event {
        case .received: ("received", "(private)")
        case .transfer(let t): (t.kind.rawValue, t.counterparty.count > 24 ? String(t.counterparty.prefix(20)) + "…" : t.counterparty)
        }
        return [Terminal.utcTime(time), kind, "\(amount)", counterparty, memo]
    }
}
