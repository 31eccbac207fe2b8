import ArgumentParser
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient
import Wallet

/// `zkwallet`: a peer's wallet on the command line (issue 5, DESIGN.md section 4).
///
/// Exit codes: 0 done, 1 the operation failed (the message says what to do), 64 bad usage.
@main
struct ZKWallet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkwallet",
        abstract: "Private payments on a ZKSettle server: notes, proofs and receipts on your machine.",
        discussion: """
            The wallet lives in a directory (--wallet, default ~/.zkwallet): key.json (mode 0600, \
            optionally encrypted with a passphrase), wallet.sqlite (notes, history, sync position) \
            and the proving key cached from the server. Human tables by default, --json for scripts.

            The wallet pins the server's parameters fingerprint (circuit id, verifying key, receipt \
            key) on first contact, or the one given to `init --trust`; another fingerprint later \
            stops every command (exit 1) until `zkwallet trust --reset`. A proving key is checked \
            against the pinned verifying key before its first use, and every proof before it is sent.

            Exit codes: 0 done, 1 failed (the message says what to do), 64 bad usage.
            """,
        subcommands: [Init.self, AddressCommand.self, ViewingKeyCommand.self, Deposit.self, Send.self, Withdraw.self,
                      Sync.self, BalanceCommand.self, History.self, Notes.self, Trust.self])
}

struct WalletOptions: ParsableArguments {
    @Option(help: "Wallet directory (env ZKWALLET_DIR).")
    var wallet: String = ProcessInfo.processInfo.environment["ZKWALLET_DIR"] ?? "~/.zkwallet"

    @Option(help: "Server URL (env ZKWALLET_SERVER).")
    var server: String = ProcessInfo.processInfo.environment["ZKWALLET_SERVER"] ?? "http://127.0.0.1:8080"

    @Option(help: ArgumentHelp("PEM file of the CA to trust for an https:// server instead of the system's (env ZKWALLET_CA_FILE).", valueName: "FILE"))
    var caFile: String? = ProcessInfo.processInfo.environment["ZKWALLET_CA_FILE"]

    @Option(help: "Name of the environment variable that holds the key file's passphrase (for scripts; on a terminal the wallet asks).")
    var passphraseEnv: String?

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
    /// `passphrase`: one already asked for (by `init`), so it is not asked twice.
    func open(passphrase known: String? = nil) throws -> PeerWallet {
        var pass = try known ?? passphrase()
        let keyFile = PeerWallet.keyFile(in: directory)
        if pass == nil, Secrets.interactive, KeyFile.isEncrypted(keyFile) {
            pass = try Secrets.readHidden("passphrase for \(keyFile.path): ")
        }
        let wallet = try PeerWallet(directory: directory, passphrase: pass, server: server, log: say)
        wallet.caFile = caFile
        return wallet
    }
}

