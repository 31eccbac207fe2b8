import BN254
import Foundation
import Groth16
import Primitives
import R1CS

public enum ProverError: Error, CustomStringConvertible, Equatable {
    case wrongAssignmentLength(expected: Int, got: Int)
    /// z[0] must be 1 (the iden3 layout's constant variable).
    case constantNotOne
    case keyDoesNotFit(String)
    case unsatisfied(constraint: Int)

    public var description: String {
        switch self {
        case .wrongAssignmentLength(let e, let g): return "the assignment has \(g) values; the circuit has \(e) variables"
        case .constantNotOne: return "the assignment's first value (the constant variable) must be 1"
        case .keyDoesNotFit(let s): return "the proving key does not fit this circuit: \(s)"
        case .unsatisfied(let i): return "the assignment does not satisfy constraint \(i): refusing to prove a false statement"
        }
    }
}

/// Groth16 proving (arkworks' algorithm, the same QAP as snarkjs).
///
/// 1. **Witness** — the evaluations aⱼ = ⟨Aⱼ, z⟩, bⱼ, cⱼ of every constraint row, plus the
///    rows m + k with A = z_k for the constant and the public inputs (see `DevelopmentSetup`).
///    aⱼ·bⱼ = cⱼ is checked on the way (n multiplications: free next to the rest), so an
///    assignment that does not satisfy the R1CS is refused with the failing row's index.
/// 2. **Quotient** — a, b, c are evaluations on the domain H; inverse NTT to coefficients, coset
///    NTT to evaluations on gH, h = (a·b − c)/Z there (Z(gωⁱ) = gⁿ − 1 is one constant), and
///    coset inverse NTT back to the coefficients of h (degree ≤ n − 2). Seven NTTs on all cores.
/// 3. **MSMs** — with r, s uniform in Fr from OpenSSL's CSPRNG, the proof is
///    A = α + Σ z·A + r·δ,  B = β + Σ z·B + s·δ (G2),  C = Σ z_priv·L + Σ h·H + s·A + r·B₁ − r·s·δ
///    with B₁ = β + Σ z·B + s·δ in G1. Since r·B₁ = r·β + Σ (r·z)·B + r·s·δ, the last two terms
///    of C are r·β + Σ (r·z)·B: the G1 B-query joins C's MSM (queries L, H and B₁ concatenated)
///    instead of being a fourth MSM, and r·s·δ cancels. Three MSMs (A and C in G1, B in G2),
///    scheduled window by window on one worker pool so that the G2 one runs beside the G1 ones
///    (`MSM.run`).
///
/// The R1CS is an argument rather than part of the key file: circuits rebuild it in
/// milliseconds, and the key records the circuit id and sizes, which are checked here.
public enum Prover {
    /// A proof that `z` satisfies `r1cs`, under `pk` (made for the same circuit).
    ///
    /// - Parameters:
    ///   - z: the full assignment in the iden3 layout: z[0] = 1, then the public inputs, then
    ///     the private variables (`r1cs.variableCount` values).
    ///   - checkSatisfied: refuse an assignment that violates a constraint (`.unsatisfied`).
    ///     On by default (it costs n multiplications); off, such an assignment yields a proof
    ///     that fails verification.
    ///   - progress: called at the start (0) and end (1) of the `.witness`, `.quotient` and
    ///     `.msm` stages, on the calling thread, and through the MSMs after each window, from
    ///     their worker threads (so it must be thread-safe).
    /// - Throws: `ProverError` for a wrong-length assignment, z[0] ≠ 1, a key whose sizes do
    ///   not match the circuit, or an unsatisfied constraint.
    public static func prove(provingKey pk: ProvingKey, r1cs: R1CS, assignment z: [Fr],
                             checkSatisfied: Bool = true,
                             progress: ((ProverStage, Double) -> Void)? = nil) throws(ProverError) -> Proof {
        try checkShape(pk, r1cs, z)
        let domain = EvaluationDomain(size: pk.domainSize)

        progress?(.witness, 0)
        let (a, b, c) = evaluations(r1cs, z, domain.size)
        if checkSatisfied, let bad = firstViolation(a, b, c, r1cs.constraints.count) { throw .unsatisfied(constraint: bad) }
        progress?(.witness, 1)
        return prove(provingKey: pk, rows: (a, b, c), assignment: z, progress: progress)
    }

