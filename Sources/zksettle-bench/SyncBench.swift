import ArgumentParser
import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient
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
        let privacy = try PrivacyCost.measure(notes: notes, ownEvery: 1000, page: page, key: me)
        emit(["benchmark": "sync", "notes": notes, "seconds": round4(seconds), "notes_per_second": (Double(notes) / seconds).rounded(),
              "privacy": privacy, "total_seconds": round4(seconds + (privacy["seconds"] as? Double ?? 0)),
              "threads": coreCount, "found": found, "page": page, "pool": poolSize,
              "one_core_notes_per_second": (Double(single) / singleSeconds).rounded(),
              "one_core_us_per_note": round4(singleSeconds / Double(single) * 1e6),
              "encrypt_us_per_note": round4(encryptSeconds / Double(poolSize) * 1e6),
              "ciphertext_bytes": NoteEncryption.ciphertextBytes])
    }
}

/// What privacy adds to a sync (README, "What the server learns from a wallet"): keeping the
/// leaves around the wallet's notes page by page, storing the published subtree nodes, checking
/// every new note and the whole tree against the tip's root (`WalletTree.verify`), and decoding
/// and matching the public nullifier list. Real code on a real wallet database; the server's
/// side is replaced by nodes computed here (setup, not timed) so that the check passes.
enum PrivacyCost {
    static func commitment(_ i: Int) -> Fr { Fr(UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1) }

    static func measure(notes count: Int, ownEvery: Int, page: Int, key: SpendingKey) throws -> [String: Any] {
        let notes = max(2, count & ~1)  // two leaves per transfer
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-bench-sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try WalletDatabase(path: dir.appendingPathComponent("wallet.sqlite").path)
        let tree = WalletTree(database: database)
        let g = 1 << MerkleTree.groupHeight

        // Setup: the wallet's notes (as sync records them), the published nodes, the root.
        let own = Set(stride(from: ownEvery - 1, to: notes, by: ownEvery))
        var nullifiers: [String] = []
        try database.transaction {
            for i in own.sorted() {
                let nf = Fr(UInt64(i) &+ 7)
                nullifiers.append(nf.decimalString)
                try database.insertNote(leafIndex: i, commitment: commitment(i), plaintext: NotePlaintext(value: 1, blinding: .zero, memo: []),
                                        nullifier: nf, batch: 1)
            }
        }
        let ownGroups = Set(own.map { $0 / g })
        let (groupNodes, chunkNodes, root) = publishedTree(notes: notes, ownGroups: ownGroups)
        let pages = nullifierPages(notes: notes, own: own, nullifiers: nullifiers)

        // Timed: what sync does beyond trial decryption.
        let t0 = Timer.now()
        var at = 0
        while at < notes {
            let n = min(page, notes - at)
            try database.transaction { try tree.absorb((at..<at + n).map(commitment), from: at) }
            at += n
        }
        let tAbsorb = Timer.now()
        try database.transaction {
            try tree.storePublished(height: MerkleTree.groupHeight, from: 0, groupNodes)
            try tree.storePublished(height: MerkleTree.chunkHeight, from: 0, chunkNodes)
        }
        let tStore = Timer.now()
        try database.transaction { try tree.verify(leaves: notes, expectedRoot: root) }
        let tVerify = Timer.now()
        var mine = Set(nullifiers), matched = 0
        for (start, data) in pages {
            let decoded = try ServerAnswer.spendsPage(data, from: start, limit: Self.spendsPage)
            for s in decoded.spends where mine.remove(s.nullifier) != nil { matched += 1 }
        }
        let tSpends = Timer.now()
        // A spend's path, built locally (two inputs take twice this).
        let leaf = own.max() ?? 0
        let path = try tree.path(leaf, leaves: notes)
        let tPath = Timer.now()
        guard MerkleTree.root(leaf: commitment(leaf), index: leaf, path: path) == root, matched == own.count else {
            throw ValidationError("the privacy benchmark's own check failed (path or nullifier matches)")
        }
        let s = { (a: UInt64, b: UInt64) in round4(Double(b - a) / 1e9) }
        return ["seconds": s(t0, tSpends), "absorb_seconds": s(t0, tAbsorb), "store_nodes_seconds": s(tAbsorb, tStore),
                "verify_seconds": s(tStore, tVerify), "nullifier_list_seconds": s(tVerify, tSpends), "path_ms": round4(Double(tPath - tSpends) / 1e6),
                "own_notes": own.count, "own_groups": ownGroups.count, "nullifier_list_bytes": pages.reduce(0) { $0 + $1.1.count }]
    }

