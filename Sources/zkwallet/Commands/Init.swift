import ArgumentParser
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient
import Wallet
import TerminalUI

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a wallet: a new spending key, one restored from its backup phrase, or a watch-only wallet.",
        discussion: """
            A new wallet prints its 24-word backup phrase once: write it down; it is the only way to \
            restore the wallet. --server names the wallet's server from now on.

            EXAMPLES
              zkwallet init --server https://pay.example.org
              zkwallet init --trust 3f1c…9a0b --server https://pay.example.org
              zkwallet init --restore --wallet ~/restored
              zkwallet init --viewing-key-file view.txt --wallet ~/watch
            """)

    @OptionGroup var options: WalletOptions

    @Flag(help: "Restore the spending key from a backup phrase read from standard input.")
    var restore = false

    @Option(help: "Make a watch-only wallet from this viewing key (zkview1…): sees notes and spends, cannot send. Prefer --viewing-key-file or $ZKWALLET_VIEWING_KEY: a command line is seen by others.")
    var viewingKey: String?

    @Option(help: ArgumentHelp("Make a watch-only wallet from the viewing key in FILE.", valueName: "FILE"))
    var viewingKeyFile: String?

    @Option(help: ArgumentHelp("Pin this parameters fingerprint (64 hex digits, as the operator publishes it from `zksettle-admin params fingerprint`) instead of trusting the server's first answer.", valueName: "FINGERPRINT"))
    var trust: String?

    @Flag(help: "After showing a new backup phrase, ask for three of its words (on a terminal) to check it was written down.")
    var confirmPhrase = false

    @OptionGroup var output: OutputOptions

    /// Asks for three words of the phrase by number until each is right (Ctrl-C stops; the
    /// wallet is made either way).
    func confirm(_ phrase: [String]) throws {
        guard Secrets.interactive else { throw WalletError("--confirm-phrase needs a terminal to ask on", code: "usage") }
        for i in Array(0..<24).shuffled().prefix(3).sorted() {
            while true {
                guard let typed = try Secrets.readHidden("word \(i + 1) of the backup phrase: ") else { return }
                if typed.trimmingCharacters(in: .whitespaces).lowercased() == phrase[i] { break }
                printToStderr("that is not word \(i + 1); look at what you wrote down and try again")
            }
        }
        print("backup phrase confirmed")
    }

    func validate() throws {
        if viewingKey != nil && viewingKeyFile != nil { throw ValidationError("--viewing-key and --viewing-key-file exclude each other") }
        if restore && (viewingKey != nil || viewingKeyFile != nil) { throw ValidationError("--restore and a viewing key exclude each other") }
        if confirmPhrase && (restore || viewingKey != nil || viewingKeyFile != nil || output.json) {
            throw ValidationError("--confirm-phrase goes with a new wallet's phrase, shown as text")
        }
        if let t = trust, ParametersFingerprint.normalize(t) == nil {
            throw ValidationError("--trust takes the 64 hex digits that `zksettle-admin params fingerprint` prints")
        }
    }

    /// The viewing key of a watch-only wallet: the option, a file or $ZKWALLET_VIEWING_KEY;
    /// nil for a spending wallet.
    func viewingKeyText() throws -> String? {
        if let viewingKey { return viewingKey }
        if restore { return nil }
        return try Secrets.fromFileOrEnvironment(file: viewingKeyFile, env: "ZKWALLET_VIEWING_KEY", option: "--viewing-key-file")
    }

    /// The new key file's passphrase: `--passphrase-env`, else asked on a terminal (empty: none).
    func newPassphrase() throws -> String? {
        if let p = try options.passphrase() { return p }
        guard Secrets.interactive else { return nil }
        let p = try Secrets.newPassphrase()
        if p.isEmpty {
            printToStderr("no passphrase: key.json is stored UNENCRYPTED (mode 0600); anyone who can read it can spend from this wallet")
            return nil
        }
        return p
    }

    func run() throws {
        try reportingErrors {
            let secret: WalletSecret
            var phrase: [String]?
            if let vk = try viewingKeyText() {
                do { secret = .viewing(try ViewingKey(encoded: vk)) } catch { throw WalletError("\(error)") }
            } else if restore {
                // On a terminal the phrase is typed without echo: it spends the money.
                let typed = Secrets.interactive ? try Secrets.readHidden("the 24-word backup phrase (not shown as you type), then Enter: ") : nil
                guard let line = typed ?? readLine(strippingNewline: true) else { throw WalletError("no backup phrase on standard input") }
                do { secret = .spending(try BackupPhrase.spendingKey(from: line)) } catch { throw WalletError("\(error)") }
            } else {
                let (words, key) = BackupPhrase.generate()
                secret = .spending(key)
                phrase = words
            }
            let passphrase = try newPassphrase()
            try PeerWallet.create(at: options.directory, secret: secret, passphrase: passphrase)
            if trust != nil || options.server != nil {
                let w = try options.open(passphrase: passphrase)
                if let trust { try w.expect(fingerprint: trust) }
                // The server named at init is the wallet's from now on (issue 19, point 5).
                if let server = options.server { try w.rememberServer(server) }
            }
            let address = secret.viewingKey.address.encoded
            if output.json {
                var o: [String: Any] = ["wallet": options.directory.path, "address": address, "watch_only": secret.spendingKey == nil]
                if let phrase { o["backup_phrase"] = phrase.joined(separator: " "); o["backup_words"] = phrase }
                if let trust { o["trusted_fingerprint"] = ParametersFingerprint.normalize(trust) }
                Terminal.printJSON(o)
                return
            }
            print("wallet created in \(options.directory.path)" + (secret.spendingKey == nil ? " (watch-only)" : restore ? " (restored; run `zkwallet sync` to find its notes)" : ""))
            if let phrase {
                print("")
                print("Backup phrase: 24 BIP-39 words, shown only now. Write them down in order and keep them")
                print("secret: they spend your money, and they are the only way to restore this wallet.")
                for row in 0..<6 {
                    print("  " + (0..<4).map { col in
                        let i = row * 4 + col
                        return String("\(i + 1).".padding(toLength: 4, withPad: " ", startingAt: 0)) + phrase[i].padding(toLength: 10, withPad: " ", startingAt: 0)
                    }.joined().trimmingCharacters(in: .whitespaces))
                }
                print("")
                if confirmPhrase { try confirm(phrase) }
            }
            if let trust, let fp = ParametersFingerprint.normalize(trust) {
                print("the first contact must present the parameters fingerprint \(fp)")
            }
            print("address:")
            print(address)
        }
    }
}