    /// A proof from the row evaluations aⱼ, bⱼ, cⱼ of the domain (input rows included) and the
    /// full assignment: the quotient and MSM stages of `prove(provingKey:r1cs:assignment:)`,
    /// for callers that evaluate the rows themselves (a snarkjs `.zkey` carries the A and B
    /// matrices, and c = a·b row by row). The caller has checked the sizes.
    public static func prove(provingKey pk: ProvingKey, rows: ([Fr], [Fr], [Fr]), assignment z: [Fr],
                             progress: ((ProverStage, Double) -> Void)? = nil) -> Proof {
        let domain = EvaluationDomain(size: pk.domainSize)
        var (a, b, c) = rows
        precondition(a.count == domain.size && b.count == domain.size && c.count == domain.size && z.count == pk.variableCount,
                     "row evaluations and assignment must match the key's sizes")
        progress?(.quotient, 0)
        var h = pk.hQuery == .powers ? quotient(&a, &b, &c, domain) : oddCosetValues(&a, &b, &c, domain)
        defer { for i in h.indices { h[i] = .zero } }
        progress?(.quotient, 1)

        progress?(.msm, 0)
        let r = SecureRandom.nonzeroScalar(), s = SecureRandom.nonzeroScalar()
        // r·B₁ = r·β + Σ (r·z_k)·B_k + r·s·δ, so C's B₁ term joins C's MSM and r·s·δ cancels.
        var cScalars = Array(z[(pk.publicCount + 1)...])
        let hCount = pk.hQuery.count(domainSize: domain.size)
        cScalars.reserveCapacity(cScalars.count + hCount + z.count)
        cScalars += h[0..<hCount]
        for zk in z { cScalars.append(r * zk) }
        // Real progress through the MSMs (they are most of a proof's time), by window.
        let report = progress.map { ProgressReport($0) }
        let sums = MSM.run(g1: [.init(pk.a, z), .init(pk.l + pk.h + pk.b1, cScalars)], g2: [.init(pk.b2, z)],
                           progress: report.map { r in { @Sendable f in r.value(.msm, f) } })
        progress?(.msm, 1)

        let a1 = pk.alpha1.jacobian + sums.g1[0] + pk.delta1.jacobian.multiplied(by: r)
        let b2 = pk.beta2.jacobian + sums.g2[0] + pk.delta2.jacobian.multiplied(by: s)
        let c1 = sums.g1[1] + a1.multiplied(by: s) + pk.beta1.jacobian.multiplied(by: r)
        let affine = G1Jacobian.batchAffine([a1, c1])
        // Witness-derived values: overwrite before the buffers are freed (best effort).
        for i in cScalars.indices { cScalars[i] = .zero }
        for i in a.indices { a[i] = .zero; b[i] = .zero; c[i] = .zero }
        return Proof(unchecked: affine[0], b2.affine, affine[1])
    }

    /// Sizes of assignment, circuit and key agree.
    static func checkShape(_ pk: ProvingKey, _ r1cs: R1CS, _ z: [Fr]) throws(ProverError) {
        guard z.count == r1cs.variableCount else { throw .wrongAssignmentLength(expected: r1cs.variableCount, got: z.count) }
        guard z.first == .one else { throw .constantNotOne }
        guard pk.variableCount == r1cs.variableCount, pk.publicCount == r1cs.publicCount else {
            throw .keyDoesNotFit("key for \(pk.variableCount) variables / \(pk.publicCount) public, circuit has \(r1cs.variableCount) / \(r1cs.publicCount)")
        }
        guard pk.constraintCount == r1cs.constraints.count else {
            throw .keyDoesNotFit("key for \(pk.constraintCount) constraints, circuit has \(r1cs.constraints.count)")
        }
        let needed = EvaluationDomain(minimumSize: r1cs.constraints.count + r1cs.publicCount + 1).size
        guard needed == pk.domainSize else { throw .keyDoesNotFit("domain \(pk.domainSize), circuit needs \(needed)") }
    }

