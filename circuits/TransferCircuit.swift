import BN254
import Foundation
import Primitives
import Protocol
import R1CS

/// An input note of a transfer, as its owner knows it.
public struct TransferInput: Sendable {
    /// The note's value (a field element so that tests can try values ≥ 2⁶⁴).
    public var value: Fr
    public var spendingKey: SpendingKey
    public var blinding: Fr
    public var leafIndex: Int
    /// Authentication path, bottom-up (any values for a dummy input of value 0).
    public var path: [Fr]

    public init(value: UInt64, spendingKey: SpendingKey, blinding: Fr, leafIndex: Int, path: [Fr]) {
        self.init(fieldValue: Fr(value), spendingKey: spendingKey, blinding: blinding, leafIndex: leafIndex, path: path)
    }

    public init(fieldValue: Fr, spendingKey: SpendingKey, blinding: Fr, leafIndex: Int, path: [Fr]) {
        self.value = fieldValue; self.spendingKey = spendingKey; self.blinding = blinding
        self.leafIndex = leafIndex; self.path = path
    }

    var commitment: Fr { Note.commitment(value: value, owner: spendingKey.ownerKey, blinding: blinding) }
    var nullifier: Fr { Note.nullifier(nullifierKey: spendingKey.nullifierKey, commitment: commitment, leafIndex: leafIndex) }
}

/// An output note: value for owner `pk`.
public struct TransferOutput: Sendable {
    public var value: Fr
    public var owner: Fr
    public var blinding: Fr

    public init(value: UInt64, owner: Fr, blinding: Fr) { self.init(fieldValue: Fr(value), owner: owner, blinding: blinding) }
    public init(fieldValue: Fr, owner: Fr, blinding: Fr) { self.value = fieldValue; self.owner = owner; self.blinding = blinding }

    var commitment: Fr { Note.commitment(value: value, owner: owner, blinding: blinding) }
}

/// Everything the prover knows about a transfer.
public struct TransferWitness: Sendable {
    public var root: Fr
    public var publicAmount: Fr
    public var extDataHash: Fr
    public var inputs: [TransferInput]
    public var outputs: [TransferOutput]

    public init(root: Fr, publicAmount: Fr, extDataHash: Fr, inputs: [TransferInput], outputs: [TransferOutput]) {
        self.root = root; self.publicAmount = publicAmount; self.extDataHash = extDataHash
        self.inputs = inputs; self.outputs = outputs
    }

    /// The statement's public inputs in `TransferStatement` order, computed natively.
    public var publicInputs: [Fr] {
        [root, publicAmount, extDataHash] + inputs.map(\.nullifier) + outputs.map(\.commitment)
    }
}

public enum TransferCircuitError: Error, CustomStringConvertible, Equatable {
    case shape(String)
    case unsatisfied(constraint: Int, gadget: String)

    public var description: String {
        switch self {
        case .shape(let s): return "transfer witness: \(s)"
        case .unsatisfied(let i, let g): return "the witness does not satisfy constraint \(i) (gadget \(g)): it is not an honest transfer"
        }
    }
}

/// The 2-input, 2-output transfer statement of DESIGN.md section 4, depth 20:
///
/// for each input: nk = H1(sk), pk = H1(nk), cm = H3(value, pk, blinding), a Merkle path from
/// cm to `root` (enforced only when value ≠ 0: dummy inputs), nf = H3(nk, cm, leafIndex) equal
/// to the public nullifier; for each output: cm = H3(value, pk, blinding) equal to the public
/// commitment; every value < 2⁶⁴; nf0 ≠ nf1; in0 + in1 + publicAmount = out0 + out1 (in Fr);
/// extDataHash bound by one constraint (its square) so the proof commits to it.
public enum TransferCircuit {
    public static let depth = TransferStatement.depth
    public static let publicInputCount = TransferStatement.publicInputCount