/// Progress and notices go to stderr; results to stdout.
func say(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Runs `body`, turning failures into a message on stderr and exit code 1.
func perform(_ body: () throws -> Void) throws {
    do { try body() } catch let e as WalletError {
        say("error: " + DisplayText.escapedLines(e.description))
        throw ExitCode.failure
    } catch let e as ExitCode {
        throw e
    } catch {
        say("error: " + DisplayText.escapedLines("\(error)"))
        throw ExitCode.failure
    }
}

func printJSON(_ obj: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// A plain text table: a header row and left-aligned columns (numbers right-aligned). Cells
/// are shown through `DisplayText.escaped`: a memo is the payer's text and cannot be allowed
/// to move the cursor, rewrite a line or reorder the row.
func printTable(_ header: [String], _ rawRows: [[String]], numeric: Set<Int> = []) {
    let rows = rawRows.map { $0.map(DisplayText.escaped) }
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            let pad = String(repeating: " ", count: widths[i] - c.count)
            return numeric.contains(i) ? pad + c : c + pad
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

func parseAmount(_ s: String) throws -> UInt64 {
    guard let v = UInt64(s), v > 0 else { throw ValidationError("AMOUNT must be a whole number of units, at least 1 (got \(s))") }
    return v
}

func time(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

func describe(_ outcome: PeerWallet.Outcome, json: Bool, extra: [String: Any] = [:]) {
    switch outcome {
    case .settled(let s):
        if json {
            printJSON(extra.merging(["status": "settled", "transfer_id": s.transferID, "batch": s.batch, "leaf_indices": s.leafIndices,
                                     "receipt_verified": s.receiptVerified, "fee": s.fee, "prove_seconds": s.proveSeconds,
                                     "total_seconds": s.totalSeconds]) { a, _ in a })
        } else {
            print("settled in batch \(s.batch): transfer \(s.transferID)")
            print("receipt signature verified with the pinned receipt key")
            if s.fee > 0 { print("fee paid to the operator: \(s.fee)") }
            print(String(format: "proof %.2f s, total %.2f s", s.proveSeconds, s.totalSeconds))
        }
    case .saved(let path, let id):
        if json { printJSON(["status": "saved", "path": path, "transfer_id": id]) } else {
            print("request saved to \(path) (transfer \(id)); nothing was submitted")
            print("submit it with: curl -s -H 'Content-Type: application/json' --data-binary @\(path) <server>/v1/transfers")
        }
    }
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a wallet: a new spending key, one restored from its backup phrase, or a watch-only wallet.",
        discussion: "A new wallet prints its 24-word backup phrase once: write it down; it is the only way to restore the wallet.")

    @OptionGroup var options: WalletOptions

    @Flag(help: "Restore the spending key from a backup phrase read from standard input.")
    var restore = false

    @Option(help: "Make a watch-only wallet from this viewing key (zkview1…): sees notes and spends, cannot send. Prefer --viewing-key-file or $ZKWALLET_VIEWING_KEY: a command line is seen by others.")
    var viewingKey: String?

    @Option(help: ArgumentHelp("Make a watch-only wallet from the viewing key in FILE.", valueName: "FILE"))
    var viewingKeyFile: String?

    @Option(help: ArgumentHelp("Pin this parameters fingerprint (64 hex digits, as the operator publishes it from `zksettle-admin params fingerprint`) instead of trusting the server's first answer.", valueName: "FINGERPRINT"))
    var trust: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if viewingKey != nil && viewingKeyFile != nil { throw ValidationError("--viewing-key and --viewing-key-file exclude each other") }
        if restore && (viewingKey != nil || viewingKeyFile != nil) { throw ValidationError("--restore and a viewing key exclude each other") }
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
            say("no passphrase: key.json is stored UNENCRYPTED (mode 0600); anyone who can read it can spend from this wallet")
            return nil
        }
        return p
    }

    func run() throws {
        try perform {
            let secret: WalletSecret
            var phrase: String?
            if let vk = try viewingKeyText() {
                do { secret = .viewing(try ViewingKey(encoded: vk)) } catch { throw WalletError("\(error)") }
            } else if restore {
                // On a terminal the phrase is typed without echo: it spends the money.
                let typed = Secrets.interactive ? try Secrets.readHidden("the 24-word backup phrase (not shown as you type), then Enter: ") : nil
                guard let line = typed ?? readLine(strippingNewline: true) else { throw WalletError("no backup phrase on standard input") }
                do { secret = .spending(try BackupPhrase.spendingKey(from: line)) } catch { throw WalletError("\(error)") }
            } else {
                let key = SpendingKey(SecureRandom.scalar())
                secret = .spending(key)
                phrase = BackupPhrase.phrase(for: key)
            }
            let passphrase = try newPassphrase()
            try PeerWallet.create(at: options.directory, secret: secret, passphrase: passphrase)
            if let trust { try options.open(passphrase: passphrase).expect(fingerprint: trust) }
            let address = secret.viewingKey.address.encoded
            if json {
                var o: [String: Any] = ["wallet": options.directory.path, "address": address, "watch_only": secret.spendingKey == nil]
                if let phrase { o["backup_phrase"] = phrase }
                if let trust { o["trusted_fingerprint"] = ParametersFingerprint.normalize(trust) }
                printJSON(o)
                return
            }
            print("wallet created in \(options.directory.path)" + (secret.spendingKey == nil ? " (watch-only)" : restore ? " (restored; run `zkwallet sync` to find its notes)" : ""))
            if let phrase {
                print("")
                print("Backup phrase (shown only now; write it down, keep it secret — it spends your money):")
                print("  \(phrase)")
                print("")
            }
            if let trust, let fp = ParametersFingerprint.normalize(trust) {
                print("the first contact must present the parameters fingerprint \(fp)")
            }
            print("address:")
            print(address)
        }
    }
}

struct AddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "address", abstract: "Print the address to give payers (on the last line).")
    @OptionGroup var options: WalletOptions
    func run() throws {
        try perform {
            let w = try options.open()
            print("address of the wallet in \(w.directory.path)\(w.isWatchOnly ? " (watch-only)" : ""):")
            print(w.address.encoded)
        }
    }
}

