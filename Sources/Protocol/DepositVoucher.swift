import Foundation
import Primitives

/// A single-use permission to deposit one amount before a deadline, signed by the operator's
/// deposit key (Ed25519). It replaces the shared deposit token of earlier versions, which
/// minted any amount any number of times for whoever had seen it once.
///
/// Text form: `zkv1` followed by base64url (RFC 4648 section 5, no padding) of 113 bytes:
///
///     u8 version (1) ‖ u64 amount ‖ u64 expiresAt (Unix seconds) ‖ nonce (16) ‖ signature (64) ‖ tag (16)
///
/// integers big-endian. The signature is Ed25519 over
///
///     "zksettle/voucher/v1" ‖ deposit public key (32) ‖ u64 amount ‖ u64 expiresAt ‖ nonce (16)
///
/// so a voucher names the key that made it and cannot be replayed against another server's key;
/// anyone with the public key (an auditor: `zksettle-admin db verify`) can check it. The tag is
/// HKDF-SHA256 (used as a PRF) under a MAC key derived from the same private key, over every
/// byte before it, signature included:
///
///     macKey = HKDF(ikm: deposit private key, salt: "zksettle/voucher-mac/v1", info: public key)
///     tag    = HKDF(ikm: macKey, salt: "", info: "zksettle/voucher-tag/v1" ‖ bytes[0..<97])[0..<16]
///
/// The server accepts a voucher on its tag (a few microseconds) instead of its signature (an
/// Ed25519 verification, 106 µs here, 7 % of the settlement rate of a load made of deposits).
/// That is as strict: only the private key's holder can make a tag, and the tag covers the
/// signature, so an accepted voucher is byte for byte one the key's holder issued, signature
/// and all, which the audit then checks.
/// The nonce, 16 bytes from the CSPRNG, is the voucher's identity: the ledger records it as used
/// in the same transaction as the deposit it paid for, and never accepts it again.
///
/// What it does not do: bind the deposit's notes. A voucher seen in transit can be spent by
/// whoever sees it first (like a banknote), so it travels over TLS and is given to one person.
public struct DepositVoucher: Sendable, Hashable {
    public static let prefix = "zkv1"
    public static let version: UInt8 = 1
    public static let byteCount = 1 + 8 + 8 + 16 + 64 + 16
    /// The bytes the signature and the tag stand on, and the bytes the tag covers.
    static let signedCount = 1 + 8 + 8 + 16 + 64
    /// Characters of the text form: the prefix and 151 base64url characters.
    public static let textLength = prefix.utf8.count + (byteCount * 4 + 2) / 3

    public let amount: UInt64
    /// Unix time, seconds: the voucher is refused from this instant on.
    public let expiresAt: Int64
    public let nonce: [UInt8]
    public let signature: [UInt8]
    /// The MAC tag over everything before it (16 bytes).
    public let tag: [UInt8]

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        case badSignature
        case expired(at: Int64)
        case wrongAmount(voucher: UInt64, deposit: UInt64)

