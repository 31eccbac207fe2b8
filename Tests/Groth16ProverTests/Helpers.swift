import BN254
import Groth16Prover
import R1CS
import TestSupport

extension SeededGenerator {
    /// A uniformly random element of Fr (rejection sampling on 254 bits).
    mutating func fr() -> Fr {
        while true {
            if let x = Fr(canonical: Limbs(UInt(next()), UInt(next()), UInt(next()), UInt(next() >> 2))) { return x }
        }
    }
}

/// x³ + x + 5 = y with y public: z = [1, y, x, x², x³].
func cubic(_ x: Fr) -> (R1CS, [Fr]) {
    let c = [Constraint(a: [Term(2, .one)], b: [Term(2, .one)], c: [Term(3, .one)]),
             Constraint(a: [Term(3, .one)], b: [Term(2, .one)], c: [Term(4, .one)]),
             Constraint(a: [Term(4, .one), Term(2, .one), Term(0, Fr(5))], b: [Term(0, .one)], c: [Term(1, .one)])]
    let y = x * x * x + x + Fr(5)
    return (R1CS(variableCount: 5, publicCount: 1, constraints: c), [.one, y, x, x * x, x * x * x])
}