struct ViewingKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewing-key",
        abstract: "Print the viewing key (zkview1…): it shows incoming notes and spends, never spends. Share with care.")
    @OptionGroup var options: WalletOptions
    func run() throws {
        try perform { print(try options.open().viewingKey.encoded) }
    }
}

struct Deposit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deposit AMOUNT into a new note of this wallet, paid by a single-use voucher from the operator.",
        discussion: "The operator makes the voucher with `zksettle-admin deposits voucher --amount AMOUNT`; it pays for one deposit of exactly that amount before it expires.")
    @Argument(help: "Whole units: exactly the voucher's amount.") var amount: String
    @Option(help: ArgumentHelp("The deposit voucher (zkv1…). Prefer --voucher-file or $ZKWALLET_VOUCHER: a command line is seen by other users of this machine.", valueName: "zkv1…"))
    var voucher: String?
    @Option(help: ArgumentHelp("A file holding the deposit voucher.", valueName: "FILE"))
    var voucherFile: String?
    @OptionGroup var options: WalletOptions
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        try perform {
            guard let text = try voucher ?? Secrets.fromFileOrEnvironment(file: voucherFile, env: "ZKWALLET_VOUCHER", option: "--voucher-file") else {
                throw WalletError("a deposit needs a voucher from the operator (zksettle-admin deposits voucher --amount \(value)): --voucher-file FILE, $ZKWALLET_VOUCHER or --voucher zkv1…", code: "usage")
            }
            let parsed: DepositVoucher
            do { parsed = try DepositVoucher(text: text) } catch let e as DepositVoucher.Failure { throw WalletError(e.description, code: "usage") }
            let w = try options.open()
            let outcome = try w.deposit(value, voucher: parsed)
            describe(outcome, json: json, extra: ["amount": value])
        }
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

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pay AMOUNT privately to an address (syncs, selects notes, proves, submits, checks the receipt).")
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "The recipient's address (zks1…).") var to: String
    @Option(help: "A note for the recipient only (encrypted; at most 128 bytes).") var memo: String = ""
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        try perform {
            let recipient: Address
            do { recipient = try Address(encoded: to) } catch { throw WalletError("--to: \(error); ask the payee for their `zkwallet address`") }
            let w = try options.open()
            guard !w.isWatchOnly else {
                throw WalletError("this is a watch-only wallet (made from a viewing key): it sees notes and spends but cannot send. Use the wallet that holds the spending key.")
            }
            try w.sync(quiet: true)
            let outcome = try w.send(value, to: recipient, memo: memo, saveRequest: request.file)
            describe(outcome, json: json, extra: ["amount": value, "to": recipient.encoded])
        }
    }
}

struct Withdraw: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw AMOUNT to RECIPIENT: the server records a payout owed to it.")
    @Argument(help: "Whole units.") var amount: String
    @Option(help: "The payout's recipient (an account reference the operator pays; up to 256 bytes).") var to: String
    @OptionGroup var request: SavedRequestOptions
    @OptionGroup var options: WalletOptions
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { _ = try parseAmount(amount) }

    func run() throws {
        let value = try parseAmount(amount)
        try perform {
            let w = try options.open()
            if !w.isWatchOnly { try w.sync(quiet: true) }
            let outcome = try w.withdraw(value, to: to, saveRequest: request.file)
            describe(outcome, json: json, extra: ["amount": value, "to": to])
        }
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Find this wallet's notes on the server (trial decryption) and which are spent. Resumable.")
    @OptionGroup var options: WalletOptions
    @Option(help: "Leaves per request (1…10000).") var pageSize: Int = 10_000
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try perform {
            let w = try options.open()
            let r = try w.sync(pageSize: max(1, min(pageSize, 10_000)), quiet: json)
            let b = try w.balance()
            if json {
                printJSON(["scanned": r.scanned, "found": r.found, "found_value": r.foundValue, "newly_spent": r.newlySpent,
                           "leaf_count": r.leafCount, "seconds": r.seconds, "spendable": b.spendable, "pending": b.pending])
            } else {
                print("synced \(r.leafCount) leaves (\(r.scanned) new) in \(String(format: "%.2f", r.seconds)) s: \(r.found) new notes worth \(r.foundValue), \(r.newlySpent) notes newly spent")
                print("spendable: \(b.spendable)")
            }
        }
    }
}

