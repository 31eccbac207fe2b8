import Foundation

/// One line of the wallet's history: a payment received (a note found by sync that this
/// wallet did not make for itself), or a transfer this wallet made or was found spending in.
public struct HistoryEntry: Sendable {
    /// Which way the money went: into the wallet, out of it, or within it (a merge).
    public enum Direction: String, Sendable {
        case incoming = "in"
        case outgoing = "out"
        case withinWallet = "self"
    }

    public enum Event: Sendable {
        case received(WalletDatabase.StoredNote)
        case transfer(WalletDatabase.StoredTransfer)
    }

    public var event: Event

    /// When its batch settled (ms since 1970): the server's batch time, the same in every
    /// wallet and on every restore. Nil for a transfer that did not settle, and for rows a
    /// server before settlement times gave none for.
    public var settledAt: Int64? {
        switch event {
        case .received(let n): n.settledAt
        case .transfer(let t): t.settledAt
        }
    }

    /// When the wallet found the note or recorded the transfer (ms since 1970).
    public var recordedAt: Int64 {
        switch event {
        case .received(let n): n.foundAt
        case .transfer(let t): t.createdAt
        }
    }

    /// The time the history is ordered and shown by: settlement, else when it was recorded.
    public var time: Int64 { settledAt ?? recordedAt }

    /// `received`, or the transfer's kind (`deposit`, `send`, `withdraw`, `merge`).
    public var kind: String {
        switch event {
        case .received: "received"
        case .transfer(let t): t.kind.rawValue
        }
    }

    /// A received note settled; a transfer's own status.
    public var status: TransferStatus {
        switch event {
        case .received: .settled
        case .transfer(let t): t.status
        }
    }

    public var direction: Direction {
        switch event {
        case .received: .incoming
        case .transfer(let t): t.kind.direction
        }
    }

    public var amount: UInt64 {
        switch event {
        case .received(let n): n.value
        case .transfer(let t): t.amount
        }
    }

    public var memo: String {
        switch event {
        case .received(let n): n.memo
        case .transfer(let t): t.memo
        }
    }
}

extension TransferKind {
    /// A deposit brings money in, a merge moves it within the wallet, the rest send it out.
    public var direction: HistoryEntry.Direction {
        switch self {
        case .deposit: .incoming
        case .merge: .withinWallet
        case .send, .withdraw: .outgoing
        }
    }
}

extension PeerWallet {
    /// Payments received and transfers made, oldest first (by settlement time): received
    /// payments are the checked notes that are not this wallet's own outputs (change,
    /// deposits, merges).
    public func history() throws -> [HistoryEntry] {
        var entries = try database.notes().filter { !$0.isOwnOutput }.map { HistoryEntry(event: .received($0)) }
        entries += try database.transfers().map { HistoryEntry(event: .transfer($0)) }
        entries.sort { ($0.time, $0.recordedAt) < ($1.time, $1.recordedAt) }
        return entries
    }
}
