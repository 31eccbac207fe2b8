import BN254
import Primitives

/// Keys derived from a spending key (DESIGN.md section 4):
///
///     x25519 private = HKDF-SHA256(ikm = sk (32 bytes, big-endian),
///                                  salt = "zksettle/v1/x25519", info = "encryption key")[0..<32]
///     x25519 public  = X25519(private, 9)
///
/// The viewing key is `nk ‖ x25519 private` (64 bytes): it finds incoming notes by trial
/// decryption and computes their nullifiers (so it sees spends), but cannot prove a spend.
extension SpendingKey {
    public var encryptionPrivateKey: [UInt8] {
        HKDFSHA256.derive(key: sk.bigEndianBytes, salt: Array("zksettle/v1/x25519".utf8),
                          info: Array("encryption key".utf8), count: 32)
    }

    public var viewingKey: ViewingKey { ViewingKey(nullifierKey: nullifierKey, encryptionPrivateKey: encryptionPrivateKey) }

    public var address: Address { viewingKey.address }
}

/// `nk` and the X25519 private key: sees incoming notes and their spends, cannot spend.
public struct ViewingKey: Sendable, Equatable {
    public static let hrp = "zkview"
    public let nullifierKey: Fr
    public let encryptionPrivateKey: [UInt8]

    public init(nullifierKey: Fr, encryptionPrivateKey: [UInt8]) {
        precondition(encryptionPrivateKey.count == 32)
        self.nullifierKey = nullifierKey
        self.encryptionPrivateKey = encryptionPrivateKey
    }

    /// pk = H1(nk).
    public var ownerKey: Fr { Poseidon.hash(nullifierKey) }

    public var address: Address {
        Address(owner: ownerKey, encryptionKey: X25519.publicKey(privateKey: encryptionPrivateKey)!)
    }

    /// bech32m `zkview1…` of nk (32 bytes, big-endian) ‖ X25519 private key (32 bytes).
    public var encoded: String { Bech32m.encode(hrp: Self.hrp, bytes: nullifierKey.bigEndianBytes + encryptionPrivateKey) }

    public enum Failure: Error, CustomStringConvertible, Sendable {
        case bech32m(Bech32m.Failure), notCanonical
        public var description: String {
            switch self {
            case .bech32m(let f): return "the viewing key \(f)"
            case .notCanonical: return "the viewing key's nullifier key is not a field element"
            }
        }
    }

    public init(encoded text: String) throws(Failure) {
        let bytes: [UInt8]
        do { bytes = try Bech32m.decode(text, hrp: Self.hrp, count: 64) } catch { throw .bech32m(error) }
        guard let nk = try? Fr(bigEndian: bytes[0..<32]) else { throw .notCanonical }
        self.init(nullifierKey: nk, encryptionPrivateKey: Array(bytes[32..<64]))
    }
}

/// Where notes are sent: the owner key `pk` (named by commitments) and the X25519 public key
/// (outputs are encrypted to it). Written as bech32m `zks1…` of pk (32 bytes, big-endian) ‖
/// X25519 public key (32 bytes): 113 characters.
public struct Address: Sendable, Equatable, CustomStringConvertible {
    public static let hrp = "zks"
    public let owner: Fr
    public let encryptionKey: [UInt8]

    public init(owner: Fr, encryptionKey: [UInt8]) {
        precondition(encryptionKey.count == 32)
        self.owner = owner
        self.encryptionKey = encryptionKey
    }

    public var encoded: String { Bech32m.encode(hrp: Self.hrp, bytes: owner.bigEndianBytes + encryptionKey) }
    public var description: String { encoded }

    public enum Failure: Error, CustomStringConvertible, Sendable {
        case bech32m(Bech32m.Failure), notCanonical
        public var description: String {
            switch self {
            case .bech32m(let f): return "the address \(f)"
            case .notCanonical: return "the address's owner key is not a field element"
            }
        }
    }

    public init(encoded text: String) throws(Failure) {
        let bytes: [UInt8]
        do { bytes = try Bech32m.decode(text, hrp: Self.hrp, count: 64) } catch { throw .bech32m(error) }
        guard let pk = try? Fr(bigEndian: bytes[0..<32]) else { throw .notCanonical }
        self.init(owner: pk, encryptionKey: Array(bytes[32..<64]))
    }
}

