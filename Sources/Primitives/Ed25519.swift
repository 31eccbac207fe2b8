import Foundation
import COpenSSL

/// Ed25519 signatures through OpenSSL's EVP interface (the server signs settlement receipts).
public struct Ed25519Key: Sendable {
    /// The 32-byte private seed. Keep it secret (stored mode 0600 by the server).
    public let privateKey: [UInt8]
    public let publicKey: [UInt8]
    /// OpenSSL's key, made once: building it from the seed derives the public key (a scalar
    /// multiplication, 45 µs here), which `sign` used to repeat for every receipt and voucher.
    private let evp: EVPKey

    public enum Failure: Error, Equatable, Sendable { case badKey, openSSL(String) }

    /// A fresh key from OpenSSL's CSPRNG.
    public static func generate() -> Ed25519Key {
        var seed = [UInt8](repeating: 0, count: 32)
        precondition(RAND_bytes(&seed, 32) == 1, "OpenSSL RAND_bytes failed")
        return try! Ed25519Key(privateKey: seed)
    }

    public init(privateKey: [UInt8]) throws(Failure) {
        guard privateKey.count == 32 else { throw .badKey }
        guard let pkey = EVP_PKEY_new_raw_private_key(NID_ED25519, nil, privateKey, 32) else { throw .badKey }
        let evp = EVPKey(pkey)
        var pub = [UInt8](repeating: 0, count: 32)
        var len = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &pub, &len) == 1, len == 32 else { throw .openSSL("EVP_PKEY_get_raw_public_key") }
        self.privateKey = privateKey
        self.publicKey = pub
        self.evp = evp
    }

    /// The key whose 32-byte seed is the hex text (surrounding whitespace ignored), as the
    /// server keeps `receipt.key` and `deposit.key`; nil for anything else.
    public init?(hex text: String) {
        guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), let key = try? Ed25519Key(privateKey: bytes) else {
            return nil
        }
        self = key
    }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        let ctx = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(ctx) }
        precondition(EVP_DigestSignInit(ctx, nil, nil, nil, evp.pkey) == 1)
        var sig = [UInt8](repeating: 0, count: 64)
        var len = 64
        precondition(EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1 && len == 64)
        return sig
    }

    public static func verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64,
              let pkey = EVP_PKEY_new_raw_public_key(NID_ED25519, nil, publicKey, 32) else { return false }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, 64, message, message.count) == 1
    }
}

/// An OpenSSL key owned by one `Ed25519Key` and freed with it. Signing only reads it, each call
/// with its own digest context; OpenSSL 3 allows an unmodified EVP_PKEY to be used from several
/// threads at once (the server signs receipts and vouchers concurrently).
private final class EVPKey: @unchecked Sendable {
    let pkey: OpaquePointer
    init(_ pkey: OpaquePointer) { self.pkey = pkey }
    deinit { EVP_PKEY_free(pkey) }
}
