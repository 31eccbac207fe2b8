import DevelopmentKeys
import Foundation
import Groth16
import Logging
import Protocol

/// The transfer circuit's key pair in `<data>/keys/`: loaded when present, made by a
/// development setup on first start (fresh toxic waste, discarded: unsafe for real funds;
/// production keys come from a ceremony, DESIGN.md section 8).
struct TransferKeys {
    let verifyingKey: VerifyingKey
    let circuitID: String

    static func loadOrCreate(in dir: DataDirectory, logger: Logger) throws -> TransferKeys {
        let idFile = dir.url.appendingPathComponent("keys/circuit-id")
        let fm = FileManager.default
        let expected = TransferStatement.circuitID
        if fm.fileExists(atPath: dir.verifyingKeyURL.path) {
            guard let idData = fm.contents(atPath: idFile.path), fm.fileExists(atPath: dir.provingKeyURL.path) else {
                throw ServerError("\(dir.url.path)/keys is incomplete (need transfer.zkspk, verification_key.json, circuit-id): move it away to make new development keys")
            }
            let id = String(decoding: idData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard id == expected else {
                throw ServerError("the keys in \(dir.url.path)/keys are for circuit \(id), but this build's transfer circuit is \(expected): move keys/ away to make new development keys (notes settled under the old keys cannot be spent with new ones)")
            }
            let vk: VerifyingKey
            do { vk = try SnarkJS.verifyingKey(from: Data(contentsOf: dir.verifyingKeyURL)) } catch {
                throw ServerError("\(dir.verifyingKeyURL.path): \(error)")
            }
            guard vk.publicInputCount == TransferStatement.publicInputCount else {
                throw ServerError("\(dir.verifyingKeyURL.path) has \(vk.publicInputCount) public inputs; the transfer circuit has \(TransferStatement.publicInputCount)")
            }
            logger.info("loaded transfer circuit keys", metadata: ["circuit_id": "\(id)"])
            return TransferKeys(verifyingKey: vk, circuitID: id)
        }

        logger.notice("no keys yet: running a development setup for the transfer circuit (unsafe for real funds)",
                      metadata: ["constraints": "\(DevelopmentKeys.constraintCount)", "circuit_id": "\(expected)"])
        let start = Date()
        var lastReported = -1
        let made = try DevelopmentKeys.make { stage, fraction in
            let percent = Int(fraction * 100)
            if percent / 25 != lastReported / 25 || percent == 100 && lastReported != 100 {
                lastReported = percent
                logger.info("setup progress", metadata: ["stage": "\(stage)", "percent": "\(percent)"])
            }
        }
        // Owner-only like the secrets (the proving key is public, but nothing in the data
        // directory needs to be readable by others), each written atomically.
        try dir.writePrivate(Data(made.provingKey), to: dir.provingKeyURL)
        try dir.writePrivate(SnarkJS.encode(made.verifyingKey), to: dir.verifyingKeyURL)
        try dir.writePrivate(Data((expected + "\n").utf8), to: idFile)
        logger.notice("development keys made", metadata: [
            "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(start)))",
            "proving_key": "\(dir.provingKeyURL.path)", "verification_key": "\(dir.verifyingKeyURL.path)",
        ])
        return TransferKeys(verifyingKey: made.verifyingKey, circuitID: expected)
    }
}
