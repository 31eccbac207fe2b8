import ArgumentParser
import TerminalUI
import Wallet

struct ViewingKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewing-key",
        abstract: "Print the viewing key (zkview1…): it shows incoming notes and spends, never spends. Share with care.",
        discussion: """
            EXAMPLES
              zkwallet viewing-key > view.txt
              zkwallet init --viewing-key-file view.txt --wallet ~/watch
            """)
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions
    func run() throws {
        try reportingErrors {
            let key = try options.open(lock: false).viewingKey.encoded
            if output.json { Terminal.printJSON(["viewing_key": key]) } else { print(key) }
        }
    }
}
