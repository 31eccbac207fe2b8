import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient
import Testing
import Wallet

/// Note encryption, bech32m addresses, backup phrases and the key file: the wallet's
/// cryptography on real OpenSSL, no mocks.
@Suite struct NoteEncryptionTests {
    let key = SpendingKey(SecureRandom.scalar())
    var decryptor: NoteEncryption.Decryptor { NoteEncryption.Decryptor(privateKey: key.encryptionPrivateKey)! }

    @Test func roundTripAtFixedSize() throws {
        for memo in ["", "lunch 🍜", String(repeating: "x", count: NoteEncryption.maxMemoBytes)] {
            let pt = NotePlaintext(value: 123_456_789, blinding: SecureRandom.scalar(), memo: Array(memo.utf8))
            let ct = try NoteEncryption.encrypt(pt, to: key.address)
            #expect(ct.count == NoteEncryption.ciphertextBytes)
            #expect(ct.count == 219)
            #expect(decryptor.decrypt(ct) == pt)
            #expect(decryptor.decrypt(ct)?.memoText == memo)
            // The note it opens is the one a commitment names.
            #expect(pt.note(owner: key.ownerKey).commitment == Note(value: 123_456_789, owner: key.ownerKey, blinding: pt.blinding).commitment)
        }
        #expect(throws: NoteEncryption.Failure.memoTooLong(129)) {
            try NoteEncryption.encrypt(NotePlaintext(value: 1, blinding: .zero, memo: Array(repeating: 65, count: 129)), to: key.address)
        }
    }

    @Test func everyTamperedByteFailsToDecrypt() throws {
        let pt = NotePlaintext(value: 42, blinding: SecureRandom.scalar(), memo: Array("hi".utf8))
        let ct = try NoteEncryption.encrypt(pt, to: key.address)
        let d = decryptor
        for i in 0..<ct.count {
            var t = ct
            t[i] ^= 0x01
            #expect(d.decrypt(t) == nil, "flipped byte \(i) still decrypts")
        }
        // Truncated, extended, empty, random, all-zero (a low-order ephemeral key): nil, no trap.
        #expect(d.decrypt(Array(ct.dropLast())) == nil)
        #expect(d.decrypt(ct + [0]) == nil)
        #expect(d.decrypt([]) == nil)
        #expect(d.decrypt(SecureRandom.bytes(ct.count)) == nil)
        #expect(d.decrypt([UInt8](repeating: 0, count: ct.count)) == nil)
        var lowOrder = ct
        for i in 1..<33 { lowOrder[i] = 0 }
        #expect(d.decrypt(lowOrder) == nil)
        // A refused key agreement leaves the decryptor usable.
        #expect(d.decrypt(ct) == pt)
    }

    @Test func wrongKeyFailsAndViewTagFiltersMostForeignNotes() throws {
        let other = SpendingKey(SecureRandom.scalar())
        let d = NoteEncryption.Decryptor(privateKey: other.encryptionPrivateKey)!
        var tagHits = 0
        for _ in 0..<512 {
            let ct = try NoteEncryption.encrypt(NotePlaintext(value: 7, blinding: SecureRandom.scalar()), to: key.address)
            #expect(d.decrypt(ct) == nil)
            if d.viewTagMatches(ct) { tagHits += 1 }
        }
        // 1 in 256 expected: 2 of 512 on average; 20 would be a broken tag.
        #expect(tagHits < 20)
    }

    @Test func trialDecryptionOfAServerPageIgnoresGarbage() throws {
        let mine = NotePlaintext(value: 5, blinding: SecureRandom.scalar(), memo: Array("yours".utf8))
        let ct = try NoteEncryption.encrypt(mine, to: key.address)
        var tampered = ct
        tampered[100] ^= 0x80
        let foreign = try NoteEncryption.encrypt(mine, to: SpendingKey(SecureRandom.scalar()).address)
        let pages: [[UInt8]] = [[], SecureRandom.bytes(10), SecureRandom.bytes(1024), tampered, foreign, ct, Array(ct.prefix(218))]
        let leaves = pages.enumerated().map { i, c in
            ServerClient.EncryptedLeaf(leafIndex: i, commitment: .zero, ciphertext: c, batch: 1)
        }
        let found = PeerWallet.trialDecrypt(leaves, viewingKey: key.viewingKey)
        #expect(found.count == 1)
        #expect(found.first?.0.leafIndex == 5)
        #expect(found.first?.1 == mine)
    }
}

