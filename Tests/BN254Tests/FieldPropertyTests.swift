import BN254
import Testing
import TestSupport

/// Field axioms on random elements, with GMP's `mpz` integers as the independent oracle.
@Suite struct FieldPropertyTests {
    func checkAgainstOracle<P: FieldParameters>(_: P.Type, rounds: Int) {
        var rng = SeededGenerator(label: "field-oracle-\(P.name)")
        let m = GMPInteger(decimal: P.modulusDecimal)
        for _ in 0..<rounds {
            let a: PrimeField<P> = rng.element(), b: PrimeField<P> = rng.element()
            let A = GMPInteger(limbs: a.canonical), B = GMPInteger(limbs: b.canonical)
            #expect(GMPInteger(limbs: (a * b).canonical) == (A * B).mod(m))
            #expect(GMPInteger(limbs: (a + b).canonical) == (A + B).mod(m))
            #expect(GMPInteger(limbs: (a - b).canonical) == (A - B).mod(m))
            #expect(GMPInteger(limbs: (-a).canonical) == (GMPInteger(0) - A).mod(m))
            #expect(GMPInteger(limbs: a.squared().canonical) == (A * A).mod(m))
            #expect(GMPInteger(limbs: a.doubled().canonical) == (A + A).mod(m))
            #expect(a.halved().doubled() == a)
            if !a.isZero {
                #expect(GMPInteger(limbs: a.inverse().canonical) == A.inverse(mod: m)!)
                #expect(a * a.inverse() == .one)
            }
            let e = rng.element(PrimeField<P>.self).canonical
            #expect(GMPInteger(limbs: a.pow(e).canonical) == A.power(GMPInteger(limbs: e), mod: m))
            // Ring laws.
            let c: PrimeField<P> = rng.element()
            #expect((a * b) * c == a * (b * c))
            #expect(a * (b + c) == a * b + a * c)
            #expect(a + b == b + a && a * b == b * a)
            #expect(a - a == .zero && a + .zero == a && a * .one == a)
        }
    }

    @Test func fpAgainstMPZ() { checkAgainstOracle(FpParameters.self, rounds: 300) }
    @Test func frAgainstMPZ() { checkAgainstOracle(FrParameters.self, rounds: 300) }

    @Test func edgeValuesAgainstMPZ() {
        let p = GMPInteger.p
        let pm1 = try! Fp(decimal: (p - GMPInteger(1)).description)
        #expect(pm1 + .one == .zero)
        #expect(pm1 * pm1 == .one)  // (−1)² = 1
        #expect(Fp.zero.inverse() == .zero)
        #expect(Fp.one.inverse() == .one)
        #expect(GMPInteger(limbs: (pm1 * pm1.doubled()).canonical) == GMPInteger(2))
    }

    @Test func montgomeryConstantsMatchTheirDefinitions() {
        for (m, r, r2) in [
            (GMPInteger.p, FpParameters.montR, FpParameters.montR2),
            (GMPInteger.r, FrParameters.montR, FrParameters.montR2),
        ] {
            let R = GMPInteger(2).power(256)
            #expect(GMPInteger(limbs: r) == R.mod(m))
            #expect(GMPInteger(limbs: r2) == (R * R).mod(m))
        }
        #expect(FpParameters.modulus.v.0 &* FpParameters.montInv == UInt.max)  // m·(−m⁻¹) ≡ −1
        #expect(FrParameters.modulus.v.0 &* FrParameters.montInv == UInt.max)
    }

    @Test func squareRoots() {
        var rng = SeededGenerator(label: "sqrt")
        for _ in 0..<30 {
            let a = rng.fp()
            let s = a.squared().squareRoot()
            #expect(s != nil && s!.squared() == a.squared())
            let b = rng.fp2()
            let t = b.squared().squareRoot()
            #expect(t != nil && t!.squared() == b.squared())
        }
        #expect((-Fp.one).squareRoot() == nil)  // p ≡ 3 mod 4
    }
}

/// Canonical encodings: round trips, and every way to be non-canonical is rejected.
@Suite struct FieldEncodingTests {
    @Test func roundTrips() throws {
        var rng = SeededGenerator(label: "encoding")
        for _ in 0..<100 {
            let a = rng.fp()
            #expect(try Fp(decimal: a.decimalString) == a)
            #expect(try Fp(hex: a.hexString) == a)
            #expect(try Fp(bigEndian: a.bigEndianBytes) == a)
            #expect(GMPInteger(decimal: a.decimalString) == GMPInteger(limbs: a.canonical))
        }
        #expect(Fp.zero.decimalString == "0")
        #expect(try Fp(decimal: "0") == .zero)
    }

    @Test func rejectsTheModulusAndAbove() {
        #expect(throws: FieldDecodingError.self) { try Fp(decimal: FpParameters.modulusDecimal) }
        #expect(throws: FieldDecodingError.self) { try Fr(decimal: FrParameters.modulusDecimal) }
        let pPlus1 = (GMPInteger.p + GMPInteger(1)).description
        #expect(throws: FieldDecodingError.self) { try Fp(decimal: pPlus1) }
        // r < p: r itself is a fine Fp element but not an Fr element.
        #expect((try? Fp(decimal: FrParameters.modulusDecimal)) != nil)
        let twoTo256 = GMPInteger(2).power(256).description
        #expect(throws: FieldDecodingError.tooLarge(twoTo256)) { try Limbs(decimal: twoTo256) }
        let maxU256 = (GMPInteger(2).power(256) - GMPInteger(1)).description
        #expect((try? Limbs(decimal: maxU256)) != nil)
        #expect(throws: FieldDecodingError.self) { try Fp(decimal: maxU256) }
        #expect(throws: FieldDecodingError.self) { try Fp(bigEndian: FpParameters.modulus.bigEndianBytes) }
        #expect(throws: FieldDecodingError.self) { try Fp(hex: FpParameters.modulus.hexString) }
    }

    @Test func rejectsMalformedText() {
        for bad in ["", "-1", "+1", "01", "00", " 1", "1 ", "1e3", "0x10", "１", "12a", String(repeating: "9", count: 79)] {
            #expect(throws: FieldDecodingError.self, "\"\(bad)\"") { try Fp(decimal: bad) }
        }
        #expect(throws: FieldDecodingError.self) { try Fp(bigEndian: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: FieldDecodingError.self) { try Fp(hex: "0xzz") }
        #expect(throws: FieldDecodingError.self) { try Fp(hex: "0x") }
    }
}
