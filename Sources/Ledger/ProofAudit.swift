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
