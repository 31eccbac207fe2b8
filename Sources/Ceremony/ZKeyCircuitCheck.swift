import BN254
import R1CS

/// Checks that a `.zkey` is for a given R1CS: its sizes, and section 4 (the A and B matrices with
/// the input rows) entry for entry. The points are checked separately (`ProvingKeyCheck`, and
/// a ceremony's `verify` re-derives them).
public enum ZKeyCircuitCheck {
    /// The coefficients snarkjs's `zkey new` writes for `r1cs`, in its order: per constraint the
    /// A then the B terms, then one input row A[m + k][k] = 1 for k = 0…nPublic.
    public static func coefficients(_ r1cs: R1CS) -> [ZKey.Coefficient] {
        var out: [ZKey.Coefficient] = []
        for (j, c) in r1cs.constraints.enumerated() {
            for t in c.a { out.append(.init(matrix: 0, row: UInt32(j), signal: UInt32(t.variable), value: t.coefficient)) }
            for t in c.b { out.append(.init(matrix: 1, row: UInt32(j), signal: UInt32(t.variable), value: t.coefficient)) }
        }
        let m = r1cs.constraints.count
        for k in 0...r1cs.publicCount { out.append(.init(matrix: 0, row: UInt32(m + k), signal: UInt32(k), value: .one)) }
        return out
    }

    /// The smallest radix-2 domain snarkjs and this library use for `r1cs`.
    public static func domainSize(_ r1cs: R1CS) -> Int {
        EvaluationDomain(minimumSize: r1cs.constraints.count + r1cs.publicCount + 1).size
    }

    public static func check(_ key: ZKey, against r1cs: R1CS) throws(ZKeyError) {
        guard key.variableCount == r1cs.variableCount, key.publicCount == r1cs.publicCount else {
            throw ZKeyError("the key is for \(key.variableCount) signals with \(key.publicCount) public; the R1CS has \(r1cs.variableCount) with \(r1cs.publicCount)")
        }
        let domain = domainSize(r1cs)
        guard key.domainSize == domain else { throw ZKeyError("the key's domain is \(key.domainSize); the R1CS needs \(domain)") }
        func sortKey(_ c: ZKey.Coefficient) -> (UInt32, UInt32, UInt32) { (c.matrix, c.row, c.signal) }
        func sorted(_ cs: [ZKey.Coefficient]) -> [ZKey.Coefficient] { cs.sorted { sortKey($0) < sortKey($1) } }
        let expected = sorted(coefficients(r1cs)), actual = sorted(key.coefficients)
        guard expected.count == actual.count else {
            throw ZKeyError("the key has \(actual.count) A/B coefficients; the R1CS has \(expected.count) (input rows included)")
        }
        if let i = expected.indices.first(where: { expected[$0] != actual[$0] }) {
            let e = expected[i]
            throw ZKeyError("the key's \(e.matrix == 0 ? "A" : "B") matrix differs from the R1CS's at row \(e.row) (signal \(e.signal))")
        }
    }
}
