import BN254
import TestSupport

func fp(_ s: Any) -> Fp { try! Fp(decimal: s as! String) }
func fp2(_ a: Any) -> Fp2 { let v = a as! [Any]; return Fp2(fp(v[0]), fp(v[1])) }
func g1(_ a: Any) -> G1Affine {
    if a is NSNullLike { return .infinity }
    let v = a as! [Any]
    return G1Affine(x: fp(v[0]), y: fp(v[1]))
}
func g2(_ a: Any) -> G2Affine {
    if a is NSNullLike { return .infinity }
    let v = a as! [Any]
    return G2Affine(x: fp2(v[0]), y: fp2(v[1]))
}
func limbs(_ s: Any) -> Limbs { try! Limbs(decimal: s as! String) }

#if canImport(Foundation)
import Foundation
typealias NSNullLike = NSNull
#endif

extension SeededGenerator {
    /// A uniformly random element of a prime field (rejection sampling on 254 bits).
    mutating func element<P: FieldParameters>(_: PrimeField<P>.Type = PrimeField<P>.self) -> PrimeField<P> {
        while true {
            let l = Limbs(UInt(next()), UInt(next()), UInt(next()), UInt(next() >> 2))
            if let x = PrimeField<P>(canonical: l) { return x }
        }
    }
    mutating func fp() -> Fp { element(Fp.self) }
    mutating func fr() -> Fr { element(Fr.self) }
    mutating func fp2() -> Fp2 { Fp2(fp(), fp()) }
    mutating func fp12() -> Fp12 {
        Fp12(Fp6(fp2(), fp2(), fp2()), Fp6(fp2(), fp2(), fp2()))
    }
    mutating func g1() -> G1Jacobian { G1Jacobian.generator.multiplied(by: fr()) }
    mutating func g2() -> G2Jacobian { G2Jacobian.generator.multiplied(by: fr()) }
}
