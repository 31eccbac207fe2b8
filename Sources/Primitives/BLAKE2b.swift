import COpenSSL

/// BLAKE2b-512 (RFC 7693), unkeyed, incremental.
///
/// The compression is our own rather than OpenSSL's because snarkjs's `.ptau` files store a
/// hash *in the middle* of its computation (the 216-byte "partial hash" of each contribution:
/// the 128-byte pending block, the eight state words, the count of compressed bytes and the
/// pending length), and resume it later. OpenSSL cannot export or import that state. The
/// digest is checked against OpenSSL's `EVP_blake2b512` in the tests (`opensslDigest`).
public struct BLAKE2b: Sendable {
    static let iv: [UInt64] = [
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]
    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    /// The chaining state h₀…h₇.
    public private(set) var h: [UInt64]
    /// The pending block (only `pending` bytes of it count; the rest is left as it was).
    public private(set) var buffer: [UInt8]
    /// Bytes in `buffer` not yet compressed (0…128; a full block waits for more input, since
    /// the last block is compressed differently).
    public private(set) var pending: Int
    /// Bytes compressed so far.
    public private(set) var compressed: UInt64

    public static let digestSize = 64
    /// The size of snarkjs's serialized partial hash.
    public static let partialStateSize = 216

    public init() {
        h = Self.iv
        h[0] ^= 0x0101_0000 ^ UInt64(Self.digestSize)
        buffer = [UInt8](repeating: 0, count: 128)
        pending = 0
        compressed = 0
    }

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var b = BLAKE2b(); b.update(data); return b.finalize()
    }

    public mutating func update<C: Collection>(_ data: C) where C.Element == UInt8 {
        if let done: Void = data.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        Array(data).withUnsafeBytes { update($0) }
    }

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        var at = 0
        let n = data.count
        while at < n {
            if pending == 128 {
                compressed &+= 128
                buffer.withUnsafeBytes { compress($0, last: false) }
                pending = 0
            }
            // Whole blocks straight from the input, keeping at least one byte for later.
            if pending == 0 {
                while n - at > 128 {
                    compressed &+= 128
                    compress(UnsafeRawBufferPointer(rebasing: data[at..<(at + 128)]), last: false)
                    at += 128
                }
            }
            let take = min(128 - pending, n - at)
            buffer.withUnsafeMutableBytes { b in
                for k in 0..<take { b[pending + k] = data[at + k] }
            }
            pending += take
            at += take
        }
    }

    /// The 64-byte digest (the value is consumed).
    public consuming func finalize() -> [UInt8] {
        compressed &+= UInt64(pending)
        for k in pending..<128 { buffer[k] = 0 }
        buffer.withUnsafeBytes { compress($0, last: true) }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for w in h { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(k)))) } }
        return out
    }

    /// snarkjs's partial-hash layout (216 bytes): the 128-byte block buffer, then h₀…h₇ as
    /// little-endian u64, the count of compressed bytes (u64), the pending length (u64), and 8
    /// zero bytes.
    public var partialState: [UInt8] {
        var out = buffer
        func u64(_ x: UInt64) { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(k)))) } }
        for w in h { u64(w) }
        u64(compressed)
        u64(UInt64(pending))
        u64(0)
        return out
    }

    /// Resumes a hash from snarkjs's partial-hash layout; nil when it is malformed (wrong size,
    /// a pending length above 128, or a compressed count that is not whole blocks).
    public init?(partialState s: [UInt8]) {
        guard s.count == Self.partialStateSize else { return nil }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(s[at + $1]) << (8 * UInt64($1)) } }
        h = (0..<8).map { u64(128 + 8 * $0) }
        buffer = Array(s[0..<128])
        compressed = u64(192)
        let p = u64(200)
        guard p <= 128, compressed % 128 == 0 else { return nil }
        pending = Int(p)
    }

    @inline(__always) static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 - n)) }

    static let sigmaFlat: [Int] = sigma.flatMap { $0 }

    private mutating func compress(_ block: UnsafeRawBufferPointer, last: Bool) {
        let t = compressed
        h.withUnsafeMutableBufferPointer { h in
            Self.sigmaFlat.withUnsafeBufferPointer { sigma in
                withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 32) { buf in
                    let m = buf.baseAddress!, v = m + 16
                    for i in 0..<16 { m[i] = UInt64(littleEndian: block.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
                    for i in 0..<8 { v[i] = h[i]; v[i + 8] = Self.iv[i] }
                    v[12] ^= t
                    if last { v[14] = ~v[14] }
                    @inline(__always) func g(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
                        v[a] = v[a] &+ v[b] &+ x; v[d] = Self.rotr(v[d] ^ v[a], 32)
                        v[c] = v[c] &+ v[d]; v[b] = Self.rotr(v[b] ^ v[c], 24)
                        v[a] = v[a] &+ v[b] &+ y; v[d] = Self.rotr(v[d] ^ v[a], 16)
                        v[c] = v[c] &+ v[d]; v[b] = Self.rotr(v[b] ^ v[c], 63)
                    }
                    for round in 0..<12 {
                        let s = sigma.baseAddress! + 16 * (round % 10)
                        g(0, 4, 8, 12, m[s[0]], m[s[1]])
                        g(1, 5, 9, 13, m[s[2]], m[s[3]])
                        g(2, 6, 10, 14, m[s[4]], m[s[5]])
                        g(3, 7, 11, 15, m[s[6]], m[s[7]])
                        g(0, 5, 10, 15, m[s[8]], m[s[9]])
                        g(1, 6, 11, 12, m[s[10]], m[s[11]])
                        g(2, 7, 8, 13, m[s[12]], m[s[13]])
                        g(3, 4, 9, 14, m[s[14]], m[s[15]])
                    }
                    for i in 0..<8 { h[i] ^= v[i] ^ v[i + 8] }
                }
            }
        }
    }

    /// BLAKE2b-512 of a long stream through OpenSSL's `EVP_blake2b512` (about twice our
    /// compression's speed): for hashes that are never resumed, such as a ceremony's
    /// challenge over every power (snarkjs hashes 96 GiB for the first challenge at power 28).
    public final class Streaming {
        private let ctx: OpaquePointer

        public init() {
            guard let c = EVP_MD_CTX_new() else { fatalError("OpenSSL EVP_MD_CTX_new failed") }
            ctx = c
            precondition(EVP_DigestInit_ex(ctx, EVP_blake2b512(), nil) == 1, "OpenSSL BLAKE2b-512 init failed")
        }

        deinit { EVP_MD_CTX_free(ctx) }

        public func update<C: Collection>(_ data: C) where C.Element == UInt8 {
            if let done: Void = data.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
            Array(data).withUnsafeBytes { update($0) }
        }

        public func update(_ data: UnsafeRawBufferPointer) {
            guard data.count > 0 else { return }
            precondition(EVP_DigestUpdate(ctx, data.baseAddress, data.count) == 1, "OpenSSL BLAKE2b-512 update failed")
        }

        /// The digest; the stream cannot be used afterwards.
        public func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 64)
            var len: UInt32 = 0
            let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
            precondition(ok == 1 && len == 64, "OpenSSL BLAKE2b-512 final failed")
            return out
        }
    }

    /// BLAKE2b-512 through OpenSSL's `EVP_blake2b512`: the reference the tests hold ours to.
    public static func opensslDigest(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var len: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &len, EVP_blake2b512(), nil)
            }
        }
        precondition(ok == 1 && len == 64, "OpenSSL BLAKE2b-512 failed")
        return out
    }
}
