import BN254
import Foundation
import Primitives
import Protocol
import TestSupport
import Testing

@Suite struct ExtDataTests {
    let sample = ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: [[1, 2, 3], [4]])

    @Test func encodingLayoutIsTheDocumentedOne() {
        let e = ExtData(recipient: "ab", extAmount: -2, fee: 1, encryptedOutputs: [[9], []])
        let expected: [UInt8] = Array("zksettle/extdata/v1".utf8) + [0, 2, 0x61, 0x62]
            + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe] + [0, 0, 0, 0, 0, 0, 0, 1]
            + [0, 0, 0, 1, 9] + [0, 0, 0, 0]
        #expect(e.canonicalEncoding == expected)
    }

    @Test func hashIsSHA256ReducedModR() {
        let digest = SHA256.hash(sample.canonicalEncoding)
        let value = GMPInteger(decimal: digestDecimal(digest)).mod(GMPInteger.r)
        #expect(GMPInteger(limbs: sample.hash.canonical) == value)
        // SHA-256 itself against a published value.
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func digestDecimal(_ d: [UInt8]) -> String {
        var x = GMPInteger(0)
        for b in d { x = x * GMPInteger(256) + GMPInteger(UInt(b)) }
        return x.description
    }

    @Test func everyFieldChangesTheHash() {
        let base = sample.hash
        var e = sample; e.fee = 1; #expect(e.hash != base)
        e = sample; e.extAmount = 5; #expect(e.hash != base)
        e = sample; e.encryptedOutputs[1] = [5]; #expect(e.hash != base)
        e = sample; e.encryptedOutputs = [[1, 2], [3, 4]]; #expect(e.hash != base)  // lengths are framed
        e = sample; e.recipient = "x"; e.extAmount = -1; #expect(e.hash != base)
    }

    @Test func publicAmountIsExtAmountMinusFeeModR() {
        #expect(ExtData(recipient: "", extAmount: 100, fee: 0, encryptedOutputs: [[], []]).publicAmount == Fr(100))
        #expect(ExtData(recipient: "r", extAmount: -100, fee: 3, encryptedOutputs: [[], []]).publicAmount == -Fr(103))
        #expect(ExtData(recipient: "", extAmount: 0, fee: 7, encryptedOutputs: [[], []]).publicAmount == -Fr(7))
        #expect(ExtData(recipient: "r", extAmount: Int64.min, fee: 0, encryptedOutputs: [[], []]).publicAmount == -Fr(UInt64(1) << 63))
    }

    @Test func canonicalEncodingParsesBackAndRefusesDamage() throws {
        let e = ExtData(recipient: "bank:é", extAmount: -77, fee: 3, encryptedOutputs: [[1, 2, 3], []])
        #expect(try ExtData(canonicalEncoding: e.canonicalEncoding) == e)
        #expect(throws: ExtData.DecodingError.truncated) { try ExtData(canonicalEncoding: Array(e.canonicalEncoding.dropLast())) }
        var tag = e.canonicalEncoding
        tag[0] ^= 1
        #expect(throws: ExtData.DecodingError.wrongTag) { try ExtData(canonicalEncoding: tag) }
    }

    @Test func validationRefusesWhatItShould() {
        #expect(throws: ExtData.Problem.recipientRequiredForWithdrawal) {
            try ExtData(recipient: "", extAmount: -1, fee: 0, encryptedOutputs: [[], []]).validate()
        }
        #expect(throws: ExtData.Problem.recipientOnlyForWithdrawal) {
            try ExtData(recipient: "bob", extAmount: 1, fee: 0, encryptedOutputs: [[], []]).validate()
        }
        #expect(throws: ExtData.Problem.wrongOutputCount(1)) {
            try ExtData(recipient: "", extAmount: 1, fee: 0, encryptedOutputs: [[]]).validate()
        }
        #expect(throws: ExtData.Problem.outputTooLarge(index: 1, bytes: 1025)) {
            try ExtData(recipient: "", extAmount: 1, fee: 0, encryptedOutputs: [[], [UInt8](repeating: 0, count: 1025)]).validate()
        }
        #expect(throws: ExtData.Problem.recipientTooLong(257)) {
            try ExtData(recipient: String(repeating: "a", count: 257), extAmount: -1, fee: 0, encryptedOutputs: [[], []]).validate()
        }
        #expect(throws: ExtData.Problem.feeExceedsWithdrawal) {
            try ExtData(recipient: "r", extAmount: Int64.min + 1, fee: 2, encryptedOutputs: [[], []]).validate()
        }
        #expect(throws: ExtData.Problem.amountOutOfRange) {
            try ExtData(recipient: "r", extAmount: Int64.min, fee: 0, encryptedOutputs: [[], []]).validate()
        }
        #expect(throws: Never.self) { try sample.validate() }
    }
}

