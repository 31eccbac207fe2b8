import COpenSSL

/// X25519, HKDF-SHA256, ChaCha20-Poly1305 and scrypt through OpenSSL's EVP interface: the
/// primitives of note encryption (DESIGN.md section 4) and of the wallet's key file.
/// Every function returns nil (never traps) on input OpenSSL refuses, so a hostile
/// ciphertext or key can only fail to decrypt.
public enum X25519 {
    /// The public key of a 32-byte private key (OpenSSL clamps the scalar).
    public static func publicKey(privateKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == 32,
              let pkey = EVP_PKEY_new_raw_private_key(NID_X25519, nil, privateKey, 32) else { return nil }
        defer { EVP_PKEY_free(pkey) }
        var pub = [UInt8](repeating: 0, count: 32)
        var len = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &pub, &len) == 1, len == 32 else { return nil }
        return pub
    }

    /// A private key loaded once for many key agreements (trial decryption reuses it).
    public final class PrivateKey: @unchecked Sendable {
        let pkey: OpaquePointer
        public let publicKey: [UInt8]

        public init?(_ raw: [UInt8]) {
            guard raw.count == 32, let pkey = EVP_PKEY_new_raw_private_key(NID_X25519, nil, raw, 32) else { return nil }
            var pub = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard EVP_PKEY_get_raw_public_key(pkey, &pub, &len) == 1, len == 32 else { EVP_PKEY_free(pkey); return nil }
            self.pkey = pkey
            self.publicKey = pub
        }

        deinit { EVP_PKEY_free(pkey) }

        /// The shared secret with `peer`; nil for a malformed or low-order peer key (OpenSSL
        /// refuses an all-zero result).
        public func sharedSecret<C: Collection>(with peer: C) -> [UInt8]? where C.Element == UInt8 {
            let peerBytes = Array(peer)
            guard peerBytes.count == 32,
                  let peerKey = EVP_PKEY_new_raw_public_key(NID_X25519, nil, peerBytes, 32) else { return nil }
            defer { EVP_PKEY_free(peerKey) }
            guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { return nil }
            defer { EVP_PKEY_CTX_free(ctx) }
            guard EVP_PKEY_derive_init(ctx) == 1, EVP_PKEY_derive_set_peer(ctx, peerKey) == 1 else { return nil }
            var out = [UInt8](repeating: 0, count: 32)
            var len = 32
            guard EVP_PKEY_derive(ctx, &out, &len) == 1, len == 32 else { return nil }
            return out
        }
    }
}

extension X25519 {
    /// Key agreement with one private key and many peers, reusing one OpenSSL context and one
    /// peer key object (each `EVP_PKEY` creation costs a provider fetch). Not thread-safe:
    /// one per thread. Trial decryption runs this once per note.
    public final class Agreement {
        let ctx: OpaquePointer
        let peer: OpaquePointer
        private var length = 32

        public init?(_ key: PrivateKey) {
            guard let ctx = EVP_PKEY_CTX_new(key.pkey, nil) else { return nil }
            guard EVP_PKEY_derive_init(ctx) == 1,
                  let peer = EVP_PKEY_new_raw_public_key(NID_X25519, nil, key.publicKey, 32) else { EVP_PKEY_CTX_free(ctx); return nil }
            self.ctx = ctx
            self.peer = peer
        }

        deinit { EVP_PKEY_CTX_free(ctx); EVP_PKEY_free(peer) }

        /// Writes the 32-byte shared secret with the public key at `peerKey`; false for a
        /// low-order or otherwise refused key.
        public func sharedSecret(peerKey: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Bool {
            length = 32
            return EVP_PKEY_set1_encoded_public_key(peer, peerKey, 32) == 1
                && EVP_PKEY_derive_set_peer(ctx, peer) == 1
                && EVP_PKEY_derive(ctx, out, &length) == 1 && length == 32
        }
    }
}

public enum HKDFSHA256 {
    /// HKDF-SHA256 (RFC 5869) extract-and-expand to `count` bytes.
    public static func derive(key: [UInt8], salt: [UInt8], info: [UInt8], count: Int) -> [UInt8] {
        let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil)!
        defer { EVP_PKEY_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: count)
        var len = count
        // Empty inputs are passed as a one-byte buffer with length 0 (OpenSSL wants a pointer).
        let saltBuf = salt.isEmpty ? [0] : salt, keyBuf = key.isEmpty ? [0] : key, infoBuf = info.isEmpty ? [0] : info
        var ok = EVP_PKEY_derive_init(ctx) == 1
        ok = ok && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1
        ok = ok && EVP_PKEY_CTX_set1_hkdf_salt(ctx, saltBuf, Int32(salt.count)) == 1
        ok = ok && EVP_PKEY_CTX_set1_hkdf_key(ctx, keyBuf, Int32(key.count)) == 1
        ok = ok && EVP_PKEY_CTX_add1_hkdf_info(ctx, infoBuf, Int32(info.count)) == 1
        ok = ok && EVP_PKEY_derive(ctx, &out, &len) == 1
        precondition(ok && len == count, "OpenSSL HKDF-SHA256 failed")
        return out
    }
}

