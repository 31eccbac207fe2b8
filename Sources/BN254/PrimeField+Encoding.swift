/// Why a field element or integer could not be decoded. Decoding is strict: one value has
/// exactly one accepted encoding (gnark-crypto's `SetBytesCanonical`).
public enum FieldDecodingError: Error, Equatable, CustomStringConvertible, Sendable {
    case empty
    case invalidCharacter(String)
    case leadingZero(String)
    case tooLarge(String)
    /// The value is an integer but not below the modulus: `(field, value)`.
    case notCanonical(field: String, value: String)
    case wrongLength(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .empty: return "empty number"
        case .invalidCharacter(let s): return "not a decimal number: \"\(s.prefix(90))\""
        case .leadingZero(let s): return "non-canonical number with a leading zero: \"\(s.prefix(90))\""
        case .tooLarge(let s): return "number does not fit in 256 bits: \"\(s.prefix(90))\""
        case .notCanonical(let f, let v): return "value \(v.prefix(90)) is not below the \(f) modulus"
        case .wrongLength(let e, let g): return "expected \(e) bytes, got \(g)"
        }
    }
}

extension Limbs {
    /// Parses a canonical unsigned decimal string (digits only, no sign, no leading zeros)
    /// into a 256-bit integer.
    public init(decimal s: String) throws(FieldDecodingError) {
        let utf8 = Array(s.utf8)
        if utf8.isEmpty { throw .empty }
        if utf8.count > 1 && utf8[0] == UInt8(ascii: "0") { throw .leadingZero(s) }
        if utf8.count > 78 { throw .tooLarge(s) }
        var acc: [UInt] = [0, 0, 0, 0]
        for c in utf8 {
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { throw .invalidCharacter(s) }
            var carry = UInt(c - UInt8(ascii: "0"))
            for i in 0..<4 {
                let (hi, lo) = acc[i].multipliedFullWidth(by: 10)
                let (sum, o) = lo.addingReportingOverflow(carry)
                acc[i] = sum
                carry = hi + (o ? 1 : 0)
            }
            if carry != 0 { throw .tooLarge(s) }
        }
        self.init(acc[0], acc[1], acc[2], acc[3])
    }

    /// 32 bytes, big-endian.
    public var bigEndianBytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<4 {
            let limb = self[3 - i]
            for j in 0..<8 { out[i * 8 + j] = UInt8(truncatingIfNeeded: limb >> UInt(56 - 8 * j)) }
        }
        return out
    }

    /// From exactly 32 big-endian bytes.
    public init<C: Collection>(bigEndian bytes: C) throws(FieldDecodingError) where C.Element == UInt8 {
        guard bytes.count == 32 else { throw .wrongLength(expected: 32, got: bytes.count) }
        var limbs: [UInt] = [0, 0, 0, 0]
        for (k, b) in bytes.enumerated() {
            let limbIndex = 3 - k / 8
            limbs[limbIndex] = (limbs[limbIndex] << 8) | UInt(b)
        }
        self.init(limbs[0], limbs[1], limbs[2], limbs[3])
    }

    /// Decimal text of the 256-bit integer.
    public var decimalString: String {
        var x: [UInt] = [v.0, v.1, v.2, v.3]
        if x.allSatisfy({ $0 == 0 }) { return "0" }
        var digits: [UInt8] = []
        while !x.allSatisfy({ $0 == 0 }) {
            // Divide by 10^19 limb by limb.
            let d: UInt = 10_000_000_000_000_000_000
            var rem: UInt = 0
            for i in stride(from: 3, through: 0, by: -1) {
                let (q, r) = d.dividingFullWidth((rem, x[i]))
                x[i] = q
                rem = r
            }
            let done = x.allSatisfy { $0 == 0 }
            var chunk = rem
            var n = 0
            while chunk > 0 || (!done && n < 19) {
                digits.append(UInt8(ascii: "0") + UInt8(chunk % 10))
                chunk /= 10
                n += 1
            }
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// `0x`-prefixed lower-case hex, 64 digits.
    public var hexString: String {
        "0x" + bigEndianBytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}

extension PrimeField {
    /// Parses a canonical decimal string; rejects anything ≥ the modulus.
    public init(decimal s: String) throws(FieldDecodingError) {
        let limbs = try Limbs(decimal: s)
        guard let x = Self(canonical: limbs) else { throw .notCanonical(field: P.name, value: s) }
        self = x
    }

    /// Parses a `0x`-prefixed or bare hex string of at most 64 digits; rejects values ≥ the modulus.
    public init(hex s: String) throws(FieldDecodingError) {
        var body = Substring(s)
        if body.hasPrefix("0x") || body.hasPrefix("0X") { body = body.dropFirst(2) }
        if body.isEmpty { throw .empty }
        if body.count > 64 { throw .tooLarge(s) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let digits = Array(body.utf8)
        for (k, c) in digits.reversed().enumerated() {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: throw .invalidCharacter(s)
            }
            bytes[31 - k / 2] |= k % 2 == 0 ? v : v << 4
        }
        let limbs = try Limbs(bigEndian: bytes)
        guard let x = Self(canonical: limbs) else { throw .notCanonical(field: P.name, value: s) }
        self = x
    }

    /// From 32 big-endian bytes; rejects values ≥ the modulus.
    public init<C: Collection>(bigEndian bytes: C) throws(FieldDecodingError) where C.Element == UInt8 {
        let limbs = try Limbs(bigEndian: bytes)
        guard let x = Self(canonical: limbs) else {
            throw .notCanonical(field: P.name, value: limbs.decimalString)
        }
        self = x
    }

    /// Reduces 32 big-endian bytes modulo m (for hash outputs, not for decoding).
    public init<C: Collection>(reducingBigEndian bytes: C) where C.Element == UInt8 {
        precondition(bytes.count <= 64)
        var wide = [UInt8](repeating: 0, count: 64 - bytes.count) + Array(bytes)
        // value = hi·2^256 + lo; Montgomery: reduce(lo·R2) + reduce(hi·R3)… via two field elements.
        let hi = try! Limbs(bigEndian: wide[0..<32])
        let lo = try! Limbs(bigEndian: wide[32..<64])
        wide.removeAll()
        // lo may be ≥ m (it is < 2^256 < 6m): reduce by repeated subtraction.
        func modReduce(_ x: Limbs) -> Limbs {
            var x = x
            while x >= P.modulus { x = Limbs.subWithBorrow(x, P.modulus).0 }
            return x
        }
        let loF = Self(unchecked: modReduce(lo))
        let hiF = Self(unchecked: modReduce(hi))
        // 2^256 mod m in Montgomery form is R·R mod m = montR2 as Montgomery value.
        let twoTo256 = Self(montgomery: P.montR2)
        self = loF + hiF * twoTo256
    }

    public var decimalString: String { canonical.decimalString }
    public var hexString: String { canonical.hexString }
    public var bigEndianBytes: [UInt8] { canonical.bigEndianBytes }
}
