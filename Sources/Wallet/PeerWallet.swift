import BN254
import Foundation
import Primitives
import Protocol
import SettlementClient

/// A peer's wallet: a directory with `key.json` (the secret, mode 0600), `wallet.sqlite`
/// (notes, transfers, sync cursor) and `proving-keys/<circuit id>.zkspk` (cached from the
/// server). Talks to one server through `ServerClient`; reports progress through `log`.
///
/// This file is the façade: opening the wallet, its balance and the three payments. The work
/// lives beside it: `WalletSync` (what the wallet learns), `CoinSelection` (which notes pay),
/// `TransferFlow` (prove → submit → record), `ProvingKeyCache` and `ParameterPin`.
public final class PeerWallet {
    public let directory: URL
    public let secret: WalletSecret
    public let database: WalletDatabase
    public let log: (String) -> Void
    private var clientStorage: ServerClient?
    public let serverURL: String
    /// PEM file of the CA certificates to trust for an `https://` server instead of the
    /// system's (a private CA); set before the first request.
    public var caFile: String?
    /// The longest one request to the server may take (`--timeout`); set before the first request.
    public var timeoutSeconds = 120
    /// Told what state a payment is in, in words for a person who pressed Ctrl-C now
    /// ("nothing was sent", "transfer … was submitted …").
    public var phase: ((String) -> Void)?

    /// How long steps (proving, checking and downloading the proving key) report progress;
    /// nil: a line to `log` as each stage starts and one when it ends (`zkwallet` draws a bar
    /// on a terminal instead).
    public var progress: ((LongStep) -> any StepProgress)?

    /// The prover and the server's checked parameters, once per process (`ProvingKeyCache`).
    var proverStorage: TransferProver?
    var paramsStorage: ServerClient.Params?
    /// The development-keys warning was given by this wallet object (once per command).
    var developmentWarningGiven = false

    public var viewingKey: ViewingKey { secret.viewingKey }
    public var address: Address { viewingKey.address }
    /// Opened with the viewing key alone although `key.json` holds a spending key (encrypted):
    /// a read-only command that asked for no passphrase.
    public private(set) var spendingKeyLocked = false
    /// A wallet made from a viewing key: it can never spend.
    public var isWatchOnly: Bool { secret.spendingKey == nil && !spendingKeyLocked }

    public static func keyFile(in dir: URL) -> URL { dir.appendingPathComponent("key.json") }
    public static func databaseFile(in dir: URL) -> URL { dir.appendingPathComponent("wallet.sqlite") }
    public static func lockFile(in dir: URL) -> URL { dir.appendingPathComponent("wallet.lock") }
    /// The viewing key of a wallet whose `key.json` is encrypted, unencrypted (mode 0600): what
    /// read-only commands (address, balance, history, sync, status) open without a passphrase.
    /// It shows what `wallet.sqlite` beside it already shows (notes, memos, spends); it cannot spend.
    public static func viewingKeyFile(in dir: URL) -> URL { dir.appendingPathComponent("viewing-key.json") }

    /// Whether `dir` holds an encrypted key file (a spending command needs its passphrase).
    public static func needsPassphrase(_ dir: URL) -> Bool { KeyFile.isEncrypted(keyFile(in: dir)) }

    /// Whether a read-only command can open `dir` without the passphrase.
    public static func canOpenReadOnly(_ dir: URL) -> Bool {
        !needsPassphrase(dir) || FileManager.default.fileExists(atPath: viewingKeyFile(in: dir).path)
    }

    /// The wallet's command lock, held while this object lives (`takeCommandLock`).
    private var commandLock: FileLock?

