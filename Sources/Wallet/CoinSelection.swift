import Foundation
import Protocol
import SettlementClient

/// Which notes pay: the plain choice over a list of notes (`CoinSelection.cover`), and the
/// wallet's planning around it: the fees of the merges that gathering notes takes, moving
/// notes into one tree, and merging more than 2 notes into fewer.
enum CoinSelection {
    /// Notes among `available` (sorted by value, smallest first) that cover `amount`: one note
    /// if one suffices, else two, else the largest notes (which `send` merges first). Nil if
    /// they do not cover it.
    static func cover(_ amount: UInt64, from available: [WalletDatabase.StoredNote]) -> [WalletDatabase.StoredNote]? {
        let total = available.reduce(UInt64(0)) { $0 &+ $1.value }
        guard total >= amount else { return nil }
        if let one = available.first(where: { $0.value >= amount }) { return [one] }
        let largest = available.last!
        if let partner = available.dropLast().first(where: { $0.value &+ largest.value >= amount }) { return [largest, partner] }
        var chosen: [WalletDatabase.StoredNote] = []
        var sum: UInt64 = 0
        for n in available.reversed() where sum < amount { chosen.append(n); sum &+= n.value }
        return chosen
    }
}

extension PeerWallet {
    /// The fee the server asks of a transfer that spends notes (`min_fee` of `/v1/params`).
    /// Deposits pay none: the operator's credential already authorizes them.
    func transferFee() throws -> UInt64 { try params().minFee }

    /// At most 2 notes of one tree that cover `amount` and the server's fee, with the fee and
    /// their total: notes in several trees are moved into one, more than 2 merged first.
    /// `mergeRefusal(count)`: the error when notes need merging but the request is only saved.
    func selectInputs(covering amount: UInt64, key: SpendingKey, saveRequest: URL?,
                      mergeRefusal: (Int) -> String) throws -> (notes: [WalletDatabase.StoredNote], fee: UInt64, total: UInt64) {
        let fee = try transferFee()
        var inputs = try inOneTree(try select(amount, fee: fee), key: key, saveRequest: saveRequest)
        if inputs.count > 2 {
            guard saveRequest == nil else { throw WalletError(mergeRefusal(inputs.count)) }
            inputs = try merge(inputs, keepingLast: true, key: key)
        }
        let total = inputs.reduce(UInt64(0)) { $0 + $1.value }
        guard total >= amount + fee else { throw WalletError("insufficient funds: \(amount) and the server's fee of \(fee) needed, \(total) spendable after merging") }
        return (inputs, fee, total)
    }

    /// Notes that cover `amount`: one note if one suffices, else two, else the largest notes
    /// (which `send` merges first).
    func select(_ amount: UInt64) throws -> [WalletDatabase.StoredNote] {
        let available = try database.spendableNotes().sorted { $0.value < $1.value }
        guard let chosen = CoinSelection.cover(amount, from: available) else {
            let total = available.reduce(UInt64(0)) { $0 &+ $1.value }
            let b = try balance()
            throw WalletError("insufficient funds: \(amount) needed, \(total) spendable" +
                              (b.pending > 0 ? " (\(b.pending) more in transfers not yet confirmed: run `zkwallet sync`)" : "") +
                              ". Receive or deposit more, or send less.")
        }
        return chosen
    }

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

    /// `inputs`, all in one tree: one transfer proves against one tree's root (trees roll over
    /// when full). If they lie in several, each note outside the open tree is first moved into
    /// it by a transfer to this wallet (one proof each), and the wallet says so.
    func inOneTree(_ inputs: [WalletDatabase.StoredNote], key: SpendingKey, saveRequest: URL?) throws -> [WalletDatabase.StoredNote] {
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
            guard let moved = try payToSelf([n], value: n.value - fee, memo: "move", fee: fee, key: key)?.note else {
                throw WalletError("moving note \(n.leafIndex) did not settle")
            }
            guard moved.leafIndex / capacity == target else {
                throw WalletError("tree \(target) filled up while notes were moved into it; run the command again")
            }
            return moved
        }
    }

    /// Merges `notes` into one note of this wallet by a chain of transfers (2 → 1 each), each
    /// paying the server's fee.
    func merge(_ notes: [WalletDatabase.StoredNote], keepingLast: Bool, key: SpendingKey) throws -> [WalletDatabase.StoredNote] {
        let fee = try transferFee()
        var acc = notes[0]
        let chain = keepingLast ? notes.count - 2 : notes.count - 1
        log("your funds are spread over \(notes.count) notes and a transfer spends at most 2: merging them first by a chain of \(chain) transfer\(chain == 1 ? "" : "s")")
        for i in 1...chain {
            let next = notes[i]
            let (sum, overflow) = acc.value.addingReportingOverflow(next.value)
            guard !overflow else { throw WalletError("the notes' total overflows 64 bits") }
            guard sum >= fee else { throw WalletError("merging notes of \(sum) in all would not pay the server's fee of \(fee)") }
            guard let merged = try payToSelf([acc, next], value: sum - fee, memo: "merge", fee: fee, key: key) else {
                throw WalletError("merge transfer did not settle")
            }
            log("merged \(i + 1) of \(notes.count) notes (batch \(merged.settled.batch))" + (fee > 0 ? ", fee \(fee)" : ""))
            acc = merged.note
        }
        return keepingLast ? [acc, notes[notes.count - 1]] : [acc]
    }

    /// Spends `inputs` into one note of `value` for this wallet (and a zero note): a merge, or
    /// a move between trees. The new note as recorded, or nil if the transfer did not settle.
    private func payToSelf(_ inputs: [WalletDatabase.StoredNote], value: UInt64, memo: String, fee: UInt64,
                           key: SpendingKey) throws -> (note: WalletDatabase.StoredNote, settled: Settled)? {
        let outputs = [Output(note: freshNote(value, to: address), to: address, memo: Array(memo.utf8)),
                       Output(note: freshNote(0, to: address), to: address, memo: [])]
        let outcome = try proveSubmitRecord(TransferPlan(kind: .merge, key: key, inputs: inputs, outputs: outputs, fee: fee,
                                                         counterparty: "self", amount: value))
        guard case .settled(let s) = outcome, let note = try database.note(atLeaf: Int(s.leafIndices[0])) else { return nil }
        return (note, s)
    }
}
