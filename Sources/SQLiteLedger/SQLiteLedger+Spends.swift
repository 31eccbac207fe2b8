import BN254
import Ledger
import Protocol

extension SQLiteLedger {
    /// The public nullifier list (`PublicSpend`), read from `transfers` through its unique
    /// index on `leaf_index0`: a range scan, no offset to skip, whatever the position.
    public func spends(from index: Int64, below end: Int64, limit: Int) throws -> [PublicSpend] {
        let first = max(0, index) & ~1
        let transfers = (max(0, limit) + Int(max(0, index) - first) + 1) / 2
        return try read { db in
            try db.withStatement("""
                SELECT leaf_index0, nullifier0, nullifier1, id, batch, ext_data FROM transfers
                WHERE leaf_index0 >= ? AND leaf_index0 < ? ORDER BY leaf_index0 LIMIT ?
                """) { s in
                try s.bind(1, first); try s.bind(2, end); try s.bind(3, Int64(transfers))
                var out: [PublicSpend] = []
                while try s.step() {
                    let leaf = s.int64(0)
                    let id = try Self.transferID(s, 3)
                    let ext: ExtData
                    do { ext = try ExtData(canonicalEncoding: s.blob(5)) } catch { throw LedgerError.corrupt("transfer \(id): \(error)") }
                    for j in 0..<2 where leaf + Int64(j) >= index && leaf + Int64(j) < end {
                        out.append(PublicSpend(index: leaf + Int64(j), nullifier: try Self.fr(s, Int32(1 + j), "transfers.nullifier\(j)"),
                                               transferID: id, batch: s.int64(4), extAmount: ext.extAmount))
                    }
                }
                return Array(out.prefix(max(0, limit)))
            }
        }
    }
}
