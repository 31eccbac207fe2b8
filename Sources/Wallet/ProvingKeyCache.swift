import Circuits
import Foundation
import Groth16
import Groth16Prover
import Primitives
import Protocol
import SettlementClient

/// The server's parameters and the proving key, each fetched and checked once: the
/// parameters against the pin, the key (cached in `proving-keys/`) against the pinned
/// verifying key and the circuit, once per key file.
extension PeerWallet {
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
        let url = try cachedProvingKey(params)
        // One read: the bytes hashed are the bytes parsed and checked.
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch { throw WalletError("cannot read the cached proving key \(url.path): \(error)") }
        let pk: ProvingKey
        do { pk = try ProvingKey(serialized: bytes) } catch {
            try? FileManager.default.removeItem(at: url)
            throw WalletError("the proving key from the server is unusable (\(error)); it was deleted from the cache, and the next command downloads it again")
        }
        let hash = SHA256.hex(bytes)
        if try !database.isProvingKeyAccepted(sha256: hash, fingerprint: params.fingerprint) {
            try check(pk, file: url, sha256: hash, params: params)
        }
        let p = TransferProver(provingKey: pk, verifyingKey: params.verifyingKey)
        proverStorage = p
        return p
    }

    /// The proving key's file in the cache, downloaded first if it is not there.
    private func cachedProvingKey(_ params: ServerClient.Params) throws -> URL {
        let safeID = params.circuitID.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        let dir = directory.appendingPathComponent("proving-keys")
        let url = dir.appendingPathComponent("\(safeID).zkspk")
        if !FileManager.default.fileExists(atPath: url.path) {
            log("downloading the proving key for circuit \(params.circuitID) (once)…")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let bar = startProgress(.downloadingProvingKey)
            try server.downloadProvingKey(to: url) { received, expected in bar.update(received: received, expected: expected) }
            bar.finish()
        }
        return url
    }

    /// Checks a proving key not accepted before against the pinned parameters and records it
    /// as accepted; a refused key is deleted.
    private func check(_ pk: ProvingKey, file url: URL, sha256 hash: String, params: ServerClient.Params) throws {
        let fingerprint = params.fingerprint
        log("checking the proving key against the pinned parameters (once per key)…")
        let bar = startProgress(.checkingProvingKey)
        let report: ProvingKeyCheck.Report
        do {
            report = try ProvingKeyCheck.check(pk, r1cs: TransferCircuit.r1cs, circuitID: params.circuitID, verifyingKey: params.verifyingKey,
                                               progress: { stage, fraction in bar.update(stage: stage.rawValue, fraction: fraction) })
        } catch {
            bar.abandon()
            try? FileManager.default.removeItem(at: url)
            throw WalletError("\(error). Nothing was sent. The key served by \(serverURL) does not fit the parameters this wallet pinned (fingerprint \(fingerprint)); it was deleted from \(directory.appendingPathComponent("proving-keys").path). Do not use this server until its operator explains.",
                              code: "proving_key_refused")
        }
        bar.finish()
        try database.recordAcceptedProvingKey(sha256: hash, fingerprint: fingerprint, circuitID: params.circuitID, seconds: report.seconds)
        log("accepted the proving key \(hash.prefix(16))…: \(report.points) points on their curves, \(report.subgroupChecks) in G2's subgroup, pairing checks passed (\(report.recoveredRows) of \(report.rowCount) row points recovered; A, B, L checked against the circuit for \(report.rowCheckedA), \(report.rowCheckedB), \(max(report.rowCheckedL, report.linkedVariables)) of \(report.variableCount) variables)")
    }
}
