import Primitives

/// BIP-39 mnemonics (English list): 256 bits of entropy and an 8-bit SHA-256 checksum as 24
/// words of 11 bits each, and the mnemonic-to-seed function (PBKDF2-HMAC-SHA512, 2048 rounds,
/// salt "mnemonic" + passphrase). The standard, so a phrase reads and writes like every
/// wallet's; `BackupPhrase` turns its seed into a ZKSettle spending key.
public enum BIP39 {
    public static let words: [String] = englishText.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, $0) })

    public static func isWord(_ w: String) -> Bool { index[w] != nil }

    /// The 24 words of 32 bytes of entropy.
    public static func mnemonic(entropy: [UInt8]) -> [String] {
        precondition(entropy.count == 32, "BIP-39 here takes 256 bits of entropy")
        return elevenBitGroups(of: entropy + [SHA256.hash(entropy)[0]]).map { words[$0] }
    }

    /// Bytes as 11-bit numbers, most significant first (the bits that do not fill a last
    /// group are dropped): 33 bytes give 24 word indices. Both phrase formats use it.
    static func elevenBitGroups(of bytes: [UInt8]) -> [Int] {
        var acc: UInt32 = 0, bits = 0
        var out: [Int] = []
        for b in bytes {
            acc = acc << 8 | UInt32(b); bits += 8
            while bits >= 11 { bits -= 11; out.append(Int((acc >> UInt32(bits)) & 0x7ff)) }
        }
        return out
    }

    /// `elevenBitGroups` undone: 11-bit numbers back to whole bytes (24 give 33).
    static func bytes(ofElevenBitGroups groups: [Int]) -> [UInt8] {
        var acc: UInt32 = 0, bits = 0
        var out: [UInt8] = []
        for v in groups {
            acc = acc << 11 | UInt32(v); bits += 11
            while bits >= 8 { bits -= 8; out.append(UInt8((acc >> UInt32(bits)) & 0xff)) }
        }
        return out
    }

    public enum Failure: Error, Equatable, Sendable {
        case wordCount(Int), unknownWord(position: Int, word: String), badChecksum
    }

    /// The entropy of 24 words (lower case), its checksum checked.
    public static func entropy(of ws: [String]) throws(Failure) -> [UInt8] {
        guard ws.count == 24 else { throw .wordCount(ws.count) }
        var groups: [Int] = []
        for (i, w) in ws.enumerated() {
            guard let v = index[w] else { throw .unknownWord(position: i + 1, word: w) }
            groups.append(v)
        }
        let bytes = bytes(ofElevenBitGroups: groups)
        guard SHA256.hash(Array(bytes[0..<32]))[0] == bytes[32] else { throw .badChecksum }
        return Array(bytes[0..<32])
    }

    /// The 64-byte seed of a mnemonic (words joined by single spaces; the English list is
    /// ASCII, so NFKD changes nothing) and an optional passphrase (ASCII here).
    public static func seed(mnemonic ws: [String], passphrase: String = "") -> [UInt8] {
        PBKDF2SHA512.derive(password: Array(ws.joined(separator: " ").utf8), salt: Array(("mnemonic" + passphrase).utf8),
                            iterations: 2048, count: 64)
    }
}
