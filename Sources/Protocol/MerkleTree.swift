import BN254

/// The commitment tree of DESIGN.md section 4: binary, depth 20, node = H2(left, right),
/// empty leaf 0. Incremental: leaves are appended left to right; every filled node is kept,
/// so authentication paths for any leaf are served from memory.
///
/// Appending a batch of k leaves rehashes each touched node once, about k + depth hashes,
/// instead of depth hashes per leaf.
public struct MerkleTree: Sendable {
    public static let depth = TransferStatement.depth
    /// The empty tree's root: the first anchor of every ledger.
    public static var emptyRoot: Fr { zeros[depth] }
    public static let capacity = 1 << depth

    /// zeros[i] is the root of an empty subtree of height i (zeros[0] = 0, the empty leaf).
    public static let zeros: [Fr] = {
        var z = [Fr.zero]
        for i in 0..<depth { z.append(Poseidon.hash(z[i], z[i])) }
        return z
    }()

    /// levels[0] are the leaves; levels[i] the filled nodes at height i.
    private var levels: [[Fr]]

    public init() { levels = Array(repeating: [], count: Self.depth + 1) }

    /// Rebuilds the tree from its leaves (used when the server starts from its ledger).
    public init<S: Sequence>(leaves: S) throws(MerkleTreeError) where S.Element == Fr {
        self.init()
        try append(contentsOf: Array(leaves))
    }

    public var count: Int { levels[0].count }
    public var leaves: [Fr] { levels[0] }

    public var root: Fr { node(height: Self.depth, index: 0) }

    /// The node at (height, index), or the empty-subtree value where nothing was appended.
    public func node(height: Int, index: Int) -> Fr {
        index < levels[height].count ? levels[height][index] : Self.zeros[height]
    }

    /// Appends leaves; returns the index of the first.
    @discardableResult
    public mutating func append(contentsOf newLeaves: [Fr]) throws(MerkleTreeError) -> Int {
        let first = count
        guard first + newLeaves.count <= Self.capacity else { throw .full(capacity: Self.capacity) }
        if newLeaves.isEmpty { return first }
        levels[0].append(contentsOf: newLeaves)
        var lo = first  // first changed index at this height
        for h in 0..<Self.depth {
            let parentLo = lo / 2
            let parentHi = (levels[h].count - 1) / 2
            for p in parentLo...parentHi {
                let v = Poseidon.hash(node(height: h, index: 2 * p), node(height: h, index: 2 * p + 1))
                if p < levels[h + 1].count { levels[h + 1][p] = v } else { levels[h + 1].append(v) }
            }
            lo = parentLo
        }
        return first
    }

    @discardableResult
    public mutating func append(_ leaf: Fr) throws(MerkleTreeError) -> Int { try append(contentsOf: [leaf]) }

    /// Takes over the leaves `other` appended beyond this tree's, copying the nodes they changed
    /// (about k + depth values for k new leaves) instead of hashing again. `other` must be this
    /// tree with leaves appended. Lets a reader's copy follow a writer's tree in O(k), where
    /// assigning the whole tree would copy every level once the two share storage.
    public mutating func adoptAppended(from other: MerkleTree) {
        precondition(other.count >= count, "adoptAppended: the other tree is smaller")
        let oldCount = count
        for h in 0...Self.depth {
            let lo = oldCount >> h
            let src = other.levels[h]
            if lo < levels[h].count { levels[h].removeSubrange(lo...) }
            if lo < src.count { levels[h].append(contentsOf: src[lo...]) }
        }
    }

    /// Undoes appends: back to `other`, which is this tree before leaves were appended to it
    /// (the same leaves up to `other.count`). Copies the few nodes that differ (the right edge,
    /// one node a height) and drops the rest: O(depth + appended), no hashing.
    public mutating func revert(to other: MerkleTree) {
        precondition(other.count <= count, "revert: the other tree is larger")
        for h in 0...Self.depth {
            let lo = other.count >> h
            if lo < levels[h].count { levels[h].removeSubrange(lo...) }
            if lo < other.levels[h].count { levels[h].append(contentsOf: other.levels[h][lo...]) }
        }
    }

    /// The authentication path of a leaf: its sibling at each height, bottom up.
    public func path(_ index: Int) throws(MerkleTreeError) -> [Fr] {
        guard index >= 0 && index < count else { throw .noSuchLeaf(index: index, count: count) }
        var i = index
        var out: [Fr] = []
        out.reserveCapacity(Self.depth)
        for h in 0..<Self.depth {
            out.append(node(height: h, index: i ^ 1))
            i >>= 1
        }
        return out
    }

    /// The root implied by a leaf, its index and its path (the check the circuit makes).
    public static func root(leaf: Fr, index: Int, path: [Fr]) -> Fr {
        var acc = leaf
        var i = index
        for sibling in path {
            acc = i & 1 == 0 ? Poseidon.hash(acc, sibling) : Poseidon.hash(sibling, acc)
            i >>= 1
        }
        return acc
    }
}

public enum MerkleTreeError: Error, Equatable, CustomStringConvertible, Sendable {
    case full(capacity: Int)
    case noSuchLeaf(index: Int, count: Int)

    public var description: String {
        switch self {
        case .full(let c): return "the commitment tree is full (\(c) leaves)"
        case .noSuchLeaf(let i, let n): return "no leaf \(i): the tree has \(n) leaves"
        }
    }
}