@Suite struct AddressTests {
    /// BIP-350's valid bech32m test vectors.
    static let valid = [
        "A1LQFN3A",
        "a1lqfn3a",
        "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
        "?1v759aa",
    ]

    /// BIP-350's invalid bech32m test vectors.
    static let invalid = [
        "\u{20}1xj0phk", "\u{7F}1g6xzxy", "\u{80}1vctc34",
        "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
        "qyrz8wqd2c9m", "1qyrz8wqd2c9m", "y1b0jsk6g", "lt1igcx5c0", "in1muywd", "mm1crxm3i", "au1s5cgom",
        "M1VUXWEZ", "16plkw9", "1p2gdwpf",
    ]

    @Test(arguments: valid) func bip350Valid(_ s: String) throws {
        let (hrp, data) = try Bech32m.decode(s)
        #expect(Bech32m.encode(hrp: hrp, data5: data) == s.lowercased())
    }

    @Test(arguments: invalid) func bip350Invalid(_ s: String) {
        #expect(throws: Bech32m.Failure.self) { try Bech32m.decode(s) }
    }

    @Test func bech32ChecksumIsNotBech32m() {
        // A valid BIP-173 (bech32, constant 1) string must not pass as bech32m.
        #expect(throws: Bech32m.Failure.badChecksum) { try Bech32m.decode("a12uel5l") }
    }

    @Test func addressAndViewingKeyRoundTrip() throws {
        let key = SpendingKey(SecureRandom.scalar())
        let a = key.address
        #expect(a.encoded.hasPrefix("zks1"))
        #expect(a.encoded.count == 113)
        #expect(try Address(encoded: a.encoded) == a)
        #expect(try Address(encoded: a.encoded.uppercased()) == a)
        #expect(a.owner == key.ownerKey)
        #expect(a.encryptionKey == X25519.publicKey(privateKey: key.encryptionPrivateKey))
        let vk = key.viewingKey
        #expect(vk.encoded.hasPrefix("zkview1"))
        #expect(try ViewingKey(encoded: vk.encoded) == vk)
        #expect(vk.address == a)
        // A typo, a swapped prefix, a wrong length: refused.
        var chars = Array(a.encoded)
        chars[20] = chars[20] == "q" ? "p" : "q"
        #expect(throws: Address.Failure.self) { try Address(encoded: String(chars)) }
        #expect(throws: Address.Failure.self) { try Address(encoded: vk.encoded) }
        #expect(throws: Address.Failure.self) { try Address(encoded: Bech32m.encode(hrp: "zks", bytes: [1, 2, 3])) }
        // Derivation is deterministic: the same key gives the same address.
        #expect(SpendingKey(key.sk).address == a)
    }
}

@Suite struct BackupTests {
    /// Phrases made before BIP-39 (ZKSettle's own list, the key itself) still restore.
    @Test func legacyPhrasesStillRestore() throws {
        #expect(Set(BackupPhrase.legacyWords).count == 2048)
        for _ in 0..<20 {
            let key = SpendingKey(SecureRandom.scalar())
            let phrase = BackupPhrase.legacyPhrase(for: key)
            #expect(phrase.split(separator: " ").count == 24 && BackupPhrase.isLegacy(phrase))
            #expect(try BackupPhrase.spendingKey(from: phrase) == key)
            #expect(try BackupPhrase.spendingKey(from: "  " + phrase.uppercased().replacingOccurrences(of: " ", with: "\n") + "\n") == key)
        }
    }

