import BN254
import Foundation
import Groth16
import Protocol
import Testing
import Wallet

/// The key file at rest: scrypt's cost for new files, the bounds on costs read from a file, and
/// the refusals that keep a swapped-in file from being used.
@Suite struct KeyFileTests {
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func object(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    /// Writes `obj` as a key file (0600, as the wallet would).
    static func write(_ obj: [String: Any], to url: URL) throws {
        try JSONSerialization.data(withJSONObject: obj).write(to: url)
        chmod(url.path, 0o600)
    }

    @Test func newFilesUseScryptAtTwoToTheSeventeen() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SpendingKey(SecureRandom.scalar())
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(key), to: url, passphrase: "tr0ub4dor&3")
        let obj = try Self.object(url)
        #expect(obj["kdf"] as? String == "scrypt")
        #expect((obj["log_n"] as? Int ?? 0) >= 17)
        #expect((obj["salt"] as? String)?.count == 32)
        #expect(try KeyFile.read(url, passphrase: "tr0ub4dor&3").spendingKey == key)
    }

    @Test func costsOutsideTheBoundsAreRefusedBeforeAnyWork() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SpendingKey(SecureRandom.scalar())
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(key), to: url, passphrase: "pw")
        var obj = try Self.object(url)
        // 2^40 would ask for 128 TiB; 2^10 would make guessing cheap; a string is no number.
        for bad: Any in [40, 10, 14, 21, "17"] {
            obj["log_n"] = bad
            let hostile = dir.appendingPathComponent("hostile-\(bad).json")
            try Self.write(obj, to: hostile)
            #expect(throws: KeyFile.Failure.self) { try KeyFile.read(hostile, passphrase: "pw") }
            do { _ = try KeyFile.read(hostile, passphrase: "pw") } catch let e as KeyFile.Failure {
                #expect(e.description.contains("scrypt cost"), "\(e.description)")
            }
        }
        // An older file at 2^15 still opens.
        let old = dir.appendingPathComponent("old.json")
        let salt = SecureRandom.bytes(16)
        let derived = try #require(Scrypt.derive(passphrase: Array("pw".utf8), salt: salt, logN: 15))
        let ct = ChaCha20Poly1305.seal(key: derived, nonce: [UInt8](repeating: 0, count: 12),
                                       aad: Array("zksettle/keyfile/v1".utf8) + Array("spending".utf8), plaintext: key.sk.bigEndianBytes)
        try Self.write(["version": 1, "kind": "spending", "kdf": "scrypt", "log_n": 15, "salt": Hex.encode(salt), "ciphertext": Hex.encode(ct)], to: old)
        #expect(try KeyFile.read(old, passphrase: "pw").spendingKey == key)
        // scrypt itself refuses a cost outside the bounds.
        #expect(Scrypt.derive(passphrase: [1], salt: salt, logN: 30) == nil)
    }

    @Test func aPlaintextFileIsRefusedWhenAPassphraseIsGiven() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(SpendingKey(SecureRandom.scalar())), to: url, passphrase: nil)
        do {
            _ = try KeyFile.read(url, passphrase: "the owner's passphrase")
            Issue.record("a plaintext key file was accepted with a passphrase")
        } catch let e as KeyFile.Failure {
            #expect(e.description.contains("not encrypted"))
        }
    }
}

/// What the tools show of other people's text.
@Suite struct DisplayTextTests {
    @Test func controlsAndBidiOverridesBecomeVisible() {
        // Clear the line, return, and print a fake "settled" line; a CSI in its one-byte C1 form;
        // a right-to-left override that would reorder the rest of the row.
        #expect(DisplayText.escaped("hi\u{1B}[2K\rsettled 1000") == "hi\\e[2K\\rsettled 1000")
        #expect(DisplayText.escaped("a\u{9B}31mred") == "a\\u{9B}31mred")
        #expect(DisplayText.escaped("pay \u{202E}0001") == "pay \\u{202E}0001")
        #expect(DisplayText.escaped("tab\tnew\nline\u{7F}\u{0}") == "tab\\tnew\\nline\\u{7F}\\u{0}")
        #expect(DisplayText.escaped("back\\slash") == "back\\\\slash")
        // Ordinary text, emoji and other scripts are shown as they are.
        for plain in ["lunch 🍜 on Friday", "Zürich", "東京", "שלום", "iban:DE00 1234"] {
            #expect(DisplayText.escaped(plain) == plain)
            #expect(DisplayText.isPlain(plain))
        }
        #expect(!DisplayText.isPlain("x\u{1B}"))
        // Line by line keeps our own line breaks and nothing else.
        #expect(DisplayText.escapedLines("one\u{1B}]0;t\u{7}\ntwo") == "one\\e]0;t\\u{7}\ntwo")
    }

