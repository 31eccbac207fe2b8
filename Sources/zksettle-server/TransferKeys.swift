import DataDirectory
import DevelopmentKeys
import Foundation
import Groth16
import Logging
import Protocol

/// The transfer circuit's key pair in `<data>/keys/`: loaded when present, made by a
/// development setup on first start (fresh toxic waste, discarded: unsafe for real funds;
/// production keys come from a ceremony, DESIGN.md section 8, whose finalize step writes the
/// keys and `keys/setup.json`). `requireCeremony` (`--require-ceremony-keys`): development keys
/// are refused, and none are made.
struct TransferKeys {
    let verifyingKey: VerifyingKey
    let circuitID: String
    /// Where the keys come from (`keys/setup.json`, checked against the proving key's flag).
    let setup: KeySetup

    /// What `/v1/params` says of the setup.
    var publishedSetup: ServerParameters.Setup {
        switch setup.kind {
        case .development: .development
        case .ceremony: .ceremony(transcriptHash: setup.transcriptHash ?? "")
        }
    }

    /// What to do about development keys, said once (the refusal and the warning).
    static func ceremonyAdvice(_ dir: DataDirectory) -> String {
        "run a ceremony and finalize it into the data directory (`zksettle-admin ceremony finalize FINAL.zkey --data \(dir.url.path)`; README, \"Production keys\")"
    }

    static func loadOrCreate(in dir: DataDirectory, requireCeremony: Bool = false, logger: Logger) throws -> TransferKeys {
        let idFile = dir.circuitIDURL
        let fm = FileManager.default
        let expected = TransferStatement.circuitID
        // Before anything is made: a setup.json that cannot be read, or that names a ceremony
        // whose keys are not beside it, stops the start (the keys would be the wrong ones).
        let setup = try dir.keySetup()
        if requireCeremony && setup.isDevelopment {
            let what = fm.fileExists(atPath: dir.verifyingKeyURL.path)
                ? "the keys in \(dir.url.path)/keys are development keys (no keys/setup.json names a ceremony)"
                : "\(dir.url.path)/keys holds no keys, and development keys are not made with --require-ceremony-keys"
            throw ServerError("--require-ceremony-keys: \(what): whoever runs a development setup can forge proofs and mint money. To start, \(ceremonyAdvice(dir)), then start again")
        }
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
            let keys = TransferKeys(verifyingKey: vk, circuitID: id, setup: setup)
            keys.logSetup(dir, logger: logger)
            return keys
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
        let keys = TransferKeys(verifyingKey: made.verifyingKey, circuitID: expected, setup: .development)
        keys.logSetup(dir, logger: logger)
        return keys
    }

    /// The start log's word on the keys: a loud warning for development keys, the transcript
    /// hash for a ceremony's.
    func logSetup(_ dir: DataDirectory, logger: Logger) {
        switch setup.kind {
        case .development:
            logger.warning("DEVELOPMENT KEYS: whoever ran their setup can forge proofs and mint money; do not use this server for real funds. For production, \(Self.ceremonyAdvice(dir)) and start with --require-ceremony-keys",
                           metadata: ["setup": "development"])
        case .ceremony:
            var metadata: Logger.Metadata = ["setup": "ceremony", "transcript_hash": "\(setup.transcriptHash ?? "")"]
            if let z = setup.zkey { metadata["zkey"] = "\(z)" }
            if let n = setup.contributions { metadata["contributions"] = "\(n)" }
            logger.notice("keys from a ceremony: transcript BLAKE2b-512 \(setup.transcriptHash ?? "")", metadata: metadata)
        }
    }
}

/// A start-up failure the server logs and exits on; the text says what to do.
struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
