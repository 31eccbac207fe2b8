import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Primitives
import Protocol
import SettlementClient

/// A peer's wallet: a directory with `key.json` (the secret, mode 0600), `wallet.sqlite`
/// (notes, transfers, sync cursor) and `proving-keys/<circuit id>.zkspk` (cached from the
/// server). Talks to one server through `ServerClient`; reports progress through `log`.
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

    /// Draw the proving progress bar in place on stderr (a terminal); otherwise each stage
    /// start goes to `log` as a line.
    public var progressBar = isatty(2) == 1

    public var viewingKey: ViewingKey { secret.viewingKey }
    public var address: Address { viewingKey.address }
    public var isWatchOnly: Bool { secret.spendingKey == nil }

    public static func keyFile(in dir: URL) -> URL { dir.appendingPathComponent("key.json") }
    public static func databaseFile(in dir: URL) -> URL { dir.appendingPathComponent("wallet.sqlite") }

    /// Creates the wallet directory with a new key file and an empty database.
    public static func create(at dir: URL, secret: WalletSecret, passphrase: String?) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: keyFile(in: dir).path) {
            throw WalletError("\(dir.path) already holds a wallet (key.json); choose another --wallet DIR or move it away first")
        }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try KeyFile.write(secret, to: keyFile(in: dir), passphrase: passphrase)
        _ = try WalletDatabase(path: databaseFile(in: dir).path)
        // Notes and memos are private too (not secret: they cannot spend).
        chmod(databaseFile(in: dir).path, 0o600)
    }

    public init(directory: URL, passphrase: String?, server: String, log: @escaping (String) -> Void) throws {
        self.directory = directory
        self.secret = try KeyFile.read(Self.keyFile(in: directory), passphrase: passphrase)
        self.database = try WalletDatabase(path: Self.databaseFile(in: directory).path)
        self.serverURL = server
        self.log = log
    }

    public var server: ServerClient {
        get throws {
            if let c = clientStorage { return c }
            let c = try ServerClient(serverURL, caFile: caFile)
            clientStorage = c
            return c
        }
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
        for n in try database.notes(where: "n.spent = 0") {
            if n.pendingSpend == nil { b.spendable &+= n.value; b.spendableNotes += 1 } else { b.pending &+= n.value }
        }
        return b
    }

    // MARK: Proving

    private var proverStorage: TransferProver?
    private var paramsStorage: ServerClient.Params?

    /// The server's parameters, checked against the pin (pinned on first contact): fetched
    /// once per process. Throws `params_mismatch` if the server presents another fingerprint.
    public func params() throws -> ServerClient.Params {
        if let p = paramsStorage { return p }
        let p = try checkPin(try server.params())
        paramsStorage = p
        return p
    }

    /// The prover for the pinned circuit, with its proving key cached in the wallet directory.
    /// A key file whose SHA-256 is not recorded as accepted under the pinned fingerprint is
    /// checked first (`ProvingKeyCheck`, 1–2 s, once); a refused key is deleted.
    func prover() throws -> TransferProver {
        if let p = proverStorage { return p }
        let params = try params()
        let safeID = params.circuitID.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        let dir = directory.appendingPathComponent("proving-keys")
        let url = dir.appendingPathComponent("\(safeID).zkspk")
        if !FileManager.default.fileExists(atPath: url.path) {
            log("downloading the proving key for circuit \(params.circuitID) (once)…")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let bar = DownloadProgress(log: log, inPlace: progressBar)
            try server.downloadProvingKey(to: url) { received, expected in bar.update(received, expected) }
            bar.finish()
        }
        // One read: the bytes hashed are the bytes parsed and checked.
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch { throw WalletError("cannot read the cached proving key \(url.path): \(error)") }
        let pk: ProvingKey
        do { pk = try ProvingKey(serialized: bytes) } catch {
            try? FileManager.default.removeItem(at: url)
            throw WalletError("the proving key from the server is unusable (\(error)); it was deleted from the cache, and the next command downloads it again")
        }
        let hash = SHA256.hex(bytes)
        let fingerprint = params.fingerprint
        if try !database.isProvingKeyAccepted(sha256: hash, fingerprint: fingerprint) {
            log("checking the proving key against the pinned parameters (once per key)…")
            let bar = ProgressBar(log: log, inPlace: progressBar, title: "checking key", finished: "checked the proving key in")
            let report: ProvingKeyCheck.Report
            do {
                report = try ProvingKeyCheck.check(pk, r1cs: TransferCircuit.r1cs, circuitID: params.circuitID, verifyingKey: params.verifyingKey,
                                                   progress: { stage, fraction in bar.update(stage: stage.rawValue, fraction: fraction) })
            } catch {
                bar.abandon()
                try? FileManager.default.removeItem(at: url)
                throw WalletError("\(error). Nothing was sent. The key served by \(serverURL) does not fit the parameters this wallet pinned (fingerprint \(fingerprint)); it was deleted from \(dir.path). Do not use this server until its operator explains.",
                                  code: "proving_key_refused")
            }
            bar.finish()
            try database.recordAcceptedProvingKey(sha256: hash, fingerprint: fingerprint, circuitID: params.circuitID, seconds: report.seconds)
            log("accepted the proving key \(hash.prefix(16))…: \(report.points) points on their curves, \(report.subgroupChecks) in G2's subgroup, pairing checks passed (\(report.recoveredRows) of \(report.rowCount) row points recovered; A, B, L checked against the circuit for \(report.rowCheckedA), \(report.rowCheckedB), \(max(report.rowCheckedL, report.linkedVariables)) of \(report.variableCount) variables)")
        }
        let p = TransferProver(provingKey: pk, verifyingKey: params.verifyingKey)
        proverStorage = p
        return p
    }

    // MARK: Transfers

    /// One output of a transfer: the note and where its ciphertext goes.
    struct Output {
        var note: Note
        var to: Address
        var memo: [UInt8]
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
    }

    public enum Outcome: Sendable {
        case settled(Settled)
        case saved(path: String, transferID: String)
    }

    func requireSpendingKey(_ what: String) throws -> SpendingKey {
        guard let k = secret.spendingKey else {
            throw WalletError("this is a watch-only wallet (made from a viewing key): it sees notes and spends but cannot \(what). Use the wallet that holds the spending key.")
        }
        return k
    }

    func freshNote(_ value: UInt64, to address: Address) -> Note { Note(value: value, owner: address.owner, blinding: SecureRandom.scalar()) }

    /// Proves, submits and records one transfer; on `unknown_root` proves once more with fresh paths.
    func execute(kind: String, inputs: [WalletDatabase.StoredNote], outputs: [Output], recipient: String, extAmount: Int64,
                 fee: UInt64 = 0, voucher: DepositVoucher?, counterparty: String, amount: UInt64, memo: String,
                 saveRequest: URL? = nil) throws -> Outcome {
        let key = try requireSpendingKey("spend")
        let prover = try self.prover()
        let server = try self.server
        let started = Date()
        for attempt in 0..<2 {
            // Paths of all inputs against the root of the tree this wallet synced and checked,
            // built here: asking the server for them would name the notes being spent. A
            // deposit spends nothing and proves against the current root, public to all.
            if let last = inputs.map(\.leafIndex).max(), try (syncedTree()?.leaves ?? 0) <= last {
                try sync(quiet: true)
            }
            var spendables: [SpendableNote] = []
            var root: Fr
            if inputs.isEmpty {
                root = try server.tree().root
            } else {
                // One proof names one root, so all inputs lie in one tree (`inOneTree`); the
                // circuit sees each note's position in that tree.
                let capacity = try treeCapacity()
                let trees = Set(inputs.map { $0.leafIndex / capacity })
                guard trees.count == 1, let t = trees.first else {
                    throw WalletError("the notes of this transfer lie in trees \(trees.sorted()), and a transfer proves against one tree's root; nothing was sent")
                }
                guard let anchor = try anchor(tree: t) else { throw WalletError("the wallet has not synced tree \(t); run `zkwallet sync`") }
                root = anchor.root
                let view = try treeView(t)
                for n in inputs {
                    let position = n.leafIndex - t * capacity
                    let path = try view.path(position, leaves: anchor.leaves)
                    guard MerkleTree.root(leaf: n.commitment, index: position, path: path) == root else {
                        throw WalletError("the wallet's tree does not lead from note \(n.leafIndex) to its synced root; run `zkwallet sync`")
                    }
                    spendables.append(SpendableNote(note: Note(value: n.value, owner: key.ownerKey, blinding: n.blinding),
                                                    key: key, leafIndex: position, path: path))
                }
            }
            var ciphertexts: [[UInt8]] = []
            for o in outputs {
                do { ciphertexts.append(try NoteEncryption.encrypt(NotePlaintext(value: o.note.value, blinding: o.note.blinding, memo: o.memo), to: o.to)) } catch {
                    throw WalletError("cannot encrypt the output: \(error)")
                }
            }
            let ext = ExtData(recipient: recipient, extAmount: extAmount, fee: fee, encryptedOutputs: ciphertexts)
            let proveStart = Date()
            let bar = ProgressBar(log: log, inPlace: progressBar)
            let request: TransferRequest
            do {
                request = try prover.prove(inputs: spendables, outputs: outputs.map(\.note), extData: ext, root: root,
                                           progress: { stage, fraction in bar.update(stage: stage, fraction: fraction) })
            } catch TransferProver.Failure.selfCheckFailed {
                // The key passed its check but proves falsely where the check cannot look (its
                // H query, say): drop it so that the next command fetches and checks it afresh.
                bar.abandon()
                proverStorage = nil
                forgetProvingKeys()
                throw WalletError("the proof just made does not verify against the pinned verifying key, so the proving key from \(serverURL) is wrong where its check cannot look. Nothing was sent; the cached key was deleted. Do not use this server until its operator explains.",
                                  code: "self_check_failed")
            }
            bar.finish()
            let proveSeconds = Date().timeIntervalSince(proveStart)
            let id = TransferID(request.publicInputs).hex
            let body = TransferBody.encode(request)
            if let saveRequest {
                try body.write(to: saveRequest)
                return .saved(path: saveRequest.path, transferID: id)
            }
            try database.setPending(leafIndices: inputs.map(\.leafIndex), transfer: id)
            let reply: SettlementAnswer
            do {
                reply = try server.submit(body, voucher: voucher)
            } catch let e as WalletError {
                if e.code == "unreachable" || e.code == "unreadable_receipt" {
                    throw WalletError("\(e.description)\nThe transfer \(id) may or may not have settled; its notes stay pending until `zkwallet sync` finds out.")
                }
                try database.setPending(leafIndices: inputs.map(\.leafIndex), transfer: nil)
                if e.code == "unknown_root" && attempt == 0 {
                    log("the server no longer accepts the root this transfer proved against (unknown_root): syncing and proving again…")
                    try sync(quiet: true)
                    continue
                }
                if e.code == "double_spend" { _ = try? sync(quiet: true) }
                throw e
            }
            // The receipt: the server's signed word that the transfer settled, under the pinned key.
            let receipt = reply.receipt, verified = reply.checkReceipt(transferID: id, receiptKey: try params().receiptPublicKey)
            let batch = receipt.batch, leaves = receipt.leafIndices
            let capacity = try knownTreeCapacity(server)
            try database.transaction {
                for n in inputs { try database.markSpent(leafIndex: n.leafIndex, by: id) }
                for (o, leaf) in zip(outputs, leaves) where o.to == address {
                    try database.recordOwnOutput(commitment: o.note.commitment, transfer: id)
                    if o.note.value > 0 {
                        let nf = o.note.nullifier(nullifierKey: key.nullifierKey, leafIndex: Int(leaf) % capacity)
                        try database.insertNote(leafIndex: Int(leaf), commitment: o.note.commitment,
                                                plaintext: NotePlaintext(value: o.note.value, blinding: o.note.blinding, memo: o.memo),
                                                nullifier: nf, batch: batch)
                    }
                }
                try database.recordTransfer(id: id, kind: kind, amount: amount, counterparty: counterparty, memo: memo,
                                            status: verified ? "settled" : "settled (receipt signature INVALID)", batch: batch)
            }
            guard verified else {
                throw WalletError("transfer \(id) settled in batch \(batch), but its receipt's signature does not verify with the pinned receipt key: do not trust this server's receipts")
            }
            return .settled(Settled(transferID: id, batch: batch, leafIndices: leaves, receiptVerified: true, fee: fee,
                                    proveSeconds: proveSeconds, totalSeconds: Date().timeIntervalSince(started)))
        }
        throw WalletError("the tree moved on twice while proving; try again")
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
        _ = try requireSpendingKey("deposit into a note it could never spend")
        let outputs = [Output(note: freshNote(amount, to: address), to: address, memo: Array("deposit".utf8)),
                       Output(note: freshNote(0, to: address), to: address, memo: [])]
        return try execute(kind: "deposit", inputs: [], outputs: outputs, recipient: "", extAmount: Int64(amount),
                           voucher: voucher, counterparty: "operator", amount: amount, memo: "")
    }

    /// Notes that cover `amount`: one note if one suffices, else two, else the largest notes
    /// (which `send` merges first).
    func select(_ amount: UInt64) throws -> [WalletDatabase.StoredNote] {
        let available = try database.notes(where: "n.spent = 0 AND n.pending_spend IS NULL").sorted { $0.value < $1.value }
        let total = available.reduce(UInt64(0)) { $0 &+ $1.value }
        guard total >= amount else {
            let b = try balance()
            throw WalletError("insufficient funds: \(amount) needed, \(total) spendable" +
                              (b.pending > 0 ? " (\(b.pending) more in transfers not yet confirmed: run `zkwallet sync`)" : "") +
                              ". Receive or deposit more, or send less.")
        }
        if let one = available.first(where: { $0.value >= amount }) { return [one] }
        let largest = available.last!
        if let partner = available.dropLast().first(where: { $0.value &+ largest.value >= amount }) { return [largest, partner] }
        var chosen: [WalletDatabase.StoredNote] = []
        var sum: UInt64 = 0
        for n in available.reversed() where sum < amount { chosen.append(n); sum &+= n.value }
        return chosen
    }

    /// `inputs`, all in one tree: one transfer proves against one tree's root (issue 14: trees
    /// roll over when full). If they lie in several, each note outside the open tree is first
    /// moved into it by a transfer to this wallet (one proof each), and the wallet says so.
    func inOneTree(_ inputs: [WalletDatabase.StoredNote], saveRequest: URL?) throws -> [WalletDatabase.StoredNote] {
        let capacity = try treeCapacity()
        let trees = Set(inputs.map { $0.leafIndex / capacity })
        guard trees.count > 1 else { return inputs }
        guard saveRequest == nil else {
            throw WalletError("these notes lie in trees \(trees.sorted()) and one transfer proves against one tree's root: run it once without --no-submit (the notes are moved into one tree first), or send less")
        }
        let open = (try syncedTree()?.leaves ?? 1) - 1
        let target = max(open / capacity, trees.max()!)
        let moving = inputs.filter { $0.leafIndex / capacity != target }
        let fee = try transferFee()
        log("your funds lie in \(trees.count) commitment trees (\(trees.sorted().map(String.init).joined(separator: ", "))) and a transfer spends notes of one tree only: moving \(moving.count) note\(moving.count == 1 ? "" : "s") into tree \(target) first")
        return try inputs.map { n in
            guard n.leafIndex / capacity != target else { return n }
            guard n.value > fee else {
                throw WalletError("note \(n.leafIndex) holds \(n.value), not more than the server's fee of \(fee) for moving it between trees: send less")
            }
            let outcome = try execute(kind: "merge", inputs: [n],
                                      outputs: [Output(note: freshNote(n.value - fee, to: address), to: address, memo: Array("move".utf8)),
                                                Output(note: freshNote(0, to: address), to: address, memo: [])],
                                      recipient: "", extAmount: 0, fee: fee, voucher: nil, counterparty: "self", amount: n.value - fee, memo: "")
            guard case .settled(let s) = outcome,
                  let moved = try database.notes(where: "n.leaf_index = ?", [.int(s.leafIndices[0])], unverified: true).first else {
                throw WalletError("moving note \(n.leafIndex) did not settle")
            }
            guard moved.leafIndex / capacity == target else {
                throw WalletError("tree \(target) filled up while notes were moved into it; run the command again")
            }
            return moved
        }
    }

    /// Merges `notes` into one note of this wallet by a chain of transfers (2 → 1 each).

    /// The fee the server asks of a transfer that spends notes (`min_fee` of `/v1/params`).
    /// Deposits pay none: the operator's credential already authorizes them.
    func transferFee() throws -> UInt64 { try params().minFee }

    /// Notes that cover `amount` plus the fee of the transfer that spends them and of each
    /// merge that gathering them takes (a merge spends 2 notes into 1 and pays the fee too).
    func select(_ amount: UInt64, fee: UInt64) throws -> [WalletDatabase.StoredNote] {
        var merges = 0
        while true {
            let (need, overflow) = amount.addingReportingOverflow(fee.multipliedReportingOverflow(by: UInt64(merges + 1)).partialValue)
            guard !overflow else { throw WalletError("the amount and the fees overflow 64 bits") }
            let inputs = try select(need)
            let needed = max(0, inputs.count - 2)
            if needed <= merges || fee == 0 { return inputs }
            merges = needed
        }
    }

    /// Merges `notes` into one note of this wallet by a chain of transfers (2 → 1 each), each
    /// paying the server's fee.
    func merge(_ notes: [WalletDatabase.StoredNote], keepingLast: Bool) throws -> [WalletDatabase.StoredNote] {
        let fee = try transferFee()
        var acc = notes[0]
        let chain = keepingLast ? notes.count - 2 : notes.count - 1
        log("your funds are spread over \(notes.count) notes and a transfer spends at most 2: merging them first by a chain of \(chain) transfer\(chain == 1 ? "" : "s")")
        for i in 1...chain {
            let next = notes[i]
            let (sum, overflow) = acc.value.addingReportingOverflow(next.value)
            guard !overflow else { throw WalletError("the notes' total overflows 64 bits") }
            guard sum >= fee else { throw WalletError("merging notes of \(sum) in all would not pay the server's fee of \(fee)") }
            let merged = freshNote(sum - fee, to: address)
            let outcome = try execute(kind: "merge", inputs: [acc, next],
                                      outputs: [Output(note: merged, to: address, memo: Array("merge".utf8)),
                                                Output(note: freshNote(0, to: address), to: address, memo: [])],
                                      recipient: "", extAmount: 0, fee: fee, voucher: nil, counterparty: "self", amount: sum - fee, memo: "")
            guard case .settled(let s) = outcome,
                  let n = try database.notes(where: "n.leaf_index = ?", [.int(s.leafIndices[0])], unverified: true).first else {
                throw WalletError("merge transfer did not settle")
            }
            log("merged \(i + 1) of \(notes.count) notes (batch \(s.batch))" + (fee > 0 ? ", fee \(fee)" : ""))
            acc = n
        }
        return keepingLast ? [acc, notes[notes.count - 1]] : [acc]
    }

    /// Pays `amount` to `address` with an optional memo (encrypted to the recipient only).
    public func send(_ amount: UInt64, to recipient: Address, memo: String, saveRequest: URL? = nil) throws -> Outcome {
        _ = try requireSpendingKey("send")
        let memoBytes = Array(memo.utf8)
        guard memoBytes.count <= NoteEncryption.maxMemoBytes else {
            throw WalletError("the memo is \(memoBytes.count) bytes; at most \(NoteEncryption.maxMemoBytes) (UTF-8)")
        }
        guard amount > 0 else { throw WalletError("the amount must be at least 1") }
        let fee = try transferFee()
        var inputs = try inOneTree(try select(amount, fee: fee), saveRequest: saveRequest)
        if inputs.count > 2 {
            guard saveRequest == nil else {
                throw WalletError("this payment needs \(inputs.count) notes merged first, which submits transfers: run it once without --no-submit, or send less")
            }
            inputs = try merge(inputs, keepingLast: true)
        }
        let total = inputs.reduce(UInt64(0)) { $0 + $1.value }
        guard total >= amount + fee else { throw WalletError("insufficient funds: \(amount) and the server's fee of \(fee) needed, \(total) spendable after merging") }
        let outputs = [Output(note: freshNote(amount, to: recipient), to: recipient, memo: memoBytes),
                       Output(note: freshNote(total - amount - fee, to: address), to: address, memo: Array("change".utf8))]
        return try execute(kind: "send", inputs: inputs, outputs: outputs, recipient: "", extAmount: 0, fee: fee, voucher: nil,
                           counterparty: recipient.encoded, amount: amount, memo: memo, saveRequest: saveRequest)
    }

    /// Withdraws `amount` to `recipient` (the server records a payout owed to it).
    public func withdraw(_ amount: UInt64, to recipient: String, saveRequest: URL? = nil) throws -> Outcome {
        _ = try requireSpendingKey("withdraw")
        guard amount > 0, amount <= UInt64(Int64.max) else { throw WalletError("the amount must be between 1 and \(Int64.max)") }
        guard !recipient.isEmpty, recipient.utf8.count <= ExtData.maxRecipientBytes else {
            throw WalletError("--to must name the payout's recipient (1 to \(ExtData.maxRecipientBytes) bytes)")
        }
        let fee = try transferFee()
        var inputs = try inOneTree(try select(amount, fee: fee), saveRequest: saveRequest)
        if inputs.count > 2 {
            guard saveRequest == nil else { throw WalletError("this withdrawal needs notes merged first; run it once without --no-submit") }
            inputs = try merge(inputs, keepingLast: true)
        }
        let total = inputs.reduce(UInt64(0)) { $0 + $1.value }
        guard total >= amount + fee else { throw WalletError("insufficient funds: \(amount) and the server's fee of \(fee) needed, \(total) spendable after merging") }
        let outputs = [Output(note: freshNote(total - amount - fee, to: address), to: address, memo: Array("change".utf8)),
                       Output(note: freshNote(0, to: address), to: address, memo: [])]
        return try execute(kind: "withdraw", inputs: inputs, outputs: outputs, recipient: recipient, extAmount: -Int64(amount), fee: fee,
                           voucher: nil, counterparty: recipient, amount: amount, memo: "", saveRequest: saveRequest)
    }
}