/// A 24-word backup of a spending key. 24 words × 11 bits = 264 bits: sk (32 bytes,
/// big-endian) ‖ the first byte of SHA-256("zksettle/backup/v1" ‖ sk) as a checksum.
///
/// The 2048 words are made, not borrowed: consonant, vowel, consonant, vowel
/// (`bdfghjklmnprstvz` × `aeio` × `bdfghjklmnprstvz` × `au`), word `i` spelling the 11 bits
/// of `i` as 4 + 2 + 4 + 1 bits. Every word has four letters, so a phrase is easy to copy.
/// The wallet's backup phrase: 24 BIP-39 words (English list) for 256 bits of fresh entropy;
/// the spending key is derived from the BIP-39 seed of the words:
///
///     sk = (HKDF-SHA256(ikm: seed, salt: "zksettle/spending-key/v1", 64 bytes) as a big-endian
///           integer) mod r
///
/// Phrases made before (24 words of ZKSettle's own list encoding the key itself, with a
/// one-byte checksum) still restore: a phrase is read in the list most of its words belong to.
public enum BackupPhrase {
    // The list of the phrases made before BIP-39 (read, never written).
    static let consonants = Array("bdfghjklmnprstvz")
    static let vowels1 = Array("aeio")
    static let vowels2 = Array("au")

    public static let legacyWords: [String] = (0..<2048).map { (i: Int) -> String in
        let letters: [Character] = [consonants[i >> 7], vowels1[(i >> 5) & 3], consonants[(i >> 1) & 15], vowels2[i & 1]]
        return String(letters)
    }
    static let legacyIndex: [String: Int] = Dictionary(uniqueKeysWithValues: legacyWords.enumerated().map { ($1, $0) })

    static func checksum(_ sk: [UInt8]) -> UInt8 { SHA256.hash(Array("zksettle/backup/v1".utf8) + sk)[0] }

    /// A new phrase from fresh randomness, and the spending key it restores.
    public static func generate() -> (words: [String], key: SpendingKey) {
        while true {
            let words = BIP39.mnemonic(entropy: SecureRandom.bytes(32))
            if let key = key(bip39: words) { return (words, key) }
        }
    }

    /// The key of a BIP-39 phrase (nil in the 2^-250 case of a zero key).
    static func key(bip39 words: [String]) -> SpendingKey? {
        let wide = HKDFSHA256.derive(key: BIP39.seed(mnemonic: words), salt: Array("zksettle/spending-key/v1".utf8), info: [], count: 64)
        let sk = Fr(reducingBigEndian: wide)
        return sk == .zero ? nil : SpendingKey(sk)
    }

    /// The phrase format of wallets made before BIP-39: the key's 32 bytes and a checksum byte.
    public static func legacyPhrase(for key: SpendingKey) -> String {
        let bytes = key.sk.bigEndianBytes
        return BIP39.elevenBitGroups(of: bytes + [checksum(bytes)]).map { legacyWords[$0] }.joined(separator: " ")
    }

    public enum Failure: Error, Equatable, CustomStringConvertible, Sendable {
        case wordCount(Int), unknownWord(position: Int, word: String), badChecksum, notAKey
        public var description: String {
            switch self {
            case .wordCount(let n): return "a backup phrase has 24 words, this one has \(n)"
            case .unknownWord(let p, let w): return "word \(p) (\"\(w)\") is not a backup-phrase word"
            case .badChecksum: return "the phrase's checksum does not match: a word is mistyped or out of order"
            case .notAKey: return "the phrase does not encode a spending key"
            }
        }
    }

    /// The words of a typed or pasted phrase: any case, separated by spaces, line breaks, tabs
    /// or commas, with the numbers `init` prints before them ("1." or "1)") dropped.
    public static func words(of phrase: String) -> [String] {
        phrase.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "," || $0 == "\r" })
            .map(String.init).filter { w in !w.allSatisfy { $0.isNumber || $0 == "." || $0 == ")" } }
    }

    /// Whether a phrase is in the format made before BIP-39 (most of its words in that list).
    public static func isLegacy(_ phrase: String) -> Bool {
        let ws = words(of: phrase)
        return ws.filter { legacyIndex[$0] != nil }.count > ws.filter(BIP39.isWord).count
    }

    public static func spendingKey(from phrase: String) throws(Failure) -> SpendingKey {
        let ws = words(of: phrase)
        guard ws.count == 24 else { throw .wordCount(ws.count) }
        if !isLegacy(phrase) {
            do { _ = try BIP39.entropy(of: ws) } catch {
                switch error {
                case .wordCount(let n): throw .wordCount(n)
                case .unknownWord(let p, let w): throw .unknownWord(position: p, word: w)
                case .badChecksum: throw .badChecksum
                }
            }
            guard let key = key(bip39: ws) else { throw .notAKey }
            return key
        }
        var groups: [Int] = []
        for (i, w) in ws.enumerated() {
            guard let v = legacyIndex[w] else { throw .unknownWord(position: i + 1, word: w) }
            groups.append(v)
        }
        let bytes = BIP39.bytes(ofElevenBitGroups: groups)
        guard bytes.count == 33, checksum(Array(bytes[0..<32])) == bytes[32] else { throw .badChecksum }
        guard let sk = try? Fr(bigEndian: bytes[0..<32]) else { throw .notAKey }
        return SpendingKey(sk)
    }
}
