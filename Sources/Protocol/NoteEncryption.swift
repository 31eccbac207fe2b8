import BN254
import Primitives

/// What an output's recipient needs to spend it: the value, the blinding and a memo. The
/// owner key is the recipient's own, so it is not carried; the wallet checks the decrypted
/// opening against the commitment in the tree before it believes a note.
public struct NotePlaintext: Sendable, Equatable {
    public var value: UInt64
    public var blinding: Fr
    /// UTF-8, at most `NoteEncryption.maxMemoBytes`.
    public var memo: [UInt8]

    public init(value: UInt64, blinding: Fr, memo: [UInt8] = []) {
        self.value = value; self.blinding = blinding; self.memo = memo
    }

    public var memoText: String { String(decoding: memo, as: UTF8.self) }

    public func note(owner: Fr) -> Note { Note(value: value, owner: owner, blinding: blinding) }
}

/// Note encryption v1 (DESIGN.md section 4): ephemeral X25519, ECDH with the recipient's
/// X25519 key, HKDF-SHA256, ChaCha20-Poly1305 (all OpenSSL). Every ciphertext has the same
/// size whatever its memo, so the server learns nothing from lengths.
///
/// Ciphertext, 219 bytes:
///
///     offset  size  field
///          0     1  view tag      = SHA-256("zksettle/note/v1/tag" ‖ shared ‖ epk)[0]
///          1    32  epk           ephemeral X25519 public key
///         33   170  ChaCha20 ciphertext of the plaintext below
///        203    16  Poly1305 tag  (AAD = "zksettle/note/v1" ‖ view tag ‖ epk)
///
/// Plaintext, 170 bytes:
///
///          0     1  version       0x01
///          1     8  value         u64 big-endian
///          9    32  blinding      Fr, big-endian, canonical (< r)
///         41     1  memo length   0…128
///         42   128  memo          UTF-8, zero-padded
///
///     shared = X25519(esk, recipient x25519 public key)   (all-zero result refused)
///     key    = HKDF-SHA256(ikm = shared, salt = epk ‖ recipient x25519 public key,
///                          info = "zksettle/note/v1/key")[0..<32]
///     nonce  = 12 zero bytes (every key is fresh: one ephemeral key per ciphertext)
///
/// The view tag lets a wallet skip 255 of 256 foreign notes after one X25519 and one SHA-256
/// block, without HKDF or the AEAD. It reveals nothing to anyone without the shared secret.
public enum NoteEncryption {
    public static let maxMemoBytes = 128
    public static let plaintextBytes = 1 + 8 + 32 + 1 + maxMemoBytes
    public static let ciphertextBytes = 1 + 32 + plaintextBytes + ChaCha20Poly1305.tagBytes
    static let version: UInt8 = 1
    static let tagDomain = Array("zksettle/note/v1/tag".utf8)
    static let aadDomain = Array("zksettle/note/v1".utf8)
    static let keyInfo = Array("zksettle/note/v1/key".utf8)
    static let nonce = [UInt8](repeating: 0, count: 12)

    public enum Failure: Error, Equatable, CustomStringConvertible, Sendable {
        case memoTooLong(Int), badRecipientKey
        public var description: String {
            switch self {
            case .memoTooLong(let n): return "the memo is \(n) bytes; at most \(NoteEncryption.maxMemoBytes) (UTF-8)"
            case .badRecipientKey: return "the address's encryption key is not a usable X25519 key"
            }
        }
    }

    static func viewTag(shared: [UInt8], epk: ArraySlice<UInt8>) -> UInt8 {
        SHA256.hash(tagDomain + shared + epk)[0]
    }

