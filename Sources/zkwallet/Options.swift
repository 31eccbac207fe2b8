import ArgumentParser
import Foundation
import SettlementClient
import TerminalUI
import Wallet

/// `--wallet`, `--server`, `--ca-file`, `--passphrase-env`: which wallet, which server; shared
/// by every command.
struct WalletOptions: ParsableArguments {
    @Option(help: "Wallet directory (env ZKWALLET_DIR).")
    var wallet: String = ProcessInfo.processInfo.environment["ZKWALLET_DIR"] ?? "~/.zkwallet"

    @Option(name: .customLong("server"), help: ArgumentHelp("Server URL for this command (env ZKWALLET_SERVER). Without it, the server the wallet remembers (set by init --server or the first sync; `zkwallet config set server URL` changes it), else http://127.0.0.1:8080.", valueName: "URL"))
    var serverOption: String?

    /// `--server`, else $ZKWALLET_SERVER; nil: the wallet's remembered server.
    var server: String? { serverOption ?? ProcessInfo.processInfo.environment["ZKWALLET_SERVER"] }

    @Option(name: .customLong("ca-file"),
            help: ArgumentHelp("PEM file of the CA to trust for an https:// server instead of the system's (env ZKWALLET_CA_FILE).", valueName: "FILE"))
    var caFileOption: String?

    /// `--ca-file`, else $ZKWALLET_CA_FILE. (An optional option takes no default of its own.)
    var caFile: String? { caFileOption ?? ProcessInfo.processInfo.environment["ZKWALLET_CA_FILE"] }

    @Option(help: "Name of the environment variable that holds the key file's passphrase (for scripts; on a terminal the wallet asks).")
    var passphraseEnv: String?

    @Option(help: ArgumentHelp("The longest one request to the server may take, a transfer's wait for its batch included (env ZKWALLET_TIMEOUT).", valueName: "SECONDS"))
    var timeout: Int = ProcessInfo.processInfo.environment["ZKWALLET_TIMEOUT"].flatMap(Int.init) ?? 120

    func validate() throws {
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
        if let server {
            do { _ = try PeerWallet.normalizeServer(server) } catch { throw ValidationError("--server: \(error)") }
        }
    }

    var directory: URL {
        let path = wallet.hasPrefix("~") ? NSHomeDirectory() + wallet.dropFirst() : wallet
        return URL(fileURLWithPath: path)
    }

    /// The passphrase from `--passphrase-env`, if given.
    func passphrase() throws -> String? {
        guard let name = passphraseEnv else { return nil }
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else {
            throw WalletError("--passphrase-env \(name): the environment variable \(name) is empty or unset")
        }
        return v
    }

    /// Opens the wallet; an encrypted key file without `--passphrase-env` asks on the terminal.
    /// `passphrase`: one already asked for (by `init`), so it is not asked twice. `lock`: take
    /// the wallet for this command (every command that syncs, pays or writes; a second such
    /// command on the same wallet waits for it).
    ///
    /// `spending`: the command spends (deposit, send, withdraw) and needs the spending key; any
    /// other opens an encrypted wallet with its viewing key, asking no passphrase (issue 19).
    func open(passphrase known: String? = nil, lock: Bool = true, spending: Bool = false) throws -> PeerWallet {
        var pass = try known ?? passphrase()
        let keyFile = PeerWallet.keyFile(in: directory)
        let readOnly = !spending && pass == nil && PeerWallet.canOpenReadOnly(directory)
        if pass == nil, !readOnly, Secrets.interactive, KeyFile.isEncrypted(keyFile) {
            pass = try Secrets.readHidden("passphrase for \(keyFile.path): ")
        }
        let wallet = try PeerWallet(directory: directory, passphrase: pass, server: server, readOnly: readOnly, log: printToStderr)
        wallet.caFile = caFile
        wallet.timeoutSeconds = timeout
        wallet.phase = { Interrupt.set($0) }
        if lock { try wallet.takeCommandLock() }
        // On a terminal, long steps draw a bar in place; elsewhere the wallet logs lines.
        if isatty(2) == 1 { wallet.progress = { TerminalStepProgress($0) } }
        // Pinned development keys: said on stderr once per command, whatever the command.
        wallet.warnIfDevelopmentKeys()
        return wallet
    }
}

/// `--no-submit --save-request FILE`, shared by the commands that post a transfer.
struct SavedRequestOptions: ParsableArguments {
    @Flag(help: "Prove but do not submit (with --save-request).") var noSubmit = false
    @Option(help: ArgumentHelp("With --no-submit: write the request body (what POST /v1/transfers takes) to FILE.", valueName: "FILE"))
    var saveRequest: String?

    func validate() throws {
        if noSubmit != (saveRequest != nil) { throw ValidationError("--no-submit and --save-request FILE go together") }
    }

    /// Where the request goes instead of the server, if anywhere.
    var file: URL? { saveRequest.map { URL(fileURLWithPath: $0) } }
}

/// `--json`, shared by the commands that print a result: JSON on stdout for scripts instead
/// of human text.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON.") var json = false
}
