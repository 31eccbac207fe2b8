import BN254
import Foundation
import Groth16
import Protocol

/// The proof audit's check of one chunk of stored transfers (`auditProofs` of every engine):
/// each proof decoded and the chunk batch-verified against the stored public inputs (a failing
/// chunk is bisected by the batch verifier to name the bad proofs).
public enum ProofAudit {
    /// One stored transfer: its id, batch, snarkjs proof bytes and public inputs (nil: they
    /// are not canonical field elements).
    public typealias Row = (id: TransferID, batch: Int64, proof: [UInt8], inputs: [Fr]?)

    /// One stored transfer with its place (batch, position), the paging key.
    public typealias PagedRow = (row: Row, position: Int64)

    /// `auditProofs` of every engine: `page(after, limit)` returns up to `limit` transfers after
    /// (batch, position) `after`, in that order; each page is checked with `check`, and
    /// `progress` hears (checked, total) after each.
    public static func run(verifyingKey: VerifyingKey, total: Int, chunk: Int, progress: (Int, Int) -> Void,
                           page: (_ after: (batch: Int64, position: Int64), _ limit: Int) throws -> [PagedRow]) throws -> (checked: Int, faults: [LedgerFault]) {
        let pvk = PreparedVerifyingKey(verifyingKey)
        var faults: [LedgerFault] = []
        var checked = 0
        var after: (batch: Int64, position: Int64) = (0, -1)
        while true {
            let rows = try page(after, max(1, chunk))
            guard let last = rows.last else { break }
            after = (last.row.batch, last.position)
            faults += check(rows.map(\.row), pvk)
            checked += rows.count
            progress(checked, total)
        }
        return (checked, faults)
    }

    public static func check(_ rows: [Row], _ pvk: PreparedVerifyingKey) -> [LedgerFault] {
        var faults: [LedgerFault] = []
        var items: [(proof: Proof, publicInputs: [Fr])] = []
        var owners: [Int] = []
        for (i, row) in rows.enumerated() {
            guard let inputs = row.inputs else {
                faults.append(LedgerFault(.proof, batch: row.batch, "transfer \(row.id.hex): stored public inputs are not canonical"))
                continue
            }
            do {
                items.append((try SnarkJS.proof(from: Data(row.proof)), inputs))
                owners.append(i)
            } catch {
                faults.append(LedgerFault(.proof, batch: row.batch, "transfer \(row.id.hex): stored proof does not decode: \(error)"))
            }
        }
        let outcome = Groth16.batchVerify(pvk, items)
        for (k, ok) in outcome.valid.enumerated() where !ok {
            let row = rows[owners[k]]
            faults.append(LedgerFault(.proof, batch: row.batch,
                                      "transfer \(row.id.hex): proof does not verify\(outcome.failures[k].map { " (\($0))" } ?? "")"))
        }
        return faults
    }
}
