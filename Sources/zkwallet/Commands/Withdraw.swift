import ArgumentParser
import Foundation
import Wallet

struct Withdraw: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw AMOUNT to RECIPIENT: the server records a payout owed to it.")
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "The payout's recipient (an account reference the operator pays; up to 256 bytes).") var to: String
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        try reportingErrors {
            let outcome = try options.open().withdraw(value, to: to, saveRequest: request.file, syncFirst: true)
            describe(outcome, json: output.json, extra: ["amount": value, "to": to])
        }
    }
}
