import ArgumentParser
import Wallet

struct AddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "address", abstract: "Print the address to give payers (on the last line).")
    @OptionGroup var options: WalletOptions
    func run() throws {
        try reportingErrors {
            let w = try options.open(lock: false)
            print("address of the wallet in \(w.directory.path)\(w.isWatchOnly ? " (watch-only)" : ""):")
            print(w.address.encoded)
        }
    }
}
