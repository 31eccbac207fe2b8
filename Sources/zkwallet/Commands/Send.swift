import ArgumentParser
import Foundation
import Protocol
import SettlementClient
import TerminalUI
import Wallet

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pay AMOUNT privately to an address, or pay a payment request (syncs, selects notes, proves, submits, checks the receipt).",
        discussion: """
            Prints what it did: `sent 30 to zks1q98r…uez5 (memo "lunch") · batch 2 · spendable now 70`. \\
            A second command on the same wallet waits for this one. Ctrl-C says whether anything was sent. \\
            With --uri it first shows what it will pay, and asks (on a terminal) or needs --yes.

            EXAMPLES
              zkwallet send 30 --to zks1… --memo "lunch"
              zkwallet send --uri 'zks:zks1…?amount=30&memo=lunch' --yes
              zkwallet send 30 --to zks1… --no-submit --save-request transfer.json
            """)
    @Argument(help: "Whole units (with --uri: only if the request names no amount).") var amount: String?
    @Option(help: "The recipient's address (zks1…).") var to: String?
    @Option(help: "A note for the recipient only (encrypted; at most 128 bytes).") var memo: String?
    @Option(help: ArgumentHelp("Pay this payment request (zkwallet request): its address, amount and memo.", valueName: "zks:…")) var uri: String?
    @Flag(help: "With --uri: pay without asking.") var yes = false
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    /// What to pay: from --uri, or from AMOUNT, --to and --memo.
    func payment() throws -> (amount: UInt64, to: Address, memo: String) {
        guard let uri else {
            guard let amount, let to else { throw ValidationError("give AMOUNT and --to ADDRESS, or --uri with a payment request") }
            let recipient: Address
            do { recipient = try Address(encoded: to) } catch { throw WalletError("--to: \(error); ask the payee for their `zkwallet address`", code: "usage") }
            return (try parseAmount(amount), recipient, memo ?? "")
        }
        if to != nil { throw ValidationError("--uri names the recipient: drop --to") }
        let r: PaymentRequest
        do { r = try PaymentRequest(uri: uri) } catch { throw WalletError("--uri: \(error)", code: "usage") }
        let given = try amount.map(parseAmount)
        if let a = r.amount, let g = given, a != g { throw ValidationError("the request asks for \(a), not \(g): drop AMOUNT to pay the request") }
        guard let value = r.amount ?? given else { throw ValidationError("the request names no amount: give AMOUNT") }
        if memo != nil && r.memo != nil && memo != r.memo { throw ValidationError("the request carries its own memo: drop --memo") }
        return (value, r.address, r.memo ?? memo ?? "")
    }

    func validate() throws {
        if let amount { _ = try parseAmount(amount) }
        if uri == nil && (amount == nil || to == nil) { throw ValidationError("give AMOUNT and --to ADDRESS, or --uri with a payment request") }
    }

    func run() throws {
        let started = Date()
        try reportingErrors {
            let (value, recipient, note) = try payment()
            if uri != nil {
                let what = "pay \(value) to \(recipient.encoded)" + (note.isEmpty ? "" : " (memo \"\(note)\")")
                printToStderr(DisplayText.escaped("payment request: " + what))
                if !yes {
                    guard Secrets.interactive else { throw WalletError("not paid: confirm with --yes (no terminal to ask on)", code: "usage") }
                    guard Secrets.confirm("pay it? [y/N] ") else { throw WalletError("not paid: you declined; nothing was sent") }
                }
            }
            let w = try options.open(spending: true)
            let outcome = try w.send(value, to: recipient, memo: note, saveRequest: request.file, syncFirst: true)
            try describe(outcome, wallet: w, what: Payment(kind: "send", amount: value, to: recipient.encoded, memo: note), started: started, json: output.json)
        }
    }
}
