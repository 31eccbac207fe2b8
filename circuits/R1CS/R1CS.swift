import BN254

/// One term of a linear combination: coefficient · variable.
public struct Term: Sendable, Equatable {
    public var variable: Int
    public var coefficient: Fr
    public init(_ variable: Int, _ coefficient: Fr) { self.variable = variable; self.coefficient = coefficient }
}

/// A sparse linear combination over the variables of an R1CS.
public typealias LinearCombination = [Term]

/// One rank-1 constraint ⟨a, z⟩ · ⟨b, z⟩ = ⟨c, z⟩.
public struct Constraint: Sendable, Equatable {
    public var a: LinearCombination
    public var b: LinearCombination
    public var c: LinearCombination
    public init(a: LinearCombination, b: LinearCombination, c: LinearCombination) { self.a = a; self.b = b; self.c = c }
}

/// A rank-1 constraint system in the iden3/snarkjs variable layout: variable 0 is the constant
/// 1, variables 1…publicCount are the public inputs in `public.json` order, the rest are private.
/// This is the interface between `Circuits` (which builds it) and the prover (which proves it).
public struct R1CS: Sendable {
    public var variableCount: Int
    public var publicCount: Int
    public var constraints: [Constraint]

    public init(variableCount: Int, publicCount: Int, constraints: [Constraint]) {
        self.variableCount = variableCount
        self.publicCount = publicCount
        self.constraints = constraints
    }

    /// The index of the first constraint that the full assignment `z` (z[0] = 1) violates.
    public func firstUnsatisfied(_ z: [Fr]) -> Int? {
        precondition(z.count == variableCount && z.first == .one)
        return z.withUnsafeBufferPointer { z in
            for (i, c) in constraints.enumerated()
            where Self.evaluate(c.a, z) * Self.evaluate(c.b, z) != Self.evaluate(c.c, z) {
                return i
            }
            return nil
        }
    }

    /// ⟨lc, z⟩, skipping the product for unit coefficients (most of them).
    @inlinable
    public static func evaluate(_ lc: LinearCombination, _ z: UnsafeBufferPointer<Fr>) -> Fr {
        var acc = Fr.zero
        for t in lc { acc += t.coefficient.isOne ? z[t.variable] : t.coefficient * z[t.variable] }
        return acc
    }
}
