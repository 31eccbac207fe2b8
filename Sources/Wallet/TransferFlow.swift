import BN254
import Foundation
import Protocol
import SettlementClient

/// What a transfer does for the wallet; its raw value is what the wallet stores.
public enum TransferKind: String, Sendable, CaseIterable {
    case deposit, send, withdraw, merge
}

/// What the wallet records of a settled transfer; its raw value is what the wallet stores
/// and prints.
public enum TransferStatus: String, Sendable {
    case settled
    /// Settled, but the receipt's signature does not verify with the pinned receipt key.
    case receiptInvalid = "settled (receipt signature INVALID)"
    /// Proved and submitted (or about to be); the outcome is not known yet (`sync` finds out).
    case pending
    /// The server refused it; its notes are spendable again.
    case refused
    /// It never reached the server, or the server has no record of it: its notes were released.
    case notSettled = "not settled"

    /// The name in JSON: one word.
    public var code: String {
        switch self {
        case .settled: "settled"
        case .receiptInvalid: "receipt_invalid"
        case .pending: "pending"
        case .refused: "refused"
        case .notSettled: "not_settled"
        }
    }
}

extension PeerWallet {
    /// One output of a transfer: the note and where its ciphertext goes.
    struct Output {
        var note: Note
        var to: Address
        var memo: [UInt8]
    }
}

/// One transfer to prove, submit and record: what it spends and makes, what the server sees
/// of it (`recipient`, `extAmount`, `fee`, `voucher`), and what the wallet's history says.
struct TransferPlan {
    var kind: TransferKind
    /// The key that spends `inputs` (checked once, by the payment that made this plan).
    var key: SpendingKey
    var inputs: [WalletDatabase.StoredNote]
    var outputs: [PeerWallet.Output]
    var recipient = ""
    var extAmount: Int64 = 0
    var fee: UInt64 = 0
    var voucher: DepositVoucher?
    var counterparty: String
    var amount: UInt64
    var memo = ""
    /// Prove only, and write the request body here instead of submitting it.
    var saveRequest: URL?
}

/// The transfer flow: prove → submit → record. One attempt proves against the root the
/// wallet synced and checked; an `unknown_root` refusal syncs and proves once more.
extension PeerWallet {
    func proveSubmitRecord(_ plan: TransferPlan) throws -> Outcome {
        phase?("nothing was sent; the wallet is as it was")
        let prover = try self.prover()
        let server = try self.server
        let started = Date()
        for attempt in 0..<2 {
            let (root, spendables) = try anchoredInputs(plan)
            let ext = ExtData(recipient: plan.recipient, extAmount: plan.extAmount, fee: plan.fee,
                              encryptedOutputs: try encrypt(plan.outputs))
            let proveStart = Date()
            let request = try prove(prover, inputs: spendables, outputs: plan.outputs.map(\.note), extData: ext, root: root)
            let proveSeconds = Date().timeIntervalSince(proveStart)
            let id = TransferID(request.publicInputs).hex
            let body = TransferBody.encode(request)
            if let saveRequest = plan.saveRequest {
                try body.write(to: saveRequest)
                return .saved(path: saveRequest.path, transferID: id)
            }
            guard let reply = try submit(body, plan, id: id, mayRetry: attempt == 0, server: server) else { continue }
            let batch = try record(reply, plan, id: id, server: server)
            phase?("transfer \(id) settled in batch \(batch.number) and is recorded")
            return .settled(Settled(transferID: id, batch: batch.number, leafIndices: batch.leaves, receiptVerified: true, fee: plan.fee,
                                    proveSeconds: proveSeconds, totalSeconds: Date().timeIntervalSince(started), payoutID: reply.payoutID))
        }
        throw WalletError("the tree moved on twice while proving; try again")
    }

    /// The root to prove against and the inputs with their paths to it. Paths of all inputs
    /// against the root of the tree this wallet synced and checked, built here: asking the
    /// server for them would name the notes being spent. A deposit spends nothing and proves
    /// against the current root, public to all.
    private func anchoredInputs(_ plan: TransferPlan) throws -> (root: Fr, inputs: [SpendableNote]) {
        let inputs = plan.inputs
        let capacity = try treeCapacity()
        if try inputs.contains(where: { try !database.isChecked(leaf: $0.leafIndex, capacity: capacity) }) {
            try sync(quiet: true)
        }
        if inputs.isEmpty { return (try server.tree().root, []) }
        // One proof names one root, so all inputs lie in one tree (`inOneTree`); the circuit
        // sees each note's position in that tree.
        let trees = Set(inputs.map { $0.leafIndex / capacity })
        guard trees.count == 1, let t = trees.first else {
            throw WalletError("the notes of this transfer lie in trees \(trees.sorted()), and a transfer proves against one tree's root; nothing was sent")
        }
        guard let anchor = try anchor(tree: t) else { throw WalletError("the wallet has not synced tree \(t); run `zkwallet sync`") }
        let view = try treeView(t)
        var spendables: [SpendableNote] = []
        for n in inputs {
            let position = n.leafIndex - t * capacity
            let path = try view.path(position, leaves: anchor.leaves)
            guard MerkleTree.root(leaf: n.commitment, index: position, path: path) == anchor.root else {
                throw WalletError("the wallet's tree does not lead from note \(n.leafIndex) to its synced root; run `zkwallet sync`")
            }
            spendables.append(SpendableNote(note: Note(value: n.value, owner: plan.key.ownerKey, blinding: n.blinding),
                                            key: plan.key, leafIndex: position, path: path))
        }
        return (anchor.root, spendables)
    }

