import BN254
import Foundation
import Groth16

public enum ProverError: Error, CustomStringConvertible, Equatable {
    case wrongAssignmentLength(expected: Int, got: Int)
    case keyDoesNotFit(String)
    case unsatisfied(constraint: Int)

    public var description: String {
        switch self {
        case .wrongAssignmentLength(let e, let g): return "the assignment has \(g) values; the circuit has \(e) variables"
        case .keyDoesNotFit(let s): return "the proving key does not fit this circuit: \(s)"
        case .unsatisfied(let i): return "the assignment does not satisfy constraint \(i): refusing to prove a false statement"
        }
    }
}

/// Groth16 proving (arkworks' algorithm): the quotient h = (A·B − C)/Z from evaluations on a
/// coset of the domain, then five MSMs. r and s come from OpenSSL's CSPRNG, so every proof of
/// the same statement differs and reveals nothing about the witness.
public enum Prover {
    public static func prove(provingKey pk: ProvingKey, r1cs: R1CS, assignment z: [Fr],
                             checkSatisfied: Bool = false,
                             progress: ((ProverStage, Double) -> Void)? = nil) throws(ProverError) -> Proof {
        guard z.count == r1cs.variableCount else { throw .wrongAssignmentLength(expected: r1cs.variableCount, got: z.count) }
        guard pk.variableCount == r1cs.variableCount, pk.publicCount == r1cs.publicCount else {
            throw .keyDoesNotFit("key for \(pk.variableCount) variables / \(pk.publicCount) public, circuit has \(r1cs.variableCount) / \(r1cs.publicCount)")
        }
        let m = r1cs.constraints.count
        let domain = EvaluationDomain(minimumSize: m + r1cs.publicCount + 1)
        guard domain.size == pk.domainSize else { throw .keyDoesNotFit("domain \(pk.domainSize), circuit needs \(domain.size)") }
        if checkSatisfied, let bad = r1cs.firstUnsatisfied(z) { throw .unsatisfied(constraint: bad) }

        // Quotient.
        progress?(.quotient, 0)
        let h: [Fr] = quotient(r1cs, z, domain)
        progress?(.quotient, 1)

        let r = SecureRandom.nonzeroScalar(), s = SecureRandom.nonzeroScalar()

        // MSMs: the G2 one and the G1 ones, each split across cores.
        progress?(.msm, 0)
        let private_ = Array(z[(r1cs.publicCount + 1)...])
        let aSum = MSM.multiply(pk.a, z)
        let b1Sum = MSM.multiply(pk.b1, z)
        progress?(.msm, 0.3)
        let b2Sum = MSM.multiply(pk.b2, z)
        progress?(.msm, 0.7)
        let lSum = MSM.multiply(pk.l, private_)
        let hSum = MSM.multiply(pk.h, Array(h[0..<(domain.size - 1)]))
        progress?(.msm, 1)

        let a = pk.alpha1.jacobian + aSum + pk.delta1.jacobian.multiplied(by: r)
        let b2 = pk.beta2.jacobian + b2Sum + pk.delta2.jacobian.multiplied(by: s)
        let b1 = pk.beta1.jacobian + b1Sum + pk.delta1.jacobian.multiplied(by: s)
        let c = lSum + hSum + a.multiplied(by: s) + b1.multiplied(by: r) - pk.delta1.jacobian.multiplied(by: r * s)
        return Proof(unchecked: a.affine, b2.affine, c.affine)
    }

    /// Coefficients of h = (A·B − C)/Z, with A, B, C the QAP polynomials at the witness.
    static func quotient(_ r1cs: R1CS, _ z: [Fr], _ domain: EvaluationDomain) -> [Fr] {
        let n = domain.size, m = r1cs.constraints.count
        var a = [Fr](repeating: .zero, count: n), b = a, c = a
        z.withUnsafeBufferPointer { z in
            for (i, con) in r1cs.constraints.enumerated() {
                a[i] = R1CS.evaluate(con.a, z); b[i] = R1CS.evaluate(con.b, z); c[i] = R1CS.evaluate(con.c, z)
            }
        }
        for j in 0...r1cs.publicCount { a[m + j] = z[j] }
        let evaluations = [a, b, c]
        let polys: [[Fr]] = parallelMap(3) { k in
            var v = evaluations[k]
            domain.inverseNTT(&v)
            domain.cosetNTT(&v)
            return v
        }
        let zInv = (EvaluationDomain.cosetGenerator.pow([UInt(n)]) - .one).inverse()
        var h = [Fr](repeating: .zero, count: n)
        for i in 0..<n { h[i] = (polys[0][i] * polys[1][i] - polys[2][i]) * zInv }
        domain.cosetInverseNTT(&h)
        return h
    }
}