@Suite struct MerkleTreeTests {
    /// Reference: the root recomputed from scratch over the full 2^depth leaves of a small prefix.
    func naiveRoot(_ leaves: [Fr]) -> Fr {
        var level = leaves
        for h in 0..<MerkleTree.depth {
            var next: [Fr] = []
            var i = 0
            while i < level.count || (i == 0 && next.isEmpty) {
                let l = i < level.count ? level[i] : MerkleTree.zeros[h]
                let r = i + 1 < level.count ? level[i + 1] : MerkleTree.zeros[h]
                next.append(Poseidon.hash(l, r))
                i += 2
            }
            level = next
        }
        return level[0]
    }

    @Test func emptyTreeRootIsTheZeroChain() {
        let t = MerkleTree()
        #expect(t.root == MerkleTree.zeros[MerkleTree.depth])
        #expect(MerkleTree.zeros[1] == Poseidon.hash(.zero, .zero))
    }

    @Test func batchAppendEqualsOneByOneAndTheNaiveRoot() throws {
        var rng = SeededGenerator(label: "merkle")
        let leaves = (0..<37).map { _ in Fr(rng.next()) }
        var single = MerkleTree()
        for l in leaves { try single.append(l) }
        var batched = MerkleTree()
        try batched.append(contentsOf: Array(leaves[0..<5]))
        try batched.append(contentsOf: Array(leaves[5..<6]))
        try batched.append(contentsOf: Array(leaves[6...]))
        #expect(single.root == batched.root)
        #expect(single.root == naiveRoot(leaves))
        #expect(try MerkleTree(leaves: leaves).root == single.root)
    }

    @Test func aReaderCopyFollowsTheWriterByAdoptingAppendedNodes() throws {
        var rng = SeededGenerator(label: "merkle-adopt")
        var writer = MerkleTree()
        var reader = MerkleTree()
        for size in [1, 3, 2, 8, 1, 16, 5, 0, 7] {
            try writer.append(contentsOf: (0..<size).map { _ in Fr(rng.next()) })
            reader.adoptAppended(from: writer)
            #expect(reader.root == writer.root)
            #expect(reader.count == writer.count)
            for i in 0..<writer.count { #expect(try reader.path(i) == writer.path(i)) }
        }
        #expect(reader.root == (try MerkleTree(leaves: writer.leaves)).root)
    }

    @Test func pathsAuthenticateEveryLeafAndOnlyIt() throws {
        var rng = SeededGenerator(label: "merkle-path")
        let leaves = (0..<21).map { _ in Fr(rng.next()) }
        let t = try MerkleTree(leaves: leaves)
        for (i, leaf) in leaves.enumerated() {
            let path = try t.path(i)
            #expect(path.count == MerkleTree.depth)
            #expect(MerkleTree.root(leaf: leaf, index: i, path: path) == t.root)
            #expect(MerkleTree.root(leaf: leaf + .one, index: i, path: path) != t.root)
            #expect(MerkleTree.root(leaf: leaf, index: i ^ 1, path: path) != t.root)
        }
        #expect(throws: MerkleTreeError.noSuchLeaf(index: 21, count: 21)) { try t.path(21) }
        #expect(throws: MerkleTreeError.self) { try t.path(-1) }
    }
}

extension MerkleTreeTests {
    /// A tree restored from the frontier of any leaf count has the full tree's root, the same
    /// frontier, and appends to the same roots and nodes, at every split of the leaves.
    @Test func aTreeRestoredFromItsFrontierAppendsLikeTheFullTree() throws {
        var rng = SeededGenerator(label: "frontier-16")
        let leaves = (0..<150).map { _ in Fr(rng.next()) }
        let counts = Array(0...70) + [95, 96, 127, 128, 129]
        for n in counts {
            let full = try MerkleTree(leaves: leaves[..<n])
            #expect(full.frontier.count == n.nonzeroBitCount)
            var pruned = try MerkleTree(frontier: full.frontier, count: n)
            #expect(pruned.count == n)
            #expect(pruned.root == full.root, "root at \(n) leaves")
            #expect(pruned.frontier == full.frontier)
            #expect(pruned.holdsAllNodes == (n <= 1))  // offsets are all 0 only for 0 or 1 leaf
            // Append in two uneven steps: roots and the right-edge nodes agree.
            var grown = full
            for step in [1, 3, 17] where n + step <= leaves.count {
                let more = Array(leaves[(pruned.count)..<(pruned.count + step)])
                try pruned.append(contentsOf: more)
                try grown.append(contentsOf: more)
                #expect(pruned.root == grown.root, "root at \(n) + \(step)")
                #expect(pruned.frontier == grown.frontier)
                let last = grown.count - 1
                #expect(pruned.node(height: 0, index: last) == grown.node(height: 0, index: last))
                #expect(pruned.node(height: 5, index: last >> 5) == grown.node(height: 5, index: last >> 5))
            }
        }
        // A full tree: one frontier node, the root.
        #expect(try MerkleTree.root(frontier: [MerkleTree.zeros[MerkleTree.depth]], count: MerkleTree.capacity) == MerkleTree.zeros[MerkleTree.depth])
    }