/// Per-worker results of a parallel loop.
final class ResultBox<T>: @unchecked Sendable {
    private var slots: [[T]]
    private let lock = NSLock()
    init(_ n: Int) { slots = Array(repeating: [], count: n) }
    func set(_ i: Int, _ v: [T]) { lock.lock(); slots[i] = v; lock.unlock() }
    var all: [T] { slots.flatMap { $0 } }
}

/// A one-line progress bar on stderr for the prover's stages.
final class ProgressBar: @unchecked Sendable {
    let log: (String) -> Void
    let start = Date()
    let isTTY: Bool
    let title: String
    let finished: String
    init(log: @escaping (String) -> Void, inPlace: Bool, title: String = "proving", finished: String = "proved in") {
        self.log = log; self.isTTY = inPlace; self.title = title; self.finished = finished
    }

    func update(stage: String, fraction: Double) {
        // Proving: witness 0–10 %, quotient 10–35 %, msm 35–100 % (their shares of a proof's
        // time). Checking a key: points 0–75 %, pairings 75–100 %.
        let (lo, hi): (Double, Double) = switch stage {
        case "witness": (0, 0.1)
        case "quotient": (0.1, 0.35)
        case "points": (0, 0.75)
        case "pairings": (0.75, 1)
        default: (0.35, 1)
        }
        let p = lo + (hi - lo) * fraction
        let width = 30
        let filled = Int(p * Double(width))
        let line = "\(title) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(Int(p * 100))% \(stage)"
        if isTTY { FileHandle.standardError.write(Data(("\r" + line).utf8)) } else if fraction == 0 { log(line) }
    }

