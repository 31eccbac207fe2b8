import BN254
import Foundation
import Groth16
import Ledger
import Protocol

extension SQLiteLedger {
    /// Re-verifies every stored proof against its stored public inputs with the batch verifier
    /// (`zksettle-admin db verify --proofs`): transfers are read in chunks of `chunk` and each
    /// chunk is batch-verified, a failing chunk bisected to name the bad proofs. A proof that
    /// does not decode or does not verify is a `.proof` fault naming its transfer and batch.
    ///
    /// - Parameter progress: called after each chunk with (checked, total).
    public func auditProofs(verifyingKey: VerifyingKey, chunk: Int = 256,
                            progress: (Int, Int) -> Void = { _, _ in }) throws -> (checked: Int, faults: [LedgerFault]) {
        try ProofAudit.run(verifyingKey: verifyingKey, total: Int(try counts().transfers), chunk: chunk, progress: progress) { after, limit in
            try read { db in
                try db.withStatement("""
                    SELECT id, batch, position, proof_json, root, public_amount, ext_data_hash,
                           nullifier0, nullifier1, commitment0, commitment1
                    FROM transfers WHERE (batch, position) > (?, ?) ORDER BY batch, position LIMIT ?
                    """) { s in
                    try s.bind(1, after.batch); try s.bind(2, after.position); try s.bind(3, Int64(limit))
                    var out: [ProofAudit.PagedRow] = []
                    while try s.step() {
                        let idBytes = s.blob(0)
                        let inputs = (Int32(4)...10).map { try? Fr(bigEndian: s.blob($0)) }
                        out.append(((idBytes.count == 32 ? TransferID(bytes: idBytes) : TransferID(bytes: [UInt8](repeating: 0, count: 32)),
                                     s.int64(1), s.blob(3), inputs.contains(where: { $0 == nil }) ? nil : inputs.map { $0! }), s.int64(2)))
                    }
                    return out
                }
            }
        }
    }
}