    /// BIP-39 against the standard: the English list's SHA-256, and the reference vectors of
    /// trezor/python-mnemonic (24-word entropy → mnemonic, and the seed with passphrase "TREZOR").
    @Test func bip39MatchesTheReferenceVectors() throws {
        #expect(BIP39.words.count == 2048 && Set(BIP39.words).count == 2048)
        #expect(Hex.encode(SHA256.hash(Array((BIP39.words.joined(separator: "\n") + "\n").utf8)))
                == "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda")
        let vectors: [(entropy: UInt8, mnemonic: String)] = [
            (0x00, Array(repeating: "abandon", count: 23).joined(separator: " ") + " art"),
            (0x7f, Array(repeating: "legal winner thank year wave sausage worth useful", count: 3).joined(separator: " ").replacingOccurrences(of: "useful$", with: "title", options: .regularExpression)),
            (0x80, Array(repeating: "letter advice cage absurd amount doctor acoustic avoid", count: 3).joined(separator: " ").replacingOccurrences(of: "avoid$", with: "bless", options: .regularExpression)),
            (0xff, Array(repeating: "zoo", count: 23).joined(separator: " ") + " vote"),
        ]
        for v in vectors {
            let entropy = [UInt8](repeating: v.entropy, count: 32)
            #expect(BIP39.mnemonic(entropy: entropy).joined(separator: " ") == v.mnemonic)
            #expect(try BIP39.entropy(of: v.mnemonic.split(separator: " ").map(String.init)) == entropy)
        }
        #expect(Hex.encode(BIP39.seed(mnemonic: vectors[0].mnemonic.split(separator: " ").map(String.init), passphrase: "TREZOR"))
                == "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8")
    }

    @Test func newPhrasesAreBIP39AndRestoreTheirKey() throws {
        var keys: Set<Fr> = []
        for _ in 0..<5 {
            let (words, key) = BackupPhrase.generate()
            let phrase = words.joined(separator: " ")
            #expect(words.count == 24 && words.allSatisfy(BIP39.isWord) && !BackupPhrase.isLegacy(phrase))
            #expect(try BackupPhrase.spendingKey(from: phrase) == key)
            // As `init` prints it: numbered, four to a line.
            let numbered = stride(from: 0, to: 24, by: 4).map { r in (r..<r + 4).map { "\($0 + 1). \(words[$0])" }.joined(separator: "  ") }.joined(separator: "\n")
            #expect(try BackupPhrase.spendingKey(from: numbered) == key)
            keys.insert(key.sk)
        }
        #expect(keys.count == 5)
        // The derivation is fixed: the all-zero-entropy phrase gives the same key on every run.
        let zero = BIP39.mnemonic(entropy: [UInt8](repeating: 0, count: 32)).joined(separator: " ")
        #expect(try BackupPhrase.spendingKey(from: zero) == BackupPhrase.spendingKey(from: zero))
    }

    @Test func mistakesAreCaught() throws {
        // Fixed phrases (a random one would pass the checksum after the swap once in 256 runs).
        for phrase in [BackupPhrase.legacyPhrase(for: SpendingKey(Fr(123_456_789))), BIP39.mnemonic(entropy: [UInt8](repeating: 0x7f, count: 32)).joined(separator: " ")] {
            var words = phrase.split(separator: " ").map(String.init)
            #expect(throws: BackupPhrase.Failure.wordCount(23)) { try BackupPhrase.spendingKey(from: words.dropLast().joined(separator: " ")) }
            var unknown = words
            unknown[3] = "bitcoin"
            #expect(throws: BackupPhrase.Failure.unknownWord(position: 4, word: "bitcoin")) { try BackupPhrase.spendingKey(from: unknown.joined(separator: " ")) }
            #expect(words[21] != words[22])
            words.swapAt(21, 22)
            #expect(throws: BackupPhrase.Failure.self) { try BackupPhrase.spendingKey(from: words.joined(separator: " ")) }
        }
    }

    @Test func keyFileIsPrivateAndPassphraseProtected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SpendingKey(SecureRandom.scalar())
        let plain = dir.appendingPathComponent("plain.json"), locked = dir.appendingPathComponent("locked.json")
        try KeyFile.write(.spending(key), to: plain, passphrase: nil)
        try KeyFile.write(.spending(key), to: locked, passphrase: "correct horse")
        for url in [plain, locked] {
            let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! Int
            #expect(mode == 0o600)
        }
        #expect(try KeyFile.read(plain, passphrase: nil).spendingKey == key)
        #expect(try KeyFile.read(locked, passphrase: "correct horse").spendingKey == key)
        #expect(!String(decoding: try Data(contentsOf: locked), as: UTF8.self).contains(Hex.encode(key.sk.bigEndianBytes)))
        #expect(throws: KeyFile.Failure.self) { try KeyFile.read(locked, passphrase: "wrong") }
        // No passphrase for an encrypted file: bad usage (exit 64), saying how to give one.
        #expect { try KeyFile.read(locked, passphrase: nil) } throws: { ($0 as? WalletError)?.code == "usage" }
        // A viewing key round-trips too.
        let vkFile = dir.appendingPathComponent("view.json")
        try KeyFile.write(.viewing(key.viewingKey), to: vkFile, passphrase: nil)
        #expect(try KeyFile.read(vkFile, passphrase: nil).viewingKey == key.viewingKey)
        #expect(try KeyFile.read(vkFile, passphrase: nil).spendingKey == nil)
    }
}