    /// Adds the statement to `cs`. Public inputs first, in `public.json` order.
    public static func synthesize(_ cs: ConstraintSystem, _ w: TransferWitness) {
        let pub = w.publicInputs
        let root = cs.publicInput(pub[0])
        let publicAmount = cs.publicInput(pub[1])
        let extDataHash = cs.publicInput(pub[2])
        let nfPublic = [cs.publicInput(pub[3]), cs.publicInput(pub[4])]
        let cmPublic = [cs.publicInput(pub[5]), cs.publicInput(pub[6])]

        var inSum = cs.constant(.zero)
        for (i, input) in w.inputs.enumerated() {
            cs.scope("input\(i)") {
                let sk = cs.witness(input.spendingKey.sk)
                let nk = cs.poseidon([sk])
                let pk = cs.poseidon([nk])
                let value = cs.witness(input.value)
                cs.rangeCheck64(value)
                let blinding = cs.witness(input.blinding)
                let cm = cs.poseidon([value, pk, blinding])
                let leafIndex = cs.witness(Fr(UInt64(input.leafIndex)))
                let indexBits = cs.bits(leafIndex, count: depth)
                let path = input.path.map { cs.witness($0) }
                let computedRoot = cs.merkleRoot(leaf: cm, indexBits: indexBits, path: path)
                // (computedRoot − root) · value = 0: the path must lead to root unless value = 0.
                cs.scope("rootIfNonzero") { cs.enforce(computedRoot - root, value, cs.constant(.zero)) }
                let nf = cs.poseidon([nk, cm, leafIndex])
                cs.scope("nullifier") { cs.enforceEqual(nf, nfPublic[i]) }
                inSum = inSum + value
            }
        }
        var outSum = cs.constant(.zero)
        for (i, output) in w.outputs.enumerated() {
            cs.scope("output\(i)") {
                let value = cs.witness(output.value)
                cs.rangeCheck64(value)
                let cm = cs.poseidon([value, cs.witness(output.owner), cs.witness(output.blinding)])
                cs.scope("commitment") { cs.enforceEqual(cm, cmPublic[i]) }
                outSum = outSum + value
            }
        }
        cs.enforceNotEqual(nfPublic[0], nfPublic[1])
        cs.scope("balance") { cs.enforceEqual(inSum + publicAmount, outSum) }
        cs.scope("extDataHash") { _ = cs.mul(extDataHash, extDataHash) }
    }

    /// A witness of the right shape with arbitrary values (for building the shape).
    static var placeholder: TransferWitness {
        let key = SpendingKey(.one)
        let input = TransferInput(value: 0, spendingKey: key, blinding: .zero, leafIndex: 0, path: Array(repeating: .zero, count: depth))
        var second = input
        second.leafIndex = 1
        let output = TransferOutput(value: 0, owner: .zero, blinding: .zero)
        return TransferWitness(root: .zero, publicAmount: .zero, extDataHash: .zero, inputs: [input, second], outputs: [output, output])
    }

    private static let shape: (r1cs: R1CS, gadgets: [String]) = {
        let cs = ConstraintSystem(recording: true)
        synthesize(cs, placeholder)
        return (cs.r1cs, cs.constraintGadgets)
    }()

    /// The constraint system (its shape does not depend on the witness). Built once.
    public static var r1cs: R1CS { shape.r1cs }
    public static var constraintCount: Int { shape.r1cs.constraints.count }
    /// The gadget path of each constraint, for error messages.
    public static var constraintGadgets: [String] { shape.gadgets }

    /// Hex SHA-256 of the R1CS in a canonical byte form: names the circuit in key files and
    /// `/v1/params`; any change to the constraints changes it.
    public static let circuitID: String = {
        var bytes = Array("zksettle/r1cs/v1".utf8)
        func u64(_ v: Int) { for i in (0..<8).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        let r = shape.r1cs
        u64(r.variableCount); u64(r.publicCount); u64(r.constraints.count)
        for c in r.constraints {
            for lc in [c.a, c.b, c.c] {
                u64(lc.count)
                for t in lc { u64(t.variable); bytes += t.coefficient.bigEndianBytes }
            }
        }
        return SHA256.hex(bytes)
    }()

    /// The full assignment z (z[0] = 1, then the 7 public inputs, then private variables).
    /// Throws if the witness has the wrong shape or does not satisfy the circuit (naming the
    /// gadget whose constraint fails): a prover never proves a false statement by accident.
    public static func assignment(_ w: TransferWitness) throws(TransferCircuitError) -> [Fr] {
        guard w.inputs.count == 2, w.outputs.count == 2 else { throw .shape("expected 2 inputs and 2 outputs") }
        for (i, input) in w.inputs.enumerated() {
            guard input.path.count == depth else { throw .shape("input \(i): path of \(input.path.count) siblings, expected \(depth)") }
            guard input.leafIndex >= 0 && input.leafIndex < 1 << depth else { throw .shape("input \(i): leaf index \(input.leafIndex) out of range") }
        }
        let cs = ConstraintSystem(recording: false)
        synthesize(cs, w)
        let z = cs.values
        precondition(z.count == r1cs.variableCount, "witness generation and shape disagree")
        if let bad = r1cs.firstUnsatisfied(z) { throw .unsatisfied(constraint: bad, gadget: constraintGadgets[bad]) }
        return z
    }
}
