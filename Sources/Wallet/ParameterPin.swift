import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient

/// What the wallet trusts a server with: the parameters it pinned (issue 13). On first contact
/// the wallet pins the server's `ParametersFingerprint` (circuit id, verifying key, receipt
/// key), or checks it against the one the operator published (`zkwallet init --trust FP`);
/// every later contact must present the same fingerprint, and a different one stops the
/// command before anything is sent. Re-pinning is a deliberate act: `zkwallet trust --reset`.
///
/// With the fingerprint the wallet pins what the server says of its keys' origin (issue 18):
/// `setup` "development" or "ceremony" and the transcript hash. The fingerprint does not cover
/// it and the wallet cannot check it (it has no transcript), but the same keys cannot change
/// origin: a server that later claims another setup for the pinned keys was false then or is
/// false now, so the claim is held like the parameters: another claim stops the command
/// (`params_mismatch`) before anything is sent, until `zkwallet trust --reset`. A wallet pinned
/// before issue 18 recorded no claim and adopts the server's at its next contact. On
/// development keys every command says so once on stderr (`warnIfDevelopmentKeys`).
extension PeerWallet {
    /// The line every command prints once on stderr when the pinned keys are development keys.
    public static let developmentKeysWarning = "warning: this server uses DEVELOPMENT keys: whoever made them can forge proofs and mint money; do not use it for real funds"

    /// The setup the server claimed when its parameters were pinned; nil before the first
    /// contact. (A pin from before issue 18 recorded only whether the keys were development keys.)
    public func pinnedSetup() throws -> ServerClient.Params.Setup? {
        if let name = try database.meta("params_setup") {
            guard let setup = ServerClient.Params.Setup(name: name, transcriptHash: try database.meta("params_transcript_hash")) else {
                throw WalletError("the pinned key setup in \(Self.databaseFile(in: directory).path) is damaged; re-pin with `zkwallet trust --reset`")
            }
            return setup
        }
        guard try database.meta("params_circuit_id") != nil else { return nil }
        return try database.meta("params_development_keys") == "yes" ? .development : nil
    }

    /// Says once per wallet object (one command) on `log` (zkwallet: stderr) that the pinned
    /// keys are development keys. zkwallet calls it when it opens the wallet; the first
    /// contact, which pins, calls it too.
    public func warnIfDevelopmentKeys() {
        guard !developmentWarningGiven, (try? pinnedSetup()) == .development else { return }
        developmentWarningGiven = true
        log(Self.developmentKeysWarning)
    }

    /// The pinned parameters as stored, or nil before the first contact. A fingerprint that
    /// `init --trust` stored before any contact is in `expectedFingerprint`.
    public func pinnedParameters() throws -> ServerClient.Params? {
        guard let fp = try database.meta("params_fingerprint"), let id = try database.meta("params_circuit_id"),
              let vkText = try database.meta("params_verifying_key"), let keyHex = try database.meta("params_receipt_key") else { return nil }
        guard let key = Hex.decode(keyHex), key.count == 32,
              let vk = try? SnarkJS.verifyingKey(from: Data(vkText.utf8)) else {
            throw WalletError("the pinned parameters in \(Self.databaseFile(in: directory).path) are damaged; re-pin with `zkwallet trust --reset`")
        }
        let p = ServerClient.Params(circuitID: id, verifyingKey: vk, receiptPublicKey: key)
        guard p.fingerprint == fp else {
            throw WalletError("the pinned parameters in \(Self.databaseFile(in: directory).path) do not hash to the pinned fingerprint \(fp); re-pin with `zkwallet trust --reset`")
        }
        return p
    }

    /// The fingerprint the wallet expects or has pinned (nil: it will pin on first contact).
    public var expectedFingerprint: String? { get throws { try database.meta("params_fingerprint") } }

    /// How the pin was made: "first contact" or "operator (--trust)".
    public var pinSource: String? { get throws { try database.meta("params_source") } }

    /// Stores a fingerprint the operator published: the first contact must present it.
    public func expect(fingerprint: String) throws {
        guard let fp = ParametersFingerprint.normalize(fingerprint) else {
            throw WalletError("--trust takes the 64 hex digits that `zksettle-admin params fingerprint` prints (got \"\(fingerprint)\")")
        }
        try database.clearPin()
        try database.setMeta("params_fingerprint", fp)
        try database.setMeta("params_source", "operator (--trust)")
    }

