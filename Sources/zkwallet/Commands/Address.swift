import ArgumentParser
import TerminalUI
import Wallet

struct AddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address", abstract: "Print the address to give payers: the bare address on standard output.",
        discussion: """
            EXAMPLES
              zkwallet address
            """)
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions
    func run() throws {
        try reportingErrors {
            let w = try options.open(lock: false)
            if output.json {
                Terminal.printJSON(["address": w.address.encoded, "wallet": w.directory.path, "watch_only": w.isWatchOnly])
                return
            }
            if Terminal.standardErrorIsTerminal {
                printToStderr("address of the wallet in \(w.directory.path)\(w.isWatchOnly ? " (watch-only)" : ""):")
            }
            print(w.address.encoded)
        }
    }
}
