import ArgumentParser
import Foundation
import SettlementClient
import Wallet
import TerminalUI

struct BalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Spendable and pending value (syncs first unless --offline).",
                                                    discussion: """
                                                        --json prints {spendable, pending, total, notes, watch_only, synced}.

                                                        EXAMPLES
                                                          zkwallet balance
                                                          zkwallet balance --offline --json
                                                        """)
    @OptionGroup var options: WalletOptions
    @Flag(help: "Do not sync: show the balance as of the last sync.") var offline = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            var synced = false
            if !offline {
                do { try w.sync(quiet: true); synced = true } catch let e as WalletError where e.code != "params_mismatch" {
                    printToStderr("warning: could not sync (\(e.description)); showing the balance as of the last sync")
                }
            }
            let b = try w.balance()
            if output.json {
                Terminal.printJSON(["spendable": b.spendable, "pending": b.pending, "total": b.spendable + b.pending, "notes": b.spendableNotes,
                           "watch_only": w.isWatchOnly, "synced": synced])
            } else {
                print("spendable: \(b.spendable)   (in \(b.spendableNotes) note\(b.spendableNotes == 1 ? "" : "s"))")
                print("pending:   \(b.pending)   (in transfers submitted but not yet confirmed)")
                if w.isWatchOnly { print("watch-only wallet: it sees this money but cannot spend it") }
            }
        }
    }
}
