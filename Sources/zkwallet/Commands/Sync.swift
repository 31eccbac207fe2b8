import ArgumentParser
import Foundation
import Wallet
import TerminalUI

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find this wallet's notes on the server (trial decryption) and which are spent. Resumable.",
        discussion: """
            Asks only what every wallet asks (all notes, all spends), so the server learns nothing of \
            this wallet's notes. Also settles what transfers it submitted without hearing back: those \
            that settled are recorded, those that never reached the server give their notes back.

            EXAMPLES
              zkwallet sync
              zkwallet sync --json
            """)
    @OptionGroup var options: WalletOptions
    @Option(help: "Leaves per request (1…10000).") var pageSize: Int = 10_000
    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            let r = try w.sync(pageSize: max(1, min(pageSize, 10_000)), quiet: output.json)
            let b = try w.balance()
            if output.json {
                Terminal.printJSON(["scanned": r.scanned, "found": r.found, "found_value": r.foundValue, "newly_spent": r.newlySpent,
                           "leaf_count": r.leafCount, "seconds": r.seconds, "spendable": b.spendable, "pending": b.pending,
                           "released": r.released.map { ["transfer_id": $0.transfer.id, "kind": $0.transfer.kind.rawValue, "amount": $0.transfer.amount,
                                                         "counterparty": Terminal.nullable($0.transfer.counterparty), "freed_value": $0.freedValue] },
                           "settled_while_away": r.settledWhileAway.map { ["transfer_id": $0.id, "kind": $0.kind.rawValue, "amount": $0.amount,
                                                                           "batch": Terminal.nullable($0.batch)] }])
            } else {
                print("synced \(r.leafCount) leaves (\(r.scanned) new) in \(String(format: "%.2f", r.seconds)) s: \(r.found) new notes worth \(r.foundValue), \(r.newlySpent) notes newly spent")
                print("spendable: \(b.spendable)")
            }
        }
    }
}
