import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Primitives
import Protocol

/// A note this wallet can spend: the note, its key, and where it sits in the tree.
public struct SpendableNote: Sendable {
    public var note: Note
    public var key: SpendingKey
    public var leafIndex: Int
    /// Authentication path against the root the proof will name (bottom-up siblings).
    public var path: [Fr]

    public init(note: Note, key: SpendingKey, leafIndex: Int, path: [Fr]) {
        self.note = note; self.key = key; self.leafIndex = leafIndex; self.path = path
    }

    public var nullifier: Fr { note.nullifier(nullifierKey: key.nullifierKey, leafIndex: leafIndex) }
}

/// Builds and proves transfers of the 2-in/2-out circuit (DESIGN.md section 4): the part of a
/// wallet that turns notes, outputs and external data into a `TransferRequest`.
///
/// Every proof is verified before `prove` returns it (about 2 ms), against `verifyingKey`: the
/// wallet passes the pinned one, so a proof that the pinned key would refuse, from a broken or
/// subverted proving key, never leaves the wallet.
public final class TransferProver: @unchecked Sendable {
    public let provingKey: ProvingKey
    /// The key every proof is checked against before it is returned.
    public let verifyingKey: PreparedVerifyingKey

    /// `verifyingKey` defaults to the proving key's own (a self-consistency check only).
    public init(provingKey: ProvingKey, verifyingKey: VerifyingKey? = nil) {
        self.provingKey = provingKey
        self.verifyingKey = PreparedVerifyingKey(verifyingKey ?? provingKey.verifyingKey)
    }

    public enum Failure: Error, CustomStringConvertible {
        case tooManyInputs(Int)
        case wrongOutputCount(Int)
        case unbalanced(inputs: UInt64, publicAmount: Int64, outputs: UInt64)
        /// The proof does not verify against `verifyingKey`: it is not returned.
        case selfCheckFailed

        public var description: String {
            switch self {
            case .tooManyInputs(let n): return "a transfer spends at most 2 notes, got \(n): merge notes first"
            case .wrongOutputCount(let n): return "a transfer creates exactly 2 notes, got \(n)"
            case .unbalanced(let i, let p, let o):
                return "values do not balance: inputs \(i) + (extAmount − fee) \(p) ≠ outputs \(o)"
            case .selfCheckFailed:
                return "the proof just made does not verify against the pinned verifying key (the proving key does not fit it): nothing was sent"
            }
        }
    }

    /// Proves a transfer spending `inputs` (0…2 notes; the rest are dummies of value 0) into
    /// `outputs` (2 notes), binding `extData`. `root` is the root the input paths lead to.
    public func prove(inputs: [SpendableNote], outputs: [Note], extData: ExtData, root: Fr,
                      progress: ((String, Double) -> Void)? = nil) throws -> TransferRequest {
        guard inputs.count <= 2 else { throw Failure.tooManyInputs(inputs.count) }
        guard outputs.count == 2 else { throw Failure.wrongOutputCount(outputs.count) }
        let inSum = inputs.reduce(UInt64(0)) { $0 &+ $1.note.value }
        let outSum = outputs.reduce(UInt64(0)) { $0 &+ $1.value }
        let net = extData.extAmount - Int64(clamping: extData.fee)
        guard Int64(clamping: inSum) + net == Int64(clamping: outSum) else {
            throw Failure.unbalanced(inputs: inSum, publicAmount: net, outputs: outSum)
        }
        var spent = inputs
        while spent.count < 2 { spent.append(Self.dummy()) }
        let witness = TransferWitness(
            root: root, publicAmount: extData.publicAmount, extDataHash: extData.hash,
            inputs: spent.map { TransferInput(value: $0.note.value, spendingKey: $0.key, blinding: $0.note.blinding, leafIndex: $0.leafIndex, path: $0.path) },
            outputs: outputs.map { TransferOutput(value: $0.value, owner: $0.owner, blinding: $0.blinding) })
        let z = try TransferCircuit.assignment(witness)
        let proof = try Prover.prove(provingKey: provingKey, r1cs: TransferCircuit.r1cs, assignment: z,
                                     progress: progress.map { p in { stage, fraction in p(stage.rawValue, fraction) } })
        let publicInputs = try TransferPublicInputs(witness.publicInputs)
        guard (try? Groth16.verify(verifyingKey, proof: proof, publicInputs: publicInputs.array)) == true else {
            throw Failure.selfCheckFailed
        }
        return TransferRequest(proof: proof, publicInputs: publicInputs, extData: extData)
    }

    /// A dummy input: value 0 under a fresh random key, so its nullifier is unique. (Passing
    /// the same dummy to several transfers makes them conflict: the load tests' storms do.)
    public static func dummy() -> SpendableNote {
        let key = SpendingKey(SecureRandom.scalar())
        return SpendableNote(note: Note(value: 0, owner: key.ownerKey, blinding: SecureRandom.scalar()), key: key,
                             leafIndex: 0, path: Array(repeating: .zero, count: MerkleTree.depth))
    }
}
