import ArgumentParser
import BN254
import Foundation
import Groth16
import Protocol
import Wallet

/// `zksettle-bench sync --notes N`: wallet sync's trial decryption (X25519 + view tag, then
/// HKDF + ChaCha20-Poly1305 for the 1 in 256 that pass the tag) over N encrypted outputs on
/// all cores, in pages of 10,000 as `zkwallet sync` reads them from `/v1/notes`.
///
/// Encrypting a million outputs costs as much as decrypting them, so the benchmark encrypts a
/// pool of distinct outputs (`--pool`, one in 1,000 to the wallet) and cycles through it;
/// every trial decryption does its full work (nothing is cached between notes).
struct SyncBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Trial decryptions per second on all cores (wallet sync).")

    @Option(help: "Encrypted outputs to scan.") var notes = 1_000_000
    @Option(help: "Distinct ciphertexts encrypted up front and cycled through.") var pool = 20_000
    @Option(help: "Outputs per page (the wallet asks for 10,000 at a time).") var page = 10_000

    func run() throws {
        let me = SpendingKey(SecureRandom.scalar())
        let stranger = SpendingKey(SecureRandom.scalar())
        let poolSize = max(1, min(pool, notes))
        let t0 = Timer.now()
        var leaves: [ServerClient.EncryptedLeaf] = []
        leaves.reserveCapacity(poolSize)
        for i in 0..<poolSize {
            let to = i % 1000 == 999 ? me.address : stranger.address
            let pt = NotePlaintext(value: UInt64(i + 1), blinding: Fr(UInt64(i)), memo: Array("memo \(i)".utf8))
            leaves.append(ServerClient.EncryptedLeaf(leafIndex: i, commitment: .zero, ciphertext: try NoteEncryption.encrypt(pt, to: to), batch: 0))
        }
        let encryptSeconds = Double(Timer.now() - t0) / 1e9

        // One core, for the per-note cost.
        let d = NoteEncryption.Decryptor(privateKey: me.encryptionPrivateKey)!
        let single = min(poolSize, 5_000)
        let t1 = Timer.now()
        var hits = 0
        for i in 0..<single where d.decrypt(leaves[i].ciphertext) != nil { hits += 1 }
        let singleSeconds = Double(Timer.now() - t1) / 1e9
        blackHole(hits)

        // All cores, page by page, exactly as sync does.
        let vk = me.viewingKey
        var found = 0
        let t2 = Timer.now()
        var done = 0
        while done < notes {
            let n = min(page, notes - done)
            let pageLeaves = (0..<n).map { leaves[(done + $0) % poolSize] }
            found += PeerWallet.trialDecrypt(pageLeaves, viewingKey: vk).count
            done += n
        }
        let seconds = Double(Timer.now() - t2) / 1e9
        emit(["benchmark": "sync", "notes": notes, "seconds": round4(seconds), "notes_per_second": (Double(notes) / seconds).rounded(),
              "threads": ProcessInfo.processInfo.activeProcessorCount, "found": found, "page": page, "pool": poolSize,
              "one_core_notes_per_second": (Double(single) / singleSeconds).rounded(),
              "one_core_us_per_note": round4(singleSeconds / Double(single) * 1e6),
              "encrypt_us_per_note": round4(encryptSeconds / Double(poolSize) * 1e6),
              "ciphertext_bytes": NoteEncryption.ciphertextBytes])
    }
}
