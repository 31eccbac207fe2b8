import ArgumentParser
import Foundation
import Wallet
import TerminalUI

struct Notes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "This wallet's notes: value, position, spent or not.",
        discussion: """
            EXAMPLES
              zkwallet notes
              zkwallet notes --all --json
            """)
    @OptionGroup var options: WalletOptions
    @Flag(help: "Include spent notes.") var all = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            let notes = try all ? w.database.notes() : w.database.unspentNotes()
            if output.json {
                Terminal.printJSON(notes.map { n -> [String: Any] in
                    ["leaf_index": n.leafIndex, "value": n.value, "memo": n.memo, "batch": n.batch, "commitment": n.commitment.decimalString,
                     "status": n.status.rawValue]
                })
                return
            }
            if notes.isEmpty { print(all ? "no notes" : "no unspent notes (--all shows spent ones)"); return }
            Terminal.printTable(["leaf", "value", "status", "batch", "memo"], notes.map {
                ["\($0.leafIndex)", "\($0.value)", $0.status.rawValue, "\($0.batch)", $0.memo.count <= 60 ? $0.memo : String($0.memo.prefix(59)) + "…"]
            }, numeric: [0, 1, 3])
        }
    }
}
