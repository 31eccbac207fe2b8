import CGMP

/// An arbitrary-precision integer on GMP's `mpz` layer, for constants computed once (Frobenius
/// coefficients, exponents) and as the independent oracle of the field tests. Not for hot paths.
public final class GMPInteger: @unchecked Sendable, CustomStringConvertible {
    @usableFromInline let z: UnsafeMutablePointer<__mpz_struct>

    public init() {
        z = .allocate(capacity: 1)
        __gmpz_init(z)
    }

    public convenience init(_ v: UInt) {
        self.init()
        __gmpz_set_ui(z, v)
    }

    /// From a decimal string (trusted input: constants and tests).
    public convenience init(decimal: String) {
        self.init()
        let rc = __gmpz_set_str(z, decimal, 10)
        precondition(rc == 0, "bad decimal constant \(decimal)")
    }

    public convenience init(limbs: Limbs) {
        self.init()
        var l = limbs
        withUnsafePointer(to: &l) { p in
            __gmpz_import(z, 4, -1, MemoryLayout<UInt>.size, 0, 0, UnsafeRawPointer(p))
        }
    }

    deinit {
        __gmpz_clear(z)
        z.deallocate()
    }

    public var description: String {
        let n = __gmpz_sizeinbase(z, 10) + 2
        var buf = [CChar](repeating: 0, count: n)
        _ = __gmpz_get_str(&buf, 10, z)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Little-endian 64-bit limbs of a non-negative value (at least one limb).
    public var limbs: [UInt] {
        let n = Int(__gmpz_size(z))
        if n == 0 { return [0] }
        return (0..<n).map { UInt(__gmpz_getlimbn(z, $0)) }
    }

    /// The value as 4 limbs; it must be < 2^256.
    public var limbs4: Limbs {
        let l = limbs
        precondition(l.count <= 4, "value does not fit in 256 bits")
        let p = l + [UInt](repeating: 0, count: 4 - l.count)
        return Limbs(p[0], p[1], p[2], p[3])
    }

    public static func + (a: GMPInteger, b: GMPInteger) -> GMPInteger { let r = GMPInteger(); __gmpz_add(r.z, a.z, b.z); return r }
    public static func - (a: GMPInteger, b: GMPInteger) -> GMPInteger { let r = GMPInteger(); __gmpz_sub(r.z, a.z, b.z); return r }
    public static func * (a: GMPInteger, b: GMPInteger) -> GMPInteger { let r = GMPInteger(); __gmpz_mul(r.z, a.z, b.z); return r }
    /// Exact division (the caller knows b divides a).
    public func exactlyDivided(by b: UInt) -> GMPInteger { let r = GMPInteger(); __gmpz_divexact_ui(r.z, z, b); return r }
    public func power(_ e: UInt) -> GMPInteger { let r = GMPInteger(); __gmpz_pow_ui(r.z, z, e); return r }
    /// Non-negative remainder.
    public func mod(_ m: GMPInteger) -> GMPInteger { let r = GMPInteger(); __gmpz_mod(r.z, z, m.z); return r }
    /// Modular inverse, or nil.
    public func inverse(mod m: GMPInteger) -> GMPInteger? {
        let r = GMPInteger()
        return __gmpz_invert(r.z, z, m.z) != 0 ? r : nil
    }
    public func power(_ e: GMPInteger, mod m: GMPInteger) -> GMPInteger { let r = GMPInteger(); __gmpz_powm(r.z, z, e.z, m.z); return r }
    public static func == (a: GMPInteger, b: GMPInteger) -> Bool { __gmpz_cmp(a.z, b.z) == 0 }
    public var isZero: Bool { __gmpz_sgn_shim(z) == 0 }
}

@inline(__always)
func __gmpz_sgn_shim(_ z: UnsafeMutablePointer<__mpz_struct>) -> Int32 {
    z.pointee._mp_size < 0 ? -1 : (z.pointee._mp_size > 0 ? 1 : 0)
}

extension GMPInteger {
    public static var p: GMPInteger { GMPInteger(decimal: FpParameters.modulusDecimal) }
    public static var r: GMPInteger { GMPInteger(decimal: FrParameters.modulusDecimal) }
}
