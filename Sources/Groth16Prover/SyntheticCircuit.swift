import BN254
import R1CS

/// Random satisfiable R1CS instances with their assignments, for tests and benchmarks of the
/// prover where the real circuit is not wanted (or not yet built).
///
/// Layout (the iden3 one of `R1CS`): variable 0 is 1, then `publicInputs` public variables, 8
/// free private inputs, then one new private variable per constraint. Constraint j multiplies
/// two random linear combinations (up to 3 and 2 terms) of earlier variables and defines its
/// new variable as the product, scaled by a random coefficient: ⟨a, z⟩·⟨b, z⟩ = k·z_new. Every
/// public input appears in some constraint. Values are full-size field elements, the worst
/// case for the MSMs (a real circuit's witness has many bits and small numbers).
public enum SyntheticCircuit {
    public static func make(constraints m: Int, publicInputs p: Int, seed: UInt64) -> (r1cs: R1CS, assignment: [Fr]) {
        precondition(m >= 1 && p >= 0)
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func element() -> Fr {
            Fr(unchecked: Limbs(UInt(next()), UInt(next()), UInt(next()), UInt(next() >> 4)))
        }
        let free = 8
        var z: [Fr] = [.one]
        for _ in 0..<(p + free) { z.append(element()) }
        var constraints: [Constraint] = []
        constraints.reserveCapacity(m)
        func term(_ bound: Int) -> Term {
            let v = Int(next() % UInt64(bound))
            return Term(v, next() % 4 == 0 ? .one : element())
        }
        for j in 0..<m {
            let bound = z.count
            var a = (0..<Int(1 + next() % 3)).map { _ in term(bound) }
            let b = (0..<Int(1 + next() % 2)).map { _ in term(bound) }
            if j < p { a.append(Term(1 + j, element())) }  // every public input is used
            let k = element()
            let value = a.reduce(Fr.zero) { $0 + $1.coefficient * z[$1.variable] }
                * b.reduce(Fr.zero) { $0 + $1.coefficient * z[$1.variable] }
            constraints.append(Constraint(a: a, b: b, c: [Term(z.count, k)]))
            z.append(value * k.inverse())
        }
        return (R1CS(variableCount: z.count, publicCount: p, constraints: constraints), z)
    }
}
