import BN254

/// A linear combination of circuit variables together with its value under the witness being
/// built. In witness-only mode the terms are not recorded (only values), so the same gadget
/// code yields both the constraint system's shape and, cheaply, a proof's assignment.
public struct LC: Sendable {
    public var terms: [Int: Fr]
    public var value: Fr

    public init(terms: [Int: Fr] = [:], value: Fr) { self.terms = terms; self.value = value }

    public static func constant(_ c: Fr, recording: Bool) -> LC {
        LC(terms: recording && !c.isZero ? [0: c] : [:], value: c)
    }

    public static func + (a: LC, b: LC) -> LC {
        var out = a
        for (v, c) in b.terms { out.terms[v, default: .zero] += c }
        out.value += b.value
        return out
    }

    public static prefix func - (a: LC) -> LC {
        LC(terms: a.terms.mapValues { -$0 }, value: -a.value)
    }

    public static func - (a: LC, b: LC) -> LC { a + (-b) }

    public static func * (k: Fr, a: LC) -> LC {
        LC(terms: a.terms.mapValues { k * $0 }, value: k * a.value)
    }

    var linearCombination: LinearCombination {
        terms.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map { Term($0.key, $0.value) }
    }
}

/// Builds an R1CS in the iden3 layout (variable 0 = 1, then public inputs, then private
/// variables) while assigning the witness.
///
/// `recording: true` records constraints and the gadget each came from (the circuit's shape);
/// `recording: false` only computes values, for fast witness generation. Public inputs must be
/// declared before any private variable.
public final class ConstraintSystem {
    public let recording: Bool
    public private(set) var values: [Fr] = [.one]
    public private(set) var publicCount = 0
    public private(set) var constraints: [Constraint] = []
    public private(set) var constraintGadgets: [String] = []
    public private(set) var constraintCount = 0
    private var scopes: [String] = []

    public init(recording: Bool) { self.recording = recording }

    public var one: LC { LC.constant(.one, recording: recording) }
    public func constant(_ c: Fr) -> LC { LC.constant(c, recording: recording) }

    /// A public input (declared in `public.json` order, before any private variable).
    public func publicInput(_ value: Fr) -> LC {
        precondition(values.count == publicCount + 1, "public inputs must be declared before private variables")
        publicCount += 1
        return variable(value)
    }

    /// A private variable holding `value`.
    public func witness(_ value: Fr) -> LC { variable(value) }

    private func variable(_ value: Fr) -> LC {
        let index = values.count
        values.append(value)
        return LC(terms: recording ? [index: .one] : [:], value: value)
    }

    /// Records a · b = c.
    public func enforce(_ a: LC, _ b: LC, _ c: LC) {
        constraintCount += 1
        if recording {
            constraints.append(Constraint(a: a.linearCombination, b: b.linearCombination, c: c.linearCombination))
            constraintGadgets.append(scopes.joined(separator: "/"))
        }
    }

    /// a = b (one constraint: (a − b) · 1 = 0).
    public func enforceEqual(_ a: LC, _ b: LC) { enforce(a - b, one, constant(.zero)) }

    /// Runs `body` with `name` added to the gadget path recorded with each constraint.
    public func scope<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        if recording { scopes.append(name) }
        defer { if recording { scopes.removeLast() } }
        return try body()
    }

    public var r1cs: R1CS { R1CS(variableCount: values.count, publicCount: publicCount, constraints: constraints) }

    /// The first constraint the assignment violates and the gadget it came from (shape mode).
    public func firstUnsatisfied() -> (index: Int, gadget: String)? {
        r1cs.firstUnsatisfied(values).map { ($0, constraintGadgets[$0]) }
    }
}