    /// Deletes the proving keys cached from the server (after a re-pin they belong to the old
    /// parameters; the next proof downloads and checks the current one).
    public func forgetProvingKeys() {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("proving-keys"))
    }

    func store(pin p: ServerClient.Params, source: String) throws {
        try database.transaction {
            try database.setMeta("params_fingerprint", p.fingerprint)
            try database.setMeta("params_source", source)
            try database.setMeta("params_circuit_id", p.circuitID)
            try database.setMeta("params_verifying_key", String(decoding: SnarkJS.encode(p.verifyingKey), as: UTF8.self))
            try database.setMeta("params_receipt_key", Hex.encode(p.receiptPublicKey))
            try database.setMeta("params_pinned_at", String(WalletDatabase.now))
            try storeSetup(p.setup)
        }
    }

    private func storeSetup(_ setup: ServerClient.Params.Setup) throws {
        try database.setMeta("params_setup", setup.name)
        if let h = setup.transcriptHash { try database.setMeta("params_transcript_hash", h) } else {
            try database.run("DELETE FROM meta WHERE key = ?", [.text("params_transcript_hash")])
        }
        // Read by `zkwallet status` in wallets from before issue 18 (the pinned claim now).
        try database.setMeta("params_development_keys", setup == .development ? "yes" : "no")
    }

    /// In words, for messages.
    static func describe(_ setup: ServerClient.Params.Setup) -> String {
        switch setup {
        case .development: "development keys"
        case .ceremony(let h): "keys from a ceremony with transcript \(h)"
        }
    }

    /// Compares what the server offers with the pin (pinning on first contact) and returns the
    /// parameters to use: the pinned ones, with the server's current minimum fee.
    func checkPin(_ offered: ServerClient.Params) throws -> ServerClient.Params {
        let got = offered.fingerprint
        let dir = directory.path
        defer { warnIfDevelopmentKeys() }
        if let pinned = try pinnedParameters() {
            let source = try pinSource ?? "first contact"
            guard pinned.fingerprint == got else {
                throw WalletError("""
                    the server's parameters are not the ones this wallet pinned: nothing was sent.
                      pinned (\(source)): \(pinned.fingerprint)
                      \(serverURL) now presents: \(got)
                    A server that changes its verifying key or receipt key could be another server, or a subverted one. If the operator replaced its keys on purpose, check the new fingerprint against the one they publish (`zksettle-admin params fingerprint`), then re-pin with `zkwallet trust --reset --wallet \(dir)`.
                    """, code: "params_mismatch")
            }
            // The same keys under another setup claim: one of the two claims is false.
            if let claimed = try database.meta("params_setup") {
                let pinnedSetup = ServerClient.Params.Setup(name: claimed, transcriptHash: try database.meta("params_transcript_hash"))
                guard pinnedSetup == offered.setup else {
                    throw WalletError("""
                        the server now says its keys come from another setup than when this wallet pinned them: nothing was sent.
                          pinned (\(source)): \(pinnedSetup.map(Self.describe) ?? "damaged record")
                          \(serverURL) now says: \(Self.describe(offered.setup))
                        The keys are the same (fingerprint \(got)), and keys cannot change origin: one of the two claims is false. Ask the operator; if they corrected the record on purpose, check their published fingerprint and transcript hash, then re-pin with `zkwallet trust --reset --wallet \(dir)`.
                        """, code: "params_mismatch")
                }
            } else {
                // Pinned before the wallet recorded setups: the claim is pinned now.
                try database.transaction { try storeSetup(offered.setup) }
            }
            // The fee and the deposit key are not pinned (the operator may change them): the
            // server's current ones. (The deposit key only lets the wallet refuse, before
            // proving, a voucher the server would refuse; the server decides.)
            var current = pinned
            current.minFee = offered.minFee
            current.depositPublicKey = offered.depositPublicKey
            return current
        }
        if let expected = try expectedFingerprint {
            guard expected == got else {
                throw WalletError("""
                    the server's parameters do not have the fingerprint you trusted: nothing was sent, nothing was pinned.
                      trusted (--trust): \(expected)
                      \(serverURL) presents: \(got)
                    Check that --server is the operator's server and that the fingerprint is the one they publish; to trust another, run `zkwallet trust --reset --wallet \(dir)`.
                    """, code: "params_mismatch")
            }
            try store(pin: offered, source: "operator (--trust)")
            log("server parameters match the trusted fingerprint \(got): pinned")
            return offered
        }
        try store(pin: offered, source: "first contact")
        log("pinned the server's parameters on first contact: fingerprint \(got)")
        log("  (compare it with the fingerprint the operator publishes; every later contact must present the same)")
        return offered
    }
}
