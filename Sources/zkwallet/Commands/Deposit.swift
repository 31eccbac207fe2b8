import ArgumentParser
import Foundation
import Protocol
import SettlementClient
import Wallet

struct Deposit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deposit AMOUNT into a new note of this wallet, paid by a single-use voucher from the operator.",
        discussion: """
            The operator makes the voucher with `zksettle-admin deposits voucher --amount AMOUNT`; it \
            pays for one deposit of exactly that amount before it expires. Its signature is checked \
            against the server's deposit key before anything is proved.

            EXAMPLES
              zkwallet deposit 100 --voucher-file voucher.txt
              ZKWALLET_VOUCHER=zkv1… zkwallet deposit 100 --json
            """)
    @Argument(help: "Whole units: exactly the voucher's amount.") var amount: String
    @Option(help: ArgumentHelp("The deposit voucher (zkv1…). Prefer --voucher-file or $ZKWALLET_VOUCHER: a command line is seen by other users of this machine.", valueName: "zkv1…"))
    var voucher: String?
    @Option(help: ArgumentHelp("A file holding the deposit voucher.", valueName: "FILE"))
    var voucherFile: String?
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        let started = Date()
        try reportingErrors {
            guard let text = try voucher ?? Secrets.fromFileOrEnvironment(file: voucherFile, env: "ZKWALLET_VOUCHER", option: "--voucher-file") else {
                throw WalletError("a deposit needs a voucher from the operator (zksettle-admin deposits voucher --amount \(value)): --voucher-file FILE, $ZKWALLET_VOUCHER or --voucher zkv1…", code: "usage")
            }
            let parsed: DepositVoucher
            do { parsed = try DepositVoucher(text: text) } catch let e as DepositVoucher.Failure { throw WalletError(e.description, code: "usage") }
            let w = try options.open(spending: true)
            let outcome = try w.deposit(value, voucher: parsed)
            try describe(outcome, wallet: w, what: Payment(kind: "deposit", amount: value), started: started, json: output.json)
        }
    }
}