struct BalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Spendable and pending value (syncs first unless --offline).")
    @OptionGroup var options: WalletOptions
    @Flag(help: "Do not sync: show the balance as of the last sync.") var offline = false
    @Flag(help: "Print JSON: {spendable, pending, total, notes, watch_only}.") var json = false

    func run() throws {
        try perform {
            let w = try options.open()
            var synced = false
            if !offline {
                do { try w.sync(quiet: true); synced = true } catch let e as WalletError where e.code != "params_mismatch" {
                    say("warning: could not sync (\(e.description)); showing the balance as of the last sync")
                }
            }
            let b = try w.balance()
            if json {
                printJSON(["spendable": b.spendable, "pending": b.pending, "total": b.spendable + b.pending, "notes": b.spendableNotes,
                           "watch_only": w.isWatchOnly, "synced": synced])
            } else {
                print("spendable: \(b.spendable)   (in \(b.spendableNotes) note\(b.spendableNotes == 1 ? "" : "s"))")
                print("pending:   \(b.pending)   (in transfers submitted but not yet confirmed)")
                if w.isWatchOnly { print("watch-only wallet: it sees this money but cannot spend it") }
            }
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Payments received and made, with memos.")
    @OptionGroup var options: WalletOptions
    @Flag(help: "Print JSON (a list; memos included).") var json = false

    func run() throws {
        try perform {
            let w = try options.open()
            var entries: [(Int64, [String: Any])] = []
            for n in try w.database.notes() where !n.isOwnOutput {
                var e: [String: Any] = ["direction": "in", "amount": n.value, "memo": n.memo, "leaf_index": n.leafIndex,
                                        "batch": n.batch, "spent": n.spent, "time": n.foundAt]
                if let by = n.spentBy { e["spent_by"] = by }
                entries.append((n.foundAt, e))
            }
            for t in try w.database.transfers() {
                entries.append((t.createdAt, ["direction": t.kind == "deposit" ? "in" : t.kind == "merge" ? "self" : "out",
                                              "kind": t.kind, "amount": t.amount, "counterparty": t.counterparty, "memo": t.memo,
                                              "transfer_id": t.id, "status": t.status, "batch": t.batch ?? -1, "time": t.createdAt]))
            }
            entries.sort { $0.0 < $1.0 }
            if json { printJSON(entries.map(\.1)); return }
            if entries.isEmpty { print("no payments yet (run `zkwallet sync` to look for incoming ones)"); return }
            printTable(["time (UTC)", "kind", "amount", "counterparty", "memo"], entries.map { _, e in
                let kind = e["kind"] as? String ?? "received"
                let cp = (e["counterparty"] as? String).map { $0.count > 24 ? String($0.prefix(20)) + "…" : $0 } ?? "(private)"
                return [time(e["time"] as! Int64), kind, "\(e["amount"]!)", cp, e["memo"] as? String ?? ""]
            }, numeric: [2])
        }
    }
}

struct Notes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "This wallet's notes: value, position, spent or not.")
    @OptionGroup var options: WalletOptions
    @Flag(help: "Include spent notes.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try perform {
            let w = try options.open()
            let notes = try w.database.notes(where: all ? "1" : "n.spent = 0")
            if json {
                printJSON(notes.map { n -> [String: Any] in
                    ["leaf_index": n.leafIndex, "value": n.value, "memo": n.memo, "batch": n.batch, "commitment": n.commitment.decimalString,
                     "status": n.spent ? "spent" : n.pendingSpend != nil ? "pending" : "unspent"]
                })
                return
            }
            if notes.isEmpty { print(all ? "no notes" : "no unspent notes (--all shows spent ones)"); return }
            printTable(["leaf", "value", "status", "batch", "memo"], notes.map {
                ["\($0.leafIndex)", "\($0.value)", $0.spent ? "spent" : $0.pendingSpend != nil ? "pending" : "unspent", "\($0.batch)", $0.memo]
            }, numeric: [0, 1, 3])
        }
    }
}