public enum ChaCha20Poly1305 {
    public static let tagBytes = 16

    /// `plaintext` sealed under a 32-byte key and 12-byte nonce: ciphertext ‖ 16-byte tag.
    public static func seal(key: [UInt8], nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        precondition(key.count == 32 && nonce.count == 12)
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var len: Int32 = 0
        var ok = EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nil, key, nonce) == 1
        if !aad.isEmpty { ok = ok && EVP_EncryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) == 1 }
        ok = ok && out.withUnsafeMutableBufferPointer { o in
            EVP_EncryptUpdate(ctx, o.baseAddress, &len, plaintext, Int32(plaintext.count)) == 1
                && EVP_EncryptFinal_ex(ctx, o.baseAddress! + Int(len), &len) == 1
                && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(tagBytes), o.baseAddress! + plaintext.count) == 1
        }
        precondition(ok, "OpenSSL ChaCha20-Poly1305 seal failed")
        return out
    }

    /// The plaintext, or nil when the tag does not match (tampered, wrong key, truncated).
    public static func open<C: Collection>(key: [UInt8], nonce: [UInt8], aad: [UInt8], sealed: C) -> [UInt8]? where C.Element == UInt8 {
        let sealed = Array(sealed)
        guard key.count == 32, nonce.count == 12, sealed.count >= tagBytes else { return nil }
        let n = sealed.count - tagBytes
        guard let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: max(n, 1))
        var len: Int32 = 0
        var tag = Array(sealed[n...])
        guard EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), nil, key, nonce) == 1 else { return nil }
        if !aad.isEmpty { guard EVP_DecryptUpdate(ctx, nil, &len, aad, Int32(aad.count)) == 1 else { return nil } }
        let ok = out.withUnsafeMutableBufferPointer { o in
            sealed.withUnsafeBufferPointer { s in
                EVP_DecryptUpdate(ctx, o.baseAddress, &len, s.baseAddress, Int32(n)) == 1
                    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(tagBytes), &tag) == 1
                    && EVP_DecryptFinal_ex(ctx, o.baseAddress! + Int(len), &len) == 1
            }
        }
        return ok ? Array(out[0..<n]) : nil
    }
}

public enum Scrypt {
    /// The cost of new key files: N = 2^17, r = 8, p = 1 (128 MiB, about 0.4 s here), the
    /// interactive-login figure of RFC 7914 section 2 raised twice as hardware moved on.
    public static let defaultLogN = 17
    /// The costs a key file may ask for. Below 2^15 is too cheap to guess against; above 2^20
    /// (1 GiB, several seconds) a hostile file would only make the wallet stall or die.
    public static let acceptedLogN = 15...20

    /// scrypt (RFC 7914) of a passphrase with N = 2^logN, r = 8, p = 1; nil for a cost outside
    /// `acceptedLogN` or when OpenSSL refuses (e.g. out of memory).
    public static func derive(passphrase: [UInt8], salt: [UInt8], logN: Int = defaultLogN, count: Int = 32) -> [UInt8]? {
        guard acceptedLogN.contains(logN) else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        let pass = passphrase.map { CChar(bitPattern: $0) } + [0]
        let n = UInt64(1) << UInt64(logN)
        // scrypt needs 128·r·N bytes for V plus a little; OpenSSL refuses more than maxmem.
        let maxMemory = 128 * 8 * (n + 2) + (16 << 20)
        let ok = EVP_PBE_scrypt(pass, passphrase.count, salt, salt.count, n, 8, 1, maxMemory, &out, count)
        return ok == 1 ? out : nil
    }
}

/// PBKDF2-HMAC-SHA512 (RFC 8018), OpenSSL's: BIP-39's mnemonic-to-seed function.
public enum PBKDF2SHA512 {
    public static func derive(password: [UInt8], salt: [UInt8], iterations: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let pw = password.isEmpty ? [0] : password, sl = salt.isEmpty ? [0] : salt
        let ok = pw.withUnsafeBufferPointer { p in
            sl.withUnsafeBufferPointer { s in
                PKCS5_PBKDF2_HMAC(UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(password.count),
                                  s.baseAddress, Int32(salt.count), Int32(iterations), EVP_sha512(), Int32(count), &out)
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return out
    }
}