    /// Takes the wallet for one command (issue 19, point 5): two commands on one wallet at once
    /// would pick the same notes, and the second would waste a proof on a double spend. The
    /// second waits (saying so through `log`), then sees what the first did: its notes spent
    /// or pending, so it pays with other notes or says why it cannot. The kernel releases the
    /// lock when the process ends, however it ends.
    public func takeCommandLock() throws {
        guard commandLock == nil else { return }
        let path = Self.lockFile(in: directory).path
        do {
            commandLock = try FileLock.acquire(path, wait: false)
        } catch FileLock.Failure.held(let pid) {
            log("waiting for another zkwallet command on this wallet\(pid.map { " (pid \($0))" } ?? "") to finish…")
            do { commandLock = try FileLock.acquire(path, wait: true) } catch {
                throw WalletError("cannot lock \(path): \(error)")
            }
        } catch {
            throw WalletError("cannot lock \(path): \(error) (check that \(directory.path) is writable)")
        }
    }

    /// Creates the wallet directory with a new key file and an empty database.
    public static func create(at dir: URL, secret: WalletSecret, passphrase: String?) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: keyFile(in: dir).path) {
            throw WalletError("\(dir.path) already holds a wallet (key.json); choose another --wallet DIR or move it away first")
        }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try KeyFile.write(secret, to: keyFile(in: dir), passphrase: passphrase)
        if passphrase != nil, secret.spendingKey != nil {
            try KeyFile.write(.viewing(secret.viewingKey), to: viewingKeyFile(in: dir), passphrase: nil)
        }
        _ = try WalletDatabase(path: databaseFile(in: dir).path)
        // Notes and memos are private too (not secret: they cannot spend).
        chmod(databaseFile(in: dir).path, 0o600)
    }

    /// Opens the wallet in `directory`. `server`: the server for this command (`--server`);
    /// nil: the one the wallet remembers (`rememberedServer`), else `defaultServer`.
    /// `readOnly`: a command that never spends may open an encrypted wallet with its viewing
    /// key (`viewingKeyFile`) when no passphrase is given.
    public init(directory: URL, passphrase: String?, server: String?, readOnly: Bool = false, log: @escaping (String) -> Void) throws {
        self.directory = directory
        let viewingFile = Self.viewingKeyFile(in: directory)
        if readOnly, passphrase == nil, Self.needsPassphrase(directory), FileManager.default.fileExists(atPath: viewingFile.path) {
            self.secret = try KeyFile.read(viewingFile, passphrase: nil)
            spendingKeyLocked = true
        } else {
            self.secret = try KeyFile.read(Self.keyFile(in: directory), passphrase: passphrase)
            // An encrypted wallet from before the viewing-key file: made at its first unlock.
            if passphrase != nil, secret.spendingKey != nil, !FileManager.default.fileExists(atPath: viewingFile.path) {
                try? KeyFile.write(.viewing(secret.viewingKey), to: viewingFile, passphrase: nil)
            }
        }
        self.database = try WalletDatabase(path: Self.databaseFile(in: directory).path)
        if let server {
            self.serverURL = try Self.normalizeServer(server)
            serverSource = "--server"
        } else if let remembered = try database.meta("server_url") {
            self.serverURL = remembered
            serverSource = "remembered"
        } else {
            self.serverURL = Self.defaultServer
            serverSource = "default"
        }
        self.log = log
    }

    /// The server of a wallet that was never told one.
    public static let defaultServer = "http://127.0.0.1:8080"
    /// Where `serverURL` came from: `--server`, `remembered` or `default`.
    public let serverSource: String

    /// A server URL as the wallet stores and compares it: http or https, host and port in
    /// lower case, no trailing slash (`HTTP://Example.org:8080/` is `http://example.org:8080`).
    public static func normalizeServer(_ text: String) throws -> String {
        guard let c = URLComponents(string: text.trimmingCharacters(in: .whitespaces)), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil,
              c.user == nil, c.password == nil else {
            throw WalletError("\(text) is not a server URL: expected http://HOST:PORT or https://HOST (no query, no credentials)", code: "usage")
        }
        var out = "\(scheme)://\(host.lowercased())"
        if let port = c.port { out += ":\(port)" }
        var path = c.path
        while path.hasSuffix("/") { path.removeLast() }
        return out + path
    }

    /// The server this wallet uses when not told another (set at `init --server`, or on the
    /// first sync that succeeds; changed with `zkwallet config set server`).
    public var rememberedServer: String? { get throws { try database.meta("server_url") } }

    /// Remembers `url` (normalized) as this wallet's server.
    public func rememberServer(_ url: String) throws { try database.setMeta("server_url", try Self.normalizeServer(url)) }

    public var server: ServerClient {
        get throws {
            if let c = clientStorage { return c }
            let c = try ServerClient(serverURL, caFile: caFile, timeoutSeconds: timeoutSeconds)
            clientStorage = c
            return c
        }
    }

    /// The report of one long step: the one `progress` makes, or lines to `log`.
    func startProgress(_ step: LongStep) -> any StepProgress {
        progress?(step) ?? LoggedProgress(step, log: log)
    }

    // MARK: Balance

    public struct Balance: Sendable {
        /// Unspent notes not reserved by a transfer in flight.
        public var spendable: UInt64
        /// Notes reserved by a submitted transfer whose outcome is not known yet.
        public var pending: UInt64
        public var spendableNotes: Int
    }

    public func balance() throws -> Balance {
        var b = Balance(spendable: 0, pending: 0, spendableNotes: 0)
        for n in try database.unspentNotes() {
            if n.pendingSpend == nil { b.spendable &+= n.value; b.spendableNotes += 1 } else { b.pending &+= n.value }
        }
        return b
    }

    // MARK: Payments

    /// What a payment came to: settled (with its receipt checked), or proved and saved.
    public enum Outcome: Sendable {
        case settled(Settled)
        case saved(path: String, transferID: String)
    }

    public struct Settled: Sendable {
        public var transferID: String
        public var batch: Int64
        public var leafIndices: [Int64]
        public var receiptVerified: Bool
        /// The fee this transfer paid the operator (the server's `min_fee`; 0 for a deposit).
        public var fee: UInt64
        public var proveSeconds: Double
        public var totalSeconds: Double
        /// A withdrawal's payout id, if the server said (the operator pays by it).
        public var payoutID: Int64? = nil
    }

    /// The spending key, for a wallet that holds one; a watch-only wallet (made from a viewing
    /// key) cannot `what` ("send", "withdraw", …). The one check of every payment.
    public func requireSpendingKey(to what: String) throws -> SpendingKey {
        guard let k = secret.spendingKey else {
            throw WalletError("this is a watch-only wallet (made from a viewing key): it sees notes and spends but cannot \(what). Use the wallet that holds the spending key.")
        }
        return k
    }

    func freshNote(_ value: UInt64, to address: Address) -> Note { Note(value: value, owner: address.owner, blinding: SecureRandom.scalar()) }

    /// Pays `amount` to `address` with an optional memo (encrypted to the recipient only).
    /// `syncFirst`: sync quietly once the spending key is known to be here.
    public func send(_ amount: UInt64, to recipient: Address, memo: String, saveRequest: URL? = nil, syncFirst: Bool = false) throws -> Outcome {
        let key = try requireSpendingKey(to: "send")
        if syncFirst { try sync(quiet: true) }
        let memoBytes = Array(memo.utf8)
        guard memoBytes.count <= NoteEncryption.maxMemoBytes else {
            throw WalletError("the memo is \(memoBytes.count) bytes; at most \(NoteEncryption.maxMemoBytes) (UTF-8)")
        }
        guard amount > 0 else { throw WalletError("the amount must be at least 1") }
        let (inputs, fee, total) = try selectInputs(covering: amount, key: key, saveRequest: saveRequest) { count in
            "this payment needs \(count) notes merged first, which submits transfers: run it once without --no-submit, or send less"
        }
        let outputs = [Output(note: freshNote(amount, to: recipient), to: recipient, memo: memoBytes),
                       Output(note: freshNote(total - amount - fee, to: address), to: address, memo: Array("change".utf8))]
        return try proveSubmitRecord(TransferPlan(kind: .send, key: key, inputs: inputs, outputs: outputs, fee: fee,
                                                  counterparty: recipient.encoded, amount: amount, memo: memo, saveRequest: saveRequest))
    }

    /// Withdraws `amount` to `recipient` (the server records a payout owed to it).
    /// `syncFirst`: sync quietly once the spending key is known to be here.
    public func withdraw(_ amount: UInt64, to recipient: String, saveRequest: URL? = nil, syncFirst: Bool = false) throws -> Outcome {
        let key = try requireSpendingKey(to: "withdraw")
        if syncFirst { try sync(quiet: true) }
        guard amount > 0, amount <= UInt64(Int64.max) else { throw WalletError("the amount must be between 1 and \(Int64.max)") }
        guard !recipient.isEmpty, recipient.utf8.count <= ExtData.maxRecipientBytes else {
            throw WalletError("--to must name the payout's recipient (1 to \(ExtData.maxRecipientBytes) bytes)")
        }
        let (inputs, fee, total) = try selectInputs(covering: amount, key: key, saveRequest: saveRequest) { _ in
            "this withdrawal needs notes merged first; run it once without --no-submit"
        }
        let outputs = [Output(note: freshNote(total - amount - fee, to: address), to: address, memo: Array("change".utf8)),
                       Output(note: freshNote(0, to: address), to: address, memo: [])]
        return try proveSubmitRecord(TransferPlan(kind: .withdraw, key: key, inputs: inputs, outputs: outputs, recipient: recipient,
                                                  extAmount: -Int64(amount), fee: fee, counterparty: recipient, amount: amount,
                                                  saveRequest: saveRequest))
    }

    /// Deposits `amount` into a new note of this wallet, paid by the operator's single-use
    /// `voucher` (`zksettle-admin deposits voucher`). The voucher's amount and expiry are
    /// checked here, before half a second of proving is spent on a deposit the server refuses.
    public func deposit(_ amount: UInt64, voucher: DepositVoucher) throws -> Outcome {
        guard amount > 0, amount <= UInt64(Int64.max) else { throw WalletError("the amount must be between 1 and \(Int64.max)") }
        guard voucher.amount == amount else {
            throw WalletError("the voucher is for \(voucher.amount), not \(amount): deposit exactly the voucher's amount (zkwallet deposit \(voucher.amount))", code: "usage")
        }
        guard Int64(Date().timeIntervalSince1970) < voucher.expiresAt else {
            throw WalletError("the voucher expired at \(DepositVoucher.format(voucher.expiresAt)): ask the operator for a new one", code: "usage")
        }
        let key = try requireSpendingKey(to: "deposit into a note it could never spend")
        // The signature too, before any proving (issue 19): a voucher from another server, or
        // altered, fails here in milliseconds rather than after a proof.
        guard let depositKey = try params().depositPublicKey else {
            throw WalletError("\(serverURL) takes no deposits (it runs with --no-deposits): nothing was sent")
        }
        guard voucher.isSigned(by: depositKey) else {
            throw WalletError("\(DepositVoucher.Failure.badSignature.description): nothing was proved or sent. Check --server, or ask the operator of \(serverURL) for a voucher (zksettle-admin deposits voucher)", code: "usage")
        }
        let outputs = [Output(note: freshNote(amount, to: address), to: address, memo: Array("deposit".utf8)),
                       Output(note: freshNote(0, to: address), to: address, memo: [])]
        return try proveSubmitRecord(TransferPlan(kind: .deposit, key: key, inputs: [], outputs: outputs, extAmount: Int64(amount),
                                                  voucher: voucher, counterparty: "operator", amount: amount))
    }
}
