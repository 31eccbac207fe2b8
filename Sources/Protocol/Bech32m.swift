/// Bech32m (BIP-350): a human-readable part, the separator `1`, data in a 32-character
/// alphabet, and a 6-character BCH checksum with the bech32m constant 0x2bc830a3. Addresses
/// and viewing keys are written this way, so a mistyped character is caught, never sent to.
public enum Bech32m {
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    static let constant: UInt32 = 0x2bc8_30a3
    static let reverse: [Int8] = {
        var r = [Int8](repeating: -1, count: 128)
        for (i, c) in charset.enumerated() { r[Int(c)] = Int8(i) }
        return r
    }()

    public enum Failure: Error, Equatable, CustomStringConvertible, Sendable {
        case tooLong(Int), mixedCase, noSeparator, emptyHumanPart, badCharacter(Int), checksumTooShort,
             badChecksum, badPadding, wrongHumanPart(expected: String, got: String), wrongLength(expected: Int, got: Int)

        public var description: String {
            switch self {
            case .tooLong(let n): return "\(n) characters is too long"
            case .mixedCase: return "mixes upper and lower case"
            case .noSeparator: return "has no '1' separator"
            case .emptyHumanPart: return "has nothing before its '1' separator"
            case .badCharacter(let i): return "has an invalid character at position \(i + 1)"
            case .checksumTooShort: return "is too short to carry a checksum"
            case .badChecksum: return "has a wrong checksum (a character is mistyped or missing)"
            case .badPadding: return "has invalid padding bits"
            case .wrongHumanPart(let e, let g): return "starts with \(g)1… where \(e)1… was expected"
            case .wrongLength(let e, let g): return "carries \(g) bytes where \(e) were expected"
            }
        }
    }

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let gen: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(v)
            for i in 0..<5 where (top >> i) & 1 == 1 { chk ^= gen[i] }
        }
        return chk
    }

    static func expand(_ hrp: [UInt8]) -> [UInt8] { hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 } }

    /// The string for `hrp` (lower-case ASCII 33…126) and 5-bit `data`.
    public static func encode(hrp: String, data5: [UInt8]) -> String {
        let h = Array(hrp.lowercased().utf8)
        let pm = polymod(expand(h) + data5 + [0, 0, 0, 0, 0, 0]) ^ constant
        let checksum = (0..<6).map { UInt8((pm >> UInt32(5 * (5 - $0))) & 31) }
        return String(decoding: h + [UInt8(ascii: "1")] + (data5 + checksum).map { charset[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part (lower case) and the 5-bit data of a valid bech32m string.
    public static func decode(_ text: String, limit: Int = 90) throws(Failure) -> (hrp: String, data5: [UInt8]) {
        let bytes = Array(text.utf8)
        guard bytes.count <= limit else { throw .tooLong(bytes.count) }
        for (i, c) in bytes.enumerated() where c < 33 || c > 126 { throw .badCharacter(i) }
        let hasLower = bytes.contains { (97...122).contains($0) }, hasUpper = bytes.contains { (65...90).contains($0) }
        guard !(hasLower && hasUpper) else { throw .mixedCase }
        let lower = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let sep = lower.lastIndex(of: UInt8(ascii: "1")) else { throw .noSeparator }
        guard sep > 0 else { throw .emptyHumanPart }
        guard lower.count - sep - 1 >= 6 else { throw .checksumTooShort }
        var data: [UInt8] = []
        for i in (sep + 1)..<lower.count {
            let v = reverse[Int(lower[i])]
            guard v >= 0 else { throw .badCharacter(i) }
            data.append(UInt8(v))
        }
        let hrp = Array(lower[..<sep])
        guard polymod(expand(hrp) + data) == constant else { throw .badChecksum }
        return (String(decoding: hrp, as: UTF8.self), Array(data.dropLast(6)))
    }

    /// Regroups bits: 8 → 5 with zero padding, 5 → 8 refusing leftover bits.
    public static func convert(_ input: [UInt8], from: Int, to: Int, pad: Bool) throws(Failure) -> [UInt8] {
        var acc: UInt32 = 0, bits = 0
        var out: [UInt8] = []
        let maxv: UInt32 = (1 << to) - 1
        for v in input {
            guard v >> from == 0 else { throw .badPadding }
            acc = acc << UInt32(from) | UInt32(v)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((acc >> UInt32(bits)) & maxv))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((acc << UInt32(to - bits)) & maxv)) }
        } else if bits >= from || (acc << UInt32(to - bits)) & maxv != 0 {
            throw .badPadding
        }
        return out
    }

    /// Bytes under a human-readable part, e.g. `zks1…`.
    public static func encode(hrp: String, bytes: [UInt8]) -> String {
        encode(hrp: hrp, data5: try! convert(bytes, from: 8, to: 5, pad: true))
    }

    /// The bytes of a bech32m string that must start with `hrp` and carry `count` bytes.
    public static func decode(_ text: String, hrp: String, count: Int) throws(Failure) -> [UInt8] {
        let (h, data5) = try decode(text.trimmingWhitespace, limit: 1023)
        guard h == hrp else { throw .wrongHumanPart(expected: hrp, got: h) }
        let bytes = try convert(data5, from: 5, to: 8, pad: false)
        guard bytes.count == count else { throw .wrongLength(expected: count, got: bytes.count) }
        return bytes
    }
}

extension String {
    var trimmingWhitespace: String {
        let u = Array(utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        guard let a = u.firstIndex(where: { !isSpace($0) }), let b = u.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: u[a...b], as: UTF8.self)
    }
}
