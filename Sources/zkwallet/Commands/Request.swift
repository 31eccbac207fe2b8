import ArgumentParser
import Protocol
import TerminalUI
import Wallet

/// `zkwallet request AMOUNT [--memo TEXT]`: a payment request for this wallet, as a `zks:` URI.
struct Request: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a payment request (a zks: URI with this wallet's address, the amount and a memo) for a payer to pay with `send --uri`.",
        discussion: """
            The request is the address and what to pay; nothing is sent to the server. The payer's \\
            wallet shows the request before paying it.

            EXAMPLES
              zkwallet request 30 --memo "lunch on friday"
              zkwallet send --uri 'zks:zks1…?amount=30&memo=lunch'     # the payer
            """)
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "A memo the payer's transfer carries to you (at most 128 bytes).") var memo: String?
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        _ = try parseAmount(amount)
        if let memo, memo.utf8.count > NoteEncryption.maxMemoBytes {
            throw ValidationError("--memo is \(memo.utf8.count) bytes; at most \(NoteEncryption.maxMemoBytes)")
        }
    }

    func run() throws {
        let value = try parseAmount(amount)
        try reportingErrors {
            let w = try options.open(lock: false)
            let request = PaymentRequest(address: w.address, amount: value, memo: memo)
            if output.json {
                Terminal.printJSON(["uri": request.uri, "address": w.address.encoded, "amount": value, "memo": Terminal.nullable(memo)])
            } else {
                print(request.uri)
            }
        }
    }
}
