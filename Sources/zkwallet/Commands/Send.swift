import ArgumentParser
import Foundation
import Protocol
import SettlementClient
import Wallet

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pay AMOUNT privately to an address (syncs, selects notes, proves, submits, checks the receipt).")
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "The recipient's address (zks1…).") var to: String
    @Option(help: "A note for the recipient only (encrypted; at most 128 bytes).") var memo: String = ""
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        let started = Date()
        try reportingErrors {
            let recipient: Address
            do { recipient = try Address(encoded: to) } catch { throw WalletError("--to: \(error); ask the payee for their `zkwallet address`", code: "usage") }
            let w = try options.open(spending: true)
            let outcome = try w.send(value, to: recipient, memo: memo, saveRequest: request.file, syncFirst: true)
            try describe(outcome, wallet: w, what: Payment(kind: "send", amount: value, to: recipient.encoded, memo: memo), started: started, json: output.json)
        }
    }
}