    func finish() {
        let line = "\(finished) " + String(format: "%.2f s", Date().timeIntervalSince(start))
        if isTTY { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + "\n").utf8)) } else { log(line) }
    }

    /// Clears the bar's line without a summary (the operation failed; its error follows).
    func abandon() {
        if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Bytes received of a download, in place on a terminal (one line at the end otherwise).
final class DownloadProgress: @unchecked Sendable {
    let log: (String) -> Void
    let inPlace: Bool
    private let lock = NSLock()
    private var last = -1
    private var received = 0

    init(log: @escaping (String) -> Void, inPlace: Bool) { self.log = log; self.inPlace = inPlace }

    func update(_ received: Int, _ expected: Int?) {
        lock.lock(); defer { lock.unlock() }
        self.received = received
        guard inPlace else { return }
        let mib = Double(received) / 1_048_576
        let text: String
        if let expected, expected > 0 {
            let percent = min(100, received * 100 / expected)
            if percent == last { return }
            last = percent
            text = String(format: "\r\u{1B}[2Kdownloading %3d%% (%.1f of %.1f MiB)", percent, mib, Double(expected) / 1_048_576)
        } else {
            text = String(format: "\r\u{1B}[2Kdownloading %.1f MiB", mib)
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        let line = String(format: "downloaded %.1f MiB", Double(received) / 1_048_576)
        if inPlace { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        log(line)
    }
}