        public var description: String {
            switch self {
            case .malformed(let why): return "not a deposit voucher: \(why) (a voucher is one line starting with zkv1, from zksettle-admin deposits voucher)"
            case .badSignature: return "the voucher is not signed by this server's deposit key (it was made for another server, or altered)"
            case .expired(let at): return "the voucher expired at \(DepositVoucher.format(at)); ask the operator for a new one"
            case .wrongAmount(let v, let d): return "the voucher is for \(v), not \(d): deposit exactly the voucher's amount"
            }
        }
    }

    /// A fresh voucher signed with `key`. `amount` must be positive and below 2^63 (the ledger's
    /// signed 64-bit external amount).
    public static func issue(amount: UInt64, expiresAt: Int64, key: Ed25519Key) -> DepositVoucher {
        precondition(amount > 0 && amount <= UInt64(Int64.max), "voucher amount out of range")
        let nonce = SecureRandom.bytes(16)
        let message = signedMessage(publicKey: key.publicKey, amount: amount, expiresAt: expiresAt, nonce: nonce)
        let signature = key.sign(message)
        let tag = Self.tag(macKey: macKey(for: key), signedBytes: Self.signedBytes(amount: amount, expiresAt: expiresAt, nonce: nonce, signature: signature))
        return DepositVoucher(amount: amount, expiresAt: expiresAt, nonce: nonce, signature: signature, tag: tag)
    }

    init(amount: UInt64, expiresAt: Int64, nonce: [UInt8], signature: [UInt8], tag: [UInt8]) {
        self.amount = amount; self.expiresAt = expiresAt; self.nonce = nonce; self.signature = signature; self.tag = tag
    }

    /// The key of the vouchers' tags, derived from the deposit key (secret like it: the server
    /// and `zksettle-admin deposits voucher --data` derive it, nobody else can).
    public static func macKey(for key: Ed25519Key) -> [UInt8] {
        HKDFSHA256.derive(key: key.privateKey, salt: Array("zksettle/voucher-mac/v1".utf8), info: key.publicKey, count: 32)
    }

    static func tag(macKey: [UInt8], signedBytes: [UInt8]) -> [UInt8] {
        Array(HKDFSHA256.derive(key: macKey, salt: [], info: Array("zksettle/voucher-tag/v1".utf8) + signedBytes, count: 32).prefix(16))
    }

    static func signedBytes(amount: UInt64, expiresAt: Int64, nonce: [UInt8], signature: [UInt8]) -> [UInt8] {
        [version] + bigEndian(amount) + bigEndian(UInt64(expiresAt)) + nonce + signature
    }

    /// Whether the tag is the one `macKey` gives (compared without an early exit): the server's
    /// acceptance check.
    public func hasValidTag(macKey: [UInt8]) -> Bool {
        let expected = Self.tag(macKey: macKey, signedBytes: Self.signedBytes(amount: amount, expiresAt: expiresAt, nonce: nonce, signature: signature))
        guard expected.count == tag.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(expected, tag) { diff |= a ^ b }
        return diff == 0
    }

    /// Parses the text form strictly: the prefix, exactly 151 base64url characters, version 1,
    /// an amount in 1…2^63−1, a non-negative expiry. The signature is not checked here (`verify`).
    public init(text raw: String) throws(Failure) {
        // Pasted text: surrounding spaces, tabs and line breaks (ASCII only) are dropped.
        let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n"))
        guard text.hasPrefix(Self.prefix) else { throw .malformed("it does not start with \(Self.prefix)") }
        guard text.utf8.count == Self.textLength else {
            throw .malformed("\(text.utf8.count) characters where a voucher has \(Self.textLength)")
        }
        guard let bytes = Base64URL.decode(String(text.dropFirst(Self.prefix.count))), bytes.count == Self.byteCount else {
            throw .malformed("its characters are not base64url")
        }
        try self.init(bytes: bytes)
    }

    /// From the 113 bytes of `bytes` (as the ledger stores a used voucher), checked as `init(text:)`.
    public init(bytes: [UInt8]) throws(Failure) {
        guard bytes.count == Self.byteCount else { throw .malformed("\(bytes.count) bytes where a voucher has \(Self.byteCount)") }
        guard bytes[0] == Self.version else { throw .malformed("version \(bytes[0]), this software reads version \(Self.version)") }
        let amount = Self.readUInt64(bytes, at: 1)
        let expires = Self.readUInt64(bytes, at: 9)
        guard amount > 0, amount <= UInt64(Int64.max) else { throw .malformed("amount \(amount) is out of range") }
        guard expires <= UInt64(Int64.max) else { throw .malformed("expiry out of range") }
        self.init(amount: amount, expiresAt: Int64(expires), nonce: Array(bytes[17..<33]), signature: Array(bytes[33..<97]),
                  tag: Array(bytes[97..<113]))
    }

    public var bytes: [UInt8] {
        Self.signedBytes(amount: amount, expiresAt: expiresAt, nonce: nonce, signature: signature) + tag
    }

    /// The text form, `zkv1…`.
    public var text: String { Self.prefix + Base64URL.encode(bytes) }

    /// Hex of the nonce: how logs and the ledger name a voucher without its signature.
    public var id: String { Hex.encode(nonce) }

    /// Whether `publicKey` signed this voucher.
    public func isSigned(by publicKey: [UInt8]) -> Bool {
        let message = Self.signedMessage(publicKey: publicKey, amount: amount, expiresAt: expiresAt, nonce: nonce)
        return Ed25519Key.verify(publicKey: publicKey, message: message, signature: signature)
    }

    /// Every stateless check a server makes: the signature under `publicKey`, the amount, and
    /// the expiry against `now` (Unix seconds). Whether it was used is the ledger's to say.
    public func check(publicKey: [UInt8], depositAmount: UInt64, now: Int64) throws(Failure) {
        guard isSigned(by: publicKey) else { throw .badSignature }
        guard amount == depositAmount else { throw .wrongAmount(voucher: amount, deposit: depositAmount) }
        guard now < expiresAt else { throw .expired(at: expiresAt) }
    }

    static func signedMessage(publicKey: [UInt8], amount: UInt64, expiresAt: Int64, nonce: [UInt8]) -> [UInt8] {
        Array("zksettle/voucher/v1".utf8) + publicKey + bigEndian(amount) + bigEndian(UInt64(expiresAt)) + nonce
    }

    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> UInt64(56 - 8 * $0)) } }

    static func readUInt64(_ b: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(b[offset + $1]) }
    }

    /// `2026-12-05 23:00:00 UTC`.
    public static func format(_ unixSeconds: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }
}

/// base64url without padding (RFC 4648 section 5), decoded strictly: only the 64 characters,
/// no padding, no length that cannot occur, and no non-zero unused bits in the last character,
/// so that one byte string has one text. Written over bytes: Foundation's string replacement
/// on Linux cost more per deposit than the voucher's Ed25519 verification.
public enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(v >> UInt32(shift) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)]); out.append(alphabet[Int(v >> 6 & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0, bits = 0
        for c in chars {
            let v = values[Int(c)]
            guard v != 0xFF else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        // Canonical only: the unused low bits of the last character are zero.
        guard acc == 0 else { return nil }
        return out
    }
}
