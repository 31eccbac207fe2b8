import BN254
import Protocol

/// Honest random transfers, for benchmarks, exports and tests: two real input notes placed in
/// a tree among filler leaves, outputs that balance, a random extDataHash.
public enum TransferExample {
    public static func random<G: RandomNumberGenerator>(using rng: inout G) -> TransferWitness {
        func fr() -> Fr { Fr(reducingBigEndian: (0..<6).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }) }
        let keys = [SpendingKey(fr()), SpendingKey(fr())]
        let values: [UInt64] = [UInt64.random(in: 1...1_000_000, using: &rng), UInt64.random(in: 1...1_000_000, using: &rng)]
        let notes = zip(values, keys).map { Note(value: $0, owner: $1.ownerKey, blinding: fr()) }
        var tree = MerkleTree()
        // Cannot fail: a handful of leaves in an empty depth-20 tree.
        try! tree.append(contentsOf: [fr(), notes[0].commitment, fr(), fr(), notes[1].commitment])
        let inputs = [(notes[0], keys[0], 1), (notes[1], keys[1], 4)].map { note, key, index in
            TransferInput(value: note.value, spendingKey: key, blinding: note.blinding, leafIndex: index, path: try! tree.path(index))
        }
        let total = values[0] + values[1]
        let split = UInt64.random(in: 0...total, using: &rng)
        let outputs = [TransferOutput(value: split, owner: fr(), blinding: fr()), TransferOutput(value: total - split, owner: fr(), blinding: fr())]
        return TransferWitness(root: tree.root, publicAmount: .zero, extDataHash: fr(), inputs: inputs, outputs: outputs)
    }
}
