import ArgumentParser
import Foundation
import Wallet

struct Withdraw: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Withdraw AMOUNT to RECIPIENT: the server records a payout owed to it.",
        discussion: """
            The operator pays the recipient (an account reference of theirs) and marks the payout \
            paid; the line printed names the transfer to quote if it does not arrive.

            EXAMPLES
              zkwallet withdraw 50 --to "iban:DE00 1234"
            """)
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "The payout's recipient (an account reference the operator pays; up to 256 bytes).") var to: String
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        let started = Date()
        try reportingErrors {
            let w = try options.open(spending: true)
            let outcome = try w.withdraw(value, to: to, saveRequest: request.file, syncFirst: true)
            try describe(outcome, wallet: w, what: Payment(kind: "withdraw", amount: value, to: to), started: started, json: output.json)
        }
    }
}
