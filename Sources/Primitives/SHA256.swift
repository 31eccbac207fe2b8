import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        if let digest = data.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return digest }
        return Array(data).withUnsafeBytes { hash($0) }
    }

    /// The digest of raw bytes in place (large buffers such as key files are not copied).
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        let ok = out.withUnsafeMutableBytes { output in
            EVP_Digest(bytes.baseAddress, bytes.count, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &len, EVP_sha256(), nil)
        }
        precondition(ok == 1 && len == 32, "OpenSSL SHA-256 failed")
        return out
    }

    /// The digest of `input` written to `output` (32 bytes), with no allocation: the wallet's
    /// trial decryption computes one view tag per leaf. False if OpenSSL fails.
    public static func hash(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) -> Bool {
        COpenSSL.SHA256(input.baseAddress, input.count, output) != nil
    }

    public static func hex<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        Hex.encode(hash(data))
    }
}