    /// The fixed-size ciphertext of `plaintext` for `recipient`.
    public static func encrypt(_ plaintext: NotePlaintext, to recipient: Address) throws(Failure) -> [UInt8] {
        guard plaintext.memo.count <= maxMemoBytes else { throw .memoTooLong(plaintext.memo.count) }
        let esk = SecureRandom.bytes(32)
        guard let eph = X25519.PrivateKey(esk), let shared = eph.sharedSecret(with: recipient.encryptionKey) else {
            throw .badRecipientKey
        }
        let epk = eph.publicKey
        var pt: [UInt8] = [version]
        pt += (0..<8).map { UInt8(truncatingIfNeeded: plaintext.value >> UInt64(56 - 8 * $0)) }
        pt += plaintext.blinding.bigEndianBytes
        pt.append(UInt8(plaintext.memo.count))
        pt += plaintext.memo + [UInt8](repeating: 0, count: maxMemoBytes - plaintext.memo.count)
        let tag = viewTag(shared: shared, epk: epk[...])
        let key = HKDFSHA256.derive(key: shared, salt: epk + recipient.encryptionKey, info: keyInfo, count: 32)
        let sealed = ChaCha20Poly1305.seal(key: key, nonce: nonce, aad: aadDomain + [tag] + epk, plaintext: pt)
        return [tag] + epk + sealed
    }

    /// Trial decryption with one viewing key's X25519 private key, loaded once. The hot path
    /// (X25519 and the view tag) allocates nothing. Not thread-safe: one per thread.
    public final class Decryptor: @unchecked Sendable {
        let key: X25519.PrivateKey
        let agreement: X25519.Agreement
        /// tagDomain ‖ shared ‖ epk: the view tag's SHA-256 input, filled in place.
        private var tagInput: [UInt8]
        private var digest = [UInt8](repeating: 0, count: 32)
        static let sharedOffset = NoteEncryption.tagDomain.count

        public init?(privateKey: [UInt8]) {
            guard let k = X25519.PrivateKey(privateKey), let a = X25519.Agreement(k) else { return nil }
            key = k
            agreement = a
            tagInput = NoteEncryption.tagDomain + [UInt8](repeating: 0, count: 64)
        }

        /// The shared secret when the view tag matches (then `tagInput[o..<o+32]` holds it).
        private func tagMatches(_ ciphertext: [UInt8]) -> Bool {
            guard ciphertext.count == NoteEncryption.ciphertextBytes else { return false }
            let o = Self.sharedOffset
            return ciphertext.withUnsafeBufferPointer { ct in
                tagInput.withUnsafeMutableBufferPointer { t in
                    guard agreement.sharedSecret(peerKey: ct.baseAddress! + 1, into: t.baseAddress! + o) else { return false }
                    (t.baseAddress! + o + 32).update(from: ct.baseAddress! + 1, count: 32)
                    return digest.withUnsafeMutableBufferPointer { d in
                        SHA256.hash(UnsafeBufferPointer(t), into: d.baseAddress!) && d[0] == ct[0]
                    }
                }
            }
        }

        /// The plaintext when `ciphertext` is for this key; nil otherwise — for a foreign note,
        /// a wrong size, a tampered byte, a bad ephemeral key or a malformed plaintext alike.
        public func decrypt(_ ciphertext: [UInt8]) -> NotePlaintext? {
            guard tagMatches(ciphertext) else { return nil }
            let o = Self.sharedOffset
            let shared = Array(tagInput[o..<(o + 32)])
            let epk = ciphertext[1..<33]
            let tag = ciphertext[0]
            let hkdfKey = HKDFSHA256.derive(key: shared, salt: Array(epk) + key.publicKey, info: NoteEncryption.keyInfo, count: 32)
            guard let pt = ChaCha20Poly1305.open(key: hkdfKey, nonce: NoteEncryption.nonce, aad: NoteEncryption.aadDomain + [tag] + epk,
                                                 sealed: ciphertext[33...]),
                  pt.count == NoteEncryption.plaintextBytes, pt[0] == NoteEncryption.version else { return nil }
            let value = pt[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard let blinding = try? Fr(bigEndian: pt[9..<41]) else { return nil }
            let memoLength = Int(pt[41])
            guard memoLength <= NoteEncryption.maxMemoBytes, pt[(42 + memoLength)...].allSatisfy({ $0 == 0 }) else { return nil }
            return NotePlaintext(value: value, blinding: blinding, memo: Array(pt[42..<(42 + memoLength)]))
        }

        /// The view-tag test alone (one X25519 and one SHA-256): false for 255 of 256 foreign notes.
        public func viewTagMatches(_ ciphertext: [UInt8]) -> Bool { tagMatches(ciphertext) }
    }
}
