import BN254
import COpenSSL

/// Randomness from OpenSSL's CSPRNG (`RAND_bytes`).
public enum SecureRandom {
    /// `count` random bytes; traps if the CSPRNG fails (there is no safe fallback).
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(rc == 1, "OpenSSL RAND_bytes failed")
        return out
    }

    /// A uniformly random nonzero element of Fr (setup trapdoors, proof blinding).
    public static func nonzeroScalar() -> Fr {
        while true { let x = scalar(); if !x.isZero { return x } }
    }

    /// A uniformly random nonzero 128-bit scalar (a batch-verification weight).
    public static func weight128() -> Fr {
        while true {
            let b = bytes(16)
            var lo: UInt = 0, hi: UInt = 0
            for i in 0..<8 { lo = lo << 8 | UInt(b[i]); hi = hi << 8 | UInt(b[8 + i]) }
            if lo | hi != 0 { return Fr(unchecked: Limbs(lo, hi, 0, 0)) }
        }
    }

    /// A batch-verification weight ρ = a + b·λ with a, b uniform 64-bit values (not both 0),
    /// λ the GLV eigenvalue. (a, b) ↦ a + bλ mod r is injective on [0, 2⁶⁴)² (the GLV lattice
    /// has no nonzero vector that short), so ρ takes 2¹²⁸ − 1 equally likely values: the same
    /// 2⁻¹²⁸ soundness as a uniform 128-bit weight, while ρ·P costs 64 doublings instead of 128.
    public static func glvWeight() -> (a: UInt64, b: UInt64, scalar: Fr) {
        while true {
            let bytes = bytes(16)
            var a: UInt64 = 0, b: UInt64 = 0
            for i in 0..<8 { a = a << 8 | UInt64(bytes[i]); b = b << 8 | UInt64(bytes[8 + i]) }
            if a | b != 0 { return (a, b, Fr(a) + Fr(b) * G1Endomorphism.lambda) }
        }
    }

    /// A uniformly random element of Fr (rejection sampling on 254 bits).
    public static func scalar() -> Fr {
        while true {
            let b = bytes(32)
            var l = [UInt](repeating: 0, count: 4)
            for i in 0..<32 { l[i / 8] = l[i / 8] << 8 | UInt(b[i]) }
            if let x = Fr(canonical: Limbs(l[0], l[1], l[2], l[3] & (UInt.max >> 2))) { return x }
        }
    }
}
