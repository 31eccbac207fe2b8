import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import SQLite

/// Payouts owed to withdrawal recipients, and the second writer: the operator marking one
/// paid (through the admin API).
extension SQLiteLedger {
    public func payouts(pendingOnly: Bool) throws -> [Payout] {
        let sql = "SELECT id, transfer_id, recipient, amount, status, created_at, paid_at FROM payouts"
            + (pendingOnly ? " WHERE status = 'pending'" : "") + " ORDER BY id"
        return try read { db in
            try db.withStatement(sql) { s in
                var out: [Payout] = []
                while try s.step() {
                    guard let status = Payout.Status(rawValue: s.text(4)), s.int64(3) > 0 else {
                        throw LedgerError.corrupt("payout \(s.int64(0)) has status \(s.text(4)) and amount \(s.int64(3))")
                    }
                    out.append(Payout(id: s.int64(0), transferID: try Self.transferID(s, 1), recipient: s.text(2),
                                      amount: UInt64(s.int64(3)), status: status, createdAt: s.int64(5), paidAt: s.optionalInt64(6)))
                }
                return out
            }
        }
    }

    public func payoutID(forTransfer id: TransferID) throws -> Int64? {
        try read { db in
            try db.withStatement("SELECT id FROM payouts WHERE transfer_id = ?") { s in
                try s.bind(1, blob: id.bytes)
                return try s.step() ? s.int64(0) : nil
            }
        }
    }

    public func markPayoutPaid(_ id: Int64, at time: Int64) throws -> Bool {
        guard let writer else { throw LedgerError.readOnly }
        writerLock.lock(); defer { writerLock.unlock() }
        return try guarded {
            try writer.withStatement("UPDATE payouts SET status = 'paid', paid_at = ? WHERE id = ? AND status = 'pending'") { s in
                try s.bind(1, time); try s.bind(2, id); try s.run()
            }
            return writer.changes == 1
        }
    }
}
