import BN254

/// The container shared by iden3's binary files (`.r1cs`, `.wtns`, `.zkey`): a 4-byte magic,
/// a u32 version, a u32 section count, then sections of (u32 type, u64 byte size, bytes).
/// Integers are little-endian; field elements are `fieldSize` bytes, little-endian, in plain
/// (not Montgomery) form.
public enum Iden3FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(String)
    case badMagic(expected: String)
    case unsupportedVersion(UInt32)
    case missingSection(UInt32)
    case duplicateSection(UInt32)
    case unsupportedField(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .truncated(let what): return "file ends inside \(what)"
        case .badMagic(let m): return "not a \(m) file (bad magic)"
        case .unsupportedVersion(let v): return "unsupported version \(v)"
        case .missingSection(let t): return "section \(t) is missing"
        case .duplicateSection(let t): return "section \(t) occurs twice"
        case .unsupportedField(let why): return "not the BN254 scalar field: \(why)"
        case .invalid(let why): return why
        }
    }
}

/// Appends iden3 binary values to a byte buffer.
public struct Iden3Writer {
    public private(set) var bytes: [UInt8] = []

    public init(magic: String, version: UInt32, sections: UInt32, capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: Array(magic.utf8))
        u32(version)
        u32(sections)
    }

    public mutating func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }

    /// A field element: 32 bytes little-endian, plain form.
    public mutating func field(_ x: Fr) { limbs(x.canonical) }

    public mutating func limbs(_ l: Limbs) {
        u64(UInt64(l.v.0)); u64(UInt64(l.v.1)); u64(UInt64(l.v.2)); u64(UInt64(l.v.3))
    }

    /// Raw bytes as they are.
    public mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// Writes a section header with a placeholder size, runs `body`, then patches the size.
    public mutating func section(_ type: UInt32, _ body: (inout Iden3Writer) -> Void) {
        u32(type)
        let sizeAt = bytes.count
        u64(0)
        let start = bytes.count
        body(&self)
        let size = UInt64(bytes.count - start).littleEndian
        withUnsafeBytes(of: size) { raw in
            for k in 0..<8 { bytes[sizeAt + k] = raw[k] }
        }
    }
}

/// Reads iden3 binary values from bytes, with bounds checks.
public struct Iden3Reader {
    public let bytes: [UInt8]
    public var offset: Int
    public let end: Int

    public init(_ bytes: [UInt8], from: Int = 0, to end: Int? = nil) {
        self.bytes = bytes; self.offset = from; self.end = end ?? bytes.count
    }

    public var remaining: Int { end - offset }

    public mutating func take(_ n: Int, _ what: String) throws(Iden3FormatError) -> Range<Int> {
        guard n >= 0, remaining >= n else { throw .truncated(what) }
        defer { offset += n }
        return offset..<(offset + n)
    }

    public mutating func u32(_ what: String) throws(Iden3FormatError) -> UInt32 {
        let r = try take(4, what)
        var x: UInt32 = 0
        for k in r.reversed() { x = (x << 8) | UInt32(bytes[k]) }
        return x
    }

    public mutating func u64(_ what: String) throws(Iden3FormatError) -> UInt64 {
        let r = try take(8, what)
        var x: UInt64 = 0
        for k in r.reversed() { x = (x << 8) | UInt64(bytes[k]) }
        return x
    }

    public mutating func limbs(_ what: String) throws(Iden3FormatError) -> Limbs {
        Limbs(UInt(try u64(what)), UInt(try u64(what)), UInt(try u64(what)), UInt(try u64(what)))
    }

    /// A canonical field element (< r).
    public mutating func field(_ what: String) throws(Iden3FormatError) -> Fr {
        let l = try limbs(what)
        guard let x = Fr(canonical: l) else { throw .invalid("\(what): \(l.decimalString) is not below r") }
        return x
    }

    /// Checks the magic and version, then indexes the sections: type → byte range (any order;
    /// unknown types kept so callers can ignore them).
    public static func sections(_ bytes: [UInt8], magic: String, versions: ClosedRange<UInt32>)
        throws(Iden3FormatError) -> (version: UInt32, sections: [UInt32: Range<Int>]) {
        var r = Iden3Reader(bytes)
        let m = try r.take(4, "the magic")
        guard Array(bytes[m]) == Array(magic.utf8) else { throw .badMagic(expected: magic) }
        let version = try r.u32("the version")
        guard versions.contains(version) else { throw .unsupportedVersion(version) }
        let count = try r.u32("the section count")
        var sections: [UInt32: Range<Int>] = [:]
        for _ in 0..<count {
            let type = try r.u32("a section header")
            let size = try r.u64("a section header")
            guard size <= UInt64(r.remaining) else { throw .truncated("section \(type)") }
            let range = try r.take(Int(size), "section \(type)")
            guard sections[type] == nil else { throw .duplicateSection(type) }
            sections[type] = range
        }
        return (version, sections)
    }

    /// Reads a field-size/prime pair and checks it is the BN254 scalar field.
    public mutating func expectScalarField() throws(Iden3FormatError) {
        let n8 = try u32("the field size")
        guard n8 == 32 else { throw .unsupportedField("field size \(n8) bytes, expected 32") }
        let prime = try limbs("the prime")
        guard prime == FrParameters.modulus else { throw .unsupportedField("prime \(prime.decimalString)") }
    }
}