    @Test func aPrunedTreeServesNoPathAndFollowsAndRevertsThroughTheFullOnes() throws {
        var rng = SeededGenerator(label: "frontier-17")
        let leaves = (0..<40).map { _ in Fr(rng.next()) }
        let before = try MerkleTree(leaves: leaves[..<21])
        let pruned = try MerkleTree(frontier: before.frontier, count: 21)
        #expect(!pruned.holdsAllNodes && before.holdsAllNodes)
        #expect(throws: MerkleTreeError.pruned) { try pruned.path(20) }
        // A full reader adopting a pruned writer takes it whole; the writer's appends follow.
        var reader = try MerkleTree(leaves: leaves[..<13])
        var writer = pruned
        try writer.append(contentsOf: Array(leaves[21..<30]))
        reader.adoptAppended(from: writer)
        let thirty = try MerkleTree(leaves: leaves[..<30])
        #expect(reader.count == 30 && reader.root == thirty.root)
        // Reverting a pruned writer to its earlier self.
        writer.revert(to: pruned)
        #expect(writer.count == 21 && writer.root == before.root)
        try writer.append(contentsOf: Array(leaves[21..<40]))
        let all = try MerkleTree(leaves: leaves)
        #expect(writer.root == all.root)
    }

    @Test func storedFrontiersDecodeOnlyWhenTheyFitTheLeafCount() throws {
        var rng = SeededGenerator(label: "frontier-18")
        let tree = try MerkleTree(leaves: (0..<37).map { _ in Fr(rng.next()) })  // 37 = 0b100101: three nodes
        let bytes = MerkleTree.encodeFrontier(tree.frontier)
        #expect(bytes.count == 96)
        #expect(try MerkleTree.decodeFrontier(bytes, count: 37) == tree.frontier)
        #expect(throws: MerkleTreeError.self) { try MerkleTree.decodeFrontier(bytes, count: 39) }  // 0b100111: four nodes
        #expect(try MerkleTree.decodeFrontier(bytes, count: 38).count == 3)  // 0b100110: three, as bytes (a reader then checks the root)
        #expect(throws: MerkleTreeError.self) { try MerkleTree.decodeFrontier(Array(bytes.dropLast()), count: 37) }
        #expect(throws: MerkleTreeError.self) { try MerkleTree.decodeFrontier(bytes, count: -1) }
        #expect(throws: MerkleTreeError.self) { try MerkleTree.decodeFrontier(bytes, count: MerkleTree.capacity + 1) }
        var nonCanonical = bytes
        for i in 0..<32 { nonCanonical[i] = 0xff }  // ≥ r
        #expect(throws: MerkleTreeError.self) { try MerkleTree.decodeFrontier(nonCanonical, count: 37) }
        #expect(throws: MerkleTreeError.badFrontier(count: 37, nodes: 2)) { try MerkleTree(frontier: Array(tree.frontier.prefix(2)), count: 37) }
        // A wrong node gives a different root: what a writer checks against the batch's root.
        var wrong = tree.frontier
        wrong[1] = wrong[1] + .one
        #expect(try MerkleTree.root(frontier: wrong, count: 37) != tree.root)
    }
}

@Suite struct NoteTests {
    @Test func keysCommitmentsAndNullifiersFollowTheFormulas() {
        var rng = SeededGenerator(label: "note")
        let key = SpendingKey(Fr(rng.next()))
        #expect(key.nullifierKey == Poseidon.hash(key.sk))
        #expect(key.ownerKey == Poseidon.hash(Poseidon.hash(key.sk)))
        let note = Note(value: 42, owner: key.ownerKey, blinding: Fr(rng.next()))
        #expect(note.commitment == Poseidon.hash(Fr(42), key.ownerKey, note.blinding))
        let nf = note.nullifier(nullifierKey: key.nullifierKey, leafIndex: 7)
        #expect(nf == Poseidon.hash(key.nullifierKey, note.commitment, Fr(7)))
        #expect(nf != note.nullifier(nullifierKey: key.nullifierKey, leafIndex: 8))
    }
}

@Suite struct ReceiptTests {
    @Test func signedReceiptsVerifyAndTamperingIsDetected() throws {
        let key = Ed25519Key.generate()
        let r = Receipt(transferID: [UInt8](repeating: 7, count: 32), batch: 3, leafIndices: [10, 11], root: Fr(99), settledAt: 1_700_000_000_000).signed(with: key)
        #expect(r.signature.count == 64)
        #expect(r.verify(publicKey: key.publicKey))
        var t = r; t.batch = 4
        #expect(!t.verify(publicKey: key.publicKey))
        t = r; t.root = Fr(100)
        #expect(!t.verify(publicKey: key.publicKey))
        #expect(!r.verify(publicKey: Ed25519Key.generate().publicKey))
        // The key round-trips through its seed.
        #expect(try Ed25519Key(privateKey: key.privateKey).publicKey == key.publicKey)
        #expect(throws: Ed25519Key.Failure.badKey) { try Ed25519Key(privateKey: [1, 2, 3]) }
    }

