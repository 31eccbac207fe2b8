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

    /// `cover`, but first one or two notes of a single tree (trees of `capacity` leaves) when
    /// some tree's notes cover `amount` so: one transfer proves against one tree's root, and
    /// notes of two trees would first be gathered into one, a transfer and a fee more. Among
    /// trees that can, the fewest notes, then the smallest total.
    static func cover(_ amount: UInt64, from available: [WalletDatabase.StoredNote], capacity: Int) -> [WalletDatabase.StoredNote]? {
        let oneTree = Dictionary(grouping: available, by: { $0.leafIndex / capacity }).values
            .compactMap { cover(amount, from: $0) }.filter { $0.count <= 2 }
            .min { a, b in
                (a.count, a.reduce(UInt64(0)) { $0 &+ $1.value }) < (b.count, b.reduce(UInt64(0)) { $0 &+ $1.value })
            }
        return oneTree ?? cover(amount, from: available)
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
        var inputs = try select(amount, fee: fee)
        let capacity = try treeCapacity()
        let spread = Set(inputs.map { $0.leafIndex / capacity }).sorted()
        if spread.count > 1 || inputs.count > 2 {
            guard saveRequest == nil else {
                throw WalletError(spread.count > 1
                    ? "these notes lie in trees \(spread) and one transfer proves against one tree's root: run it once without --no-submit (the notes are gathered into one tree first), or send less"
                    : mergeRefusal(inputs.count))
            }
            inputs = try gather(inputs, key: key)
        }
        let total = inputs.reduce(UInt64(0)) { $0 + $1.value }
        guard total >= amount + fee else { throw WalletError("insufficient funds: \(amount) and the server's fee of \(fee) needed, \(total) spendable after merging") }
        return (inputs, fee, total)
    }

    /// Notes that cover `amount`: one note if one suffices, else two, else the largest notes
    /// (which `send` merges first).
    func select(_ amount: UInt64) throws -> [WalletDatabase.StoredNote] {
        let available = try database.spendableNotes().sorted { $0.value < $1.value }
        guard let chosen = CoinSelection.cover(amount, from: available, capacity: try treeCapacity()) else {
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

    /// `notes` gathered into at most 2 notes of one tree: one transfer spends at most 2 notes
    /// and proves against one tree's root (trees roll over when full, and several may grow at
    /// once, issue 16). Until that holds, the two smallest notes sharing a tree are merged
    /// (2 → 1), or when none share one the smallest is moved (1 → 1); each such transfer pays the
    /// fee, and its note lands in a tree the server writes (the open one, or with several open
    /// trees any of them). The wallet says so.
    func gather(_ notes: [WalletDatabase.StoredNote], key: SpendingKey) throws -> [WalletDatabase.StoredNote] {
        let capacity = try treeCapacity(), fee = try transferFee()
        func trees(_ notes: [WalletDatabase.StoredNote]) -> [Int] { Set(notes.map { $0.leafIndex / capacity }).sorted() }
        let spread = trees(notes)
        if spread.count > 1 {
            log("your funds lie in \(spread.count) commitment trees (\(spread.map(String.init).joined(separator: ", "))) and a transfer spends notes of one tree only: gathering them into one first")
        }
        if notes.count > 2 {
            log("your funds are spread over \(notes.count) notes and a transfer spends at most 2: merging them first, one transfer per note beyond 2")
        }
        let limit = 4 * notes.count + 8
        var notes = notes
        var rounds = 0
        while trees(notes).count > 1 || notes.count > 2 {
            rounds += 1
            guard rounds <= limit else {
                throw WalletError("the gathered notes kept landing in different trees (the server writes several at once); run the command again")
            }
            let byTree = Dictionary(grouping: notes, by: { $0.leafIndex / capacity })
            let chosen: [WalletDatabase.StoredNote]
            if let shared = byTree.values.filter({ $0.count >= 2 }).min(by: { $0[0].leafIndex < $1[0].leafIndex }) {
                chosen = Array(shared.sorted { $0.value < $1.value }.prefix(2))
            } else {
                chosen = [notes.min { $0.value < $1.value }!]
            }
            let names = chosen.map { String($0.leafIndex) }.joined(separator: " and ")
            var sum: UInt64 = 0
            for n in chosen {
                let (v, overflow) = sum.addingReportingOverflow(n.value)
                guard !overflow else { throw WalletError("the notes' total overflows 64 bits") }
                sum = v
            }
            let merging = chosen.count == 2
            guard sum > fee else {
                throw WalletError("note\(merging ? "s" : "") \(names) hold\(merging ? "" : "s") \(sum), not more than the server's fee of \(fee) for \(merging ? "merging" : "moving") \(merging ? "them" : "it"): send less")
            }
            guard let done = try payToSelf(chosen, value: sum - fee, memo: merging ? "merge" : "move", fee: fee, key: key) else {
                throw WalletError("\(merging ? "merging" : "moving") note\(merging ? "s" : "") \(names) did not settle")
            }
            log("\(merging ? "merged" : "moved") note\(merging ? "s" : "") \(names) into tree \(done.note.leafIndex / capacity) (batch \(done.settled.batch))" + (fee > 0 ? ", fee \(fee)" : ""))
            let used = Set(chosen.map(\.leafIndex))
            notes = notes.filter { !used.contains($0.leafIndex) } + [done.note]
        }
        return notes.sorted { $0.value > $1.value }
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