    /// aⱼ = ⟨Aⱼ, z⟩, bⱼ, cⱼ for every row of the domain (zero past the input rows), in two
    /// halves on two cores.
    static func evaluations(_ r1cs: R1CS, _ z: [Fr], _ n: Int) -> ([Fr], [Fr], [Fr]) {
        let m = r1cs.constraints.count
        var a = [Fr](repeating: .zero, count: n), b = a, c = a
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    let out = UnsafeOutputs(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
                    let parts = m >= 1024 ? max(1, MSM.defaultParallelism) : 1
                    _ = parallelMap(parts) { part in
                        z.withUnsafeBufferPointer { zp in
                            @inline(__always) func eval(_ lc: LinearCombination) -> Fr {
                                var acc = Fr.zero
                                for t in lc { acc += t.coefficient.isOne ? zp[t.variable] : t.coefficient * zp[t.variable] }
                                return acc
                            }
                            for j in (m * part / parts)..<(m * (part + 1) / parts) {
                                let con = r1cs.constraints[j]
                                out.a[j] = eval(con.a); out.b[j] = eval(con.b); out.c[j] = eval(con.c)
                            }
                        }
                        return 0
                    }
                }
            }
        }
        for k in 0...r1cs.publicCount { a[m + k] = z[k] }
        return (a, b, c)
    }

    /// The first constraint row with aⱼ·bⱼ ≠ cⱼ.
    static func firstViolation(_ a: [Fr], _ b: [Fr], _ c: [Fr], _ m: Int) -> Int? {
        for j in 0..<m where a[j] * b[j] != c[j] { return j }
        return nil
    }

    /// (A·B − C) on the odd points ω₂ₙ^(2i+1) of the 2n domain, for a key whose H query is
    /// `.oddCoset` (snarkjs's): inverse NTT of each row vector, shift coefficient i by ω₂ₙⁱ,
    /// NTT. Six NTTs, no division by Z (it is folded into the key's H points).
    static func oddCosetValues(_ a: inout [Fr], _ b: inout [Fr], _ c: inout [Fr], _ domain: EvaluationDomain) -> [Fr] {
        let n = domain.size
        let shifts = EvaluationDomain.powers(of: EvaluationDomain(size: 2 * n).omega, count: n)
        func toOddCoset(_ x: inout [Fr]) {
            domain.inverseNTT(&x)
            for k in 0..<n { x[k] *= shifts[k] }
            domain.ntt(&x)
        }
        toOddCoset(&a); toOddCoset(&b); toOddCoset(&c)
        var d = [Fr](repeating: .zero, count: n)
        for i in 0..<n { d[i] = a[i] * b[i] - c[i] }
        return d
    }

    /// Coefficients of h = (A·B − C)/Z from the row evaluations (which it overwrites).
    static func quotient(_ a: inout [Fr], _ b: inout [Fr], _ c: inout [Fr], _ domain: EvaluationDomain) -> [Fr] {
        let n = domain.size
        domain.inverseNTT(&a); domain.cosetNTT(&a)
        domain.inverseNTT(&b); domain.cosetNTT(&b)
        domain.inverseNTT(&c); domain.cosetNTT(&c)
        let zInverse = (EvaluationDomain.cosetGenerator.pow([UInt(n)]) - .one).inverse()
        var h = [Fr](repeating: .zero, count: n)
        for i in 0..<n { h[i] = (a[i] * b[i] - c[i]) * zInverse }
        domain.cosetInverseNTT(&h)
        return h
    }
}

/// The three evaluation vectors, written by parallel workers at disjoint rows.
private struct UnsafeOutputs: @unchecked Sendable {
    let a: UnsafeMutablePointer<Fr>
    let b: UnsafeMutablePointer<Fr>
    let c: UnsafeMutablePointer<Fr>
}

/// A caller's progress closure handed to the MSM's worker threads (`prove` documents that it
/// must be thread-safe).
private struct ProgressReport: @unchecked Sendable {
    let value: (ProverStage, Double) -> Void
    init(_ value: @escaping (ProverStage, Double) -> Void) { self.value = value }
}