    @Test func rfc8032TestVector1() throws {
        // RFC 8032 section 7.1, TEST 1 (empty message).
        func hex(_ s: String) -> [UInt8] { stride(from: 0, to: s.count, by: 2).map { UInt8(String(Array(s)[$0..<$0 + 2]), radix: 16)! } }
        let key = try Ed25519Key(privateKey: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(key.publicKey == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        #expect(key.sign([]) == hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))
    }

    @Test func oneKeySignsFromManyThreadsAtOnce() async {
        // The key keeps one OpenSSL key for all its signatures (the server signs receipts and
        // vouchers concurrently): Ed25519 is deterministic, so every thread gets the same bytes.
        let key = Ed25519Key.generate()
        let messages = (0..<16).map { i in Array("receipt \(i)".utf8) }
        let expected = messages.map { key.sign($0) }
        let results = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for _ in 0..<8 {
                for (i, m) in messages.enumerated() { group.addTask { (i, key.sign(m)) } }
            }
            return await group.reduce(into: [(Int, [UInt8])]()) { $0.append($1) }
        }
        #expect(results.count == 128)
        #expect(results.allSatisfy { expected[$0.0] == $0.1 })
        #expect(results.allSatisfy { Ed25519Key.verify(publicKey: key.publicKey, message: messages[$0.0], signature: $0.1) })
        #expect(!Ed25519Key.verify(publicKey: key.publicKey, message: messages[1], signature: expected[0]))
    }
}

/// `ServerAnswer.params` reads the server's minimum fee strictly (issue 14, point 4).
@Suite struct ParamsAnswerTests {
    static func body(minFee: Any?) -> Data {
        var o: [String: Any] = ["circuit_id": "transfer-v1", "receipt_public_key": String(repeating: "ab", count: 32),
                                "verifying_key": ["protocol": "groth16"]]
        if let minFee { o["min_fee"] = minFee }
        return try! JSONSerialization.data(withJSONObject: o)
    }

    @Test func minFeeIsADecimalStringAndAbsentMeansZero() throws {
        #expect(try ServerAnswer.params(Self.body(minFee: "7")).minFee == 7)
        #expect(try ServerAnswer.params(Self.body(minFee: "0")).minFee == 0)
        #expect(try ServerAnswer.params(Self.body(minFee: String(Int64.max))).minFee == UInt64(Int64.max))
        #expect(try ServerAnswer.params(Self.body(minFee: nil)).minFee == 0, "servers before issue 14 took free transfers")
        for bad: Any in [7, "-1", "", "1e3", " 7", "0x10", String(UInt64(Int64.max) + 1), "99999999999999999999999"] {
            #expect(throws: ServerAnswer.Malformed.self, "\(bad)") { try ServerAnswer.params(Self.body(minFee: bad)) }
        }
    }
}
