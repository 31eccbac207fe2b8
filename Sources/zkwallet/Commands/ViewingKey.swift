import ArgumentParser
import Wallet

struct ViewingKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewing-key",
        abstract: "Print the viewing key (zkview1…): it shows incoming notes and spends, never spends. Share with care.")
    @OptionGroup var options: WalletOptions
    func run() throws {
        try reportingErrors { print(try options.open(lock: false).viewingKey.encoded) }
    }
}