    static let spendsPage = 20_000

    /// The published tree over `notes` leaves (setup, not timed): real group roots where the
    /// wallet has notes, stand-ins elsewhere, the chunk nodes above them, and the root.
    static func publishedTree(notes: Int, ownGroups: Set<Int>) -> (groups: [Fr], chunks: [Fr], root: Fr) {
        let g = 1 << MerkleTree.groupHeight, c = 1 << MerkleTree.chunkHeight
        let groupNodes: [Fr] = (0..<(notes / g)).map { k in
            ownGroups.contains(k) ? SparseMerkleTree(leaves: (k * g..<(k + 1) * g).map(commitment), height: MerkleTree.groupHeight).root
                                  : commitment(k &+ 1_000_000_007)
        }
        let perChunk = c / g
        let chunkNodes: [Fr] = (0..<(notes / c)).map { k in
            SparseMerkleTree(leaves: Array(groupNodes[k * perChunk..<(k + 1) * perChunk]), height: MerkleTree.chunkHeight - MerkleTree.groupHeight,
                             bottom: MerkleTree.groupHeight).root
        }
        var tops = chunkNodes
        if notes % c != 0 {
            let first = (notes / c) * perChunk
            var nodes = Array(groupNodes[first...])
            if notes % g != 0 { nodes.append(SparseMerkleTree(leaves: ((notes / g) * g..<notes).map(commitment), height: MerkleTree.groupHeight).root) }
            tops.append(SparseMerkleTree(leaves: nodes, height: MerkleTree.chunkHeight - MerkleTree.groupHeight, bottom: MerkleTree.groupHeight).root)
        }
        let root = SparseMerkleTree(leaves: tops, height: MerkleTree.depth - MerkleTree.chunkHeight, bottom: MerkleTree.chunkHeight).root
        return (groupNodes, chunkNodes, root)
    }

    /// The nullifier list as the server writes it, two per transfer; the wallet's appear in it.
    static func nullifierPages(notes: Int, own: Set<Int>, nullifiers: [String]) -> [(Int, Data)] {
        let id = String(repeating: "ab", count: 32)
        let ownNullifierAt = Dictionary(uniqueKeysWithValues: own.sorted().enumerated().map { ($1 + 1 < notes ? $1 + 1 : $1, nullifiers[$0]) })
        var pages: [(Int, Data)] = []
        var from = 0
        while from < notes {
            let n = min(Self.spendsPage, notes - from)
            var nfs: [String] = [], ids: [String] = [], batches: [String] = [], exts: [String] = []
            for i in from..<from + n { nfs.append("\"" + (ownNullifierAt[i] ?? commitment(i &+ 3).decimalString) + "\"") }
            for _ in 0..<n / 2 { ids.append("\"\(id)\""); batches.append("1"); exts.append("\"0\"") }
            let text = "{\"batches\":[\(batches.joined(separator: ","))],\"count\":\(notes),\"ext_amounts\":[\(exts.joined(separator: ","))],"
                + "\"from\":\(from),\"next\":\(from + n),\"nullifiers\":[\(nfs.joined(separator: ","))],\"transfer_ids\":[\(ids.joined(separator: ","))]}"
            pages.append((from, Data(text.utf8)))
            from += n
        }
        return pages
    }
}