    /// Each output's note, value, blinding and memo, encrypted to its owner.
    private func encrypt(_ outputs: [Output]) throws -> [[UInt8]] {
        try outputs.map { o in
            do { return try NoteEncryption.encrypt(NotePlaintext(value: o.note.value, blinding: o.note.blinding, memo: o.memo), to: o.to) } catch {
                throw WalletError("cannot encrypt the output: \(error)")
            }
        }
    }

    /// The proof, checked against the pinned verifying key before it is returned.
    private func prove(_ prover: TransferProver, inputs: [SpendableNote], outputs: [Note], extData: ExtData, root: Fr) throws -> TransferRequest {
        let bar = startProgress(.proving)
        do {
            let request = try prover.prove(inputs: inputs, outputs: outputs, extData: extData, root: root,
                                           progress: { stage, fraction in bar.update(stage: stage, fraction: fraction) })
            bar.finish()
            return request
        } catch TransferProver.Failure.selfCheckFailed {
            // The key passed its check but proves falsely where the check cannot look (its
            // H query, say): drop it so that the next command fetches and checks it afresh.
            bar.abandon()
            proverStorage = nil
            forgetProvingKeys()
            throw WalletError("the proof just made does not verify against the pinned verifying key, so the proving key from \(serverURL) is wrong where its check cannot look. Nothing was sent; the cached key was deleted. Do not use this server until its operator explains.",
                              code: "self_check_failed")
        }
    }

    /// Submits the transfer with its inputs reserved. Nil when the server no longer accepts
    /// the root and `mayRetry`: the wallet has synced, and the caller proves again.
    private func submit(_ body: Data, _ plan: TransferPlan, id: String, mayRetry: Bool, server: ServerClient) throws -> SettlementAnswer? {
        let leaves = plan.inputs.map(\.leafIndex)
        // Recorded before it leaves (issue 19): however it ends (an answer, a refusal, a lost
        // connection, Ctrl-C), the history keeps whom it paid and the memo.
        try database.transaction {
            try database.setPending(leafIndices: leaves, transfer: id)
            try database.recordTransfer(id: id, kind: plan.kind, amount: plan.amount, counterparty: plan.counterparty, memo: plan.memo,
                                        status: .pending, batch: nil)
        }
        phase?("transfer \(id) was being submitted: it may still settle. Its notes stay pending until `zkwallet sync` finds out")
        log("submitting transfer \(id.prefix(16))… and waiting for its batch (at most \(timeoutSeconds) s)")
        do {
            return try server.submit(body, voucher: plan.voucher)
        } catch let e as WalletError {
            // No answer, or an answer without a readable receipt: it may have settled, so the
            // notes stay reserved until sync finds out.
            if e.code == "unreachable" || e.code == "unreadable_receipt" {
                throw WalletError("\(e.description)\nThe transfer \(id) may or may not have settled; its notes stay pending until `zkwallet sync` finds out.")
            }
            let retry = e.code == "unknown_root" && mayRetry
            try database.transaction {
                try database.setPending(leafIndices: leaves, transfer: nil)
                // Proved again below, under another id: the same payment, recorded once.
                if retry { try database.forgetPendingTransfer(id) } else { try database.setTransferStatus(id, .refused) }
            }
            if retry {
                log("the server no longer accepts the root this transfer proved against (unknown_root): syncing and proving again…")
                try sync(quiet: true)
                return nil
            }
            if e.code == "double_spend" { _ = try? sync(quiet: true) }
            throw e
        }
    }

    /// Checks the receipt under the pinned key and records the transfer: inputs spent, this
    /// wallet's outputs as notes, the transfer in the history. Throws after recording if the
    /// receipt's signature does not verify.
    private func record(_ reply: SettlementAnswer, _ plan: TransferPlan, id: String, server: ServerClient) throws -> (number: Int64, leaves: [Int64]) {
        // The receipt: the server's signed word that the transfer settled, under the pinned key.
        let receipt = reply.receipt, verified = reply.checkReceipt(transferID: id, receiptKey: try params().receiptPublicKey)
        let batch = receipt.batch, leaves = receipt.leafIndices
        let capacity = try knownTreeCapacity(server)
        try database.transaction {
            for n in plan.inputs { try database.markSpent(leafIndex: n.leafIndex, by: id) }
            for (o, leaf) in zip(plan.outputs, leaves) where o.to == address {
                try database.recordOwnOutput(commitment: o.note.commitment, transfer: id)
                if o.note.value > 0 {
                    let nf = o.note.nullifier(nullifierKey: plan.key.nullifierKey, leafIndex: Int(leaf) % capacity)
                    try database.insertNote(leafIndex: Int(leaf), commitment: o.note.commitment,
                                            plaintext: NotePlaintext(value: o.note.value, blinding: o.note.blinding, memo: o.memo),
                                            nullifier: nf, batch: batch, settledAt: receipt.settledAt)
                }
            }
            try database.recordTransfer(id: id, kind: plan.kind, amount: plan.amount, counterparty: plan.counterparty, memo: plan.memo,
                                        status: verified ? .settled : .receiptInvalid, batch: batch, settledAt: receipt.settledAt)
        }
        guard verified else {
            throw WalletError("transfer \(id) settled in batch \(batch), but its receipt's signature does not verify with the pinned receipt key: do not trust this server's receipts")
        }
        return (batch, leaves)
    }
}
