import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        let bytes = Array(data)
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &len, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && len == 32, "OpenSSL SHA-256 failed")
        return out
    }

    public static func hex<C: Collection>(_ data: C) -> String where C.Element == UInt8 {
        Hex.encode(hash(data))
    }
}