    @Test func everyEscapedStringIsFreeOfControls() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let scalars = (0..<Int.random(in: 0...24, using: &rng)).compactMap { _ -> Unicode.Scalar? in
                Unicode.Scalar(UInt32.random(in: 0...0x2100, using: &rng))
            }
            var s = ""
            s.unicodeScalars.append(contentsOf: scalars)
            let e = DisplayText.escaped(s)
            #expect(DisplayText.isPlain(e), "\(Array(e.unicodeScalars))")
        }
    }
}

/// The wallet's tree on a real wallet database, without a server: pages that cut groups in
/// two, notes on either side of the cut, and paths built from what was kept.
@Suite struct WalletTreeTests {
    static func commitment(_ i: Int) -> Fr { Fr(UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1) }

    @Test func groupsCutByPagesKeepTheirNotesAndPathsLeadToTheRoot() throws {
        let dir = try KeyFileTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try WalletDatabase(path: dir.appendingPathComponent("wallet.sqlite").path)
        let tree = WalletTree(database: database)
        let leaves = 2_100  // two chunks and a partial third; the tip's group partial too
        var reference = MerkleTree()
        try reference.append(contentsOf: (0..<leaves).map(Self.commitment))
        // Own notes: one just before a page cut inside a group, one just after, one at the tip.
        let own = [995, 1_001, 2_099]
        let page = 7 * 143  // 1001: not a multiple of 32, so pages cut groups
        var from = 0
        while from < leaves {
            let n = min(page, leaves - from)
            try database.transaction {
                for i in own where i >= from && i < from + n {
                    try database.insertNote(leafIndex: i, commitment: Self.commitment(i),
                                            plaintext: NotePlaintext(value: 1, blinding: .zero, memo: []), nullifier: Fr(UInt64(i) + 5), batch: 1)
                }
                try tree.absorb((from..<from + n).map(Self.commitment), from: from)
            }
            from += n
        }
        try tree.storePublished(height: MerkleTree.groupHeight, from: 0,
                                (0..<leaves >> MerkleTree.groupHeight).map { reference.node(height: MerkleTree.groupHeight, index: $0) })
        try tree.storePublished(height: MerkleTree.chunkHeight, from: 0,
                                (0..<leaves >> MerkleTree.chunkHeight).map { reference.node(height: MerkleTree.chunkHeight, index: $0) })
        #expect(try tree.root(leaves: leaves) == reference.root)
        try database.transaction { try tree.verify(leaves: leaves, expectedRoot: reference.root) }
        #expect(try database.notes().map(\.leafIndex) == own)
        for i in own {
            let path = try tree.path(i, leaves: leaves)
            #expect(path == (try reference.path(i)), "leaf \(i)")
        }
        // Only the groups of the notes and the tip's were kept.
        let kept = try database.query("SELECT grp FROM leaf_groups ORDER BY grp") { Int($0.int(0)) }
        #expect(kept == Array(Set(own.map { $0 / 32 } + [leaves / 32])).sorted())
        // A false root is refused, and then nothing more counts.
        try database.run("UPDATE notes SET verified = 0")
        #expect(throws: WalletError.self) { try tree.verify(leaves: leaves, expectedRoot: Fr(7)) }
        // A published group node that the note's leaves do not hash to is refused, by name.
        try tree.storePublished(height: MerkleTree.groupHeight, from: 995 / 32, [Fr(11)])
        do {
            try tree.verify(leaves: leaves, expectedRoot: reference.root)
            Issue.record("a false group node was accepted")
        } catch let e as WalletError {
            #expect(e.description.contains("leaves 992…1023"), "\(e.description)")
        }
        #expect(try database.notes().isEmpty)
    }
}
