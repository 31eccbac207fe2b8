import BN254

/// The commitment tree of DESIGN.md section 4: binary, depth 20, node = H2(left, right),
/// empty leaf 0. Incremental: leaves are appended left to right; every filled node is kept,
/// so authentication paths for any leaf are served from memory.
///
/// Appending a batch of k leaves rehashes each touched node once, about k + depth hashes,
/// instead of depth hashes per leaf.
///
/// A tree can also start from its *frontier* (issue 16): the roots of the complete subtrees
/// left of the next leaf, one per set bit of the leaf count, at most depth + 1 of them. That is
/// all appending needs, so a writer that learns a tree from the frontier stored with a batch
/// appends and computes roots without replaying the leaves before it. Such a tree is *pruned*:
/// it holds the nodes from its frontier rightwards only, and answers no path or node left of it.
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

    /// levels[h] are the filled nodes at height h from index offsets[h] on (levels[0] the
    /// leaves). Every offset is 0 unless the tree was restored from a frontier.
    private var levels: [[Fr]]
    private var offsets: [Int]

    public init() {
        levels = Array(repeating: [], count: Self.depth + 1)
        offsets = Array(repeating: 0, count: Self.depth + 1)
    }

    /// The tree of `count` leaves whose frontier is `frontier` (as `frontier` returns it,
    /// bottom up, one node per set bit of `count`). Pruned: it appends and has a root, and
    /// holds no node left of the frontier. About depth hashes (the right edge above it).
    public init(frontier: [Fr], count: Int) throws(MerkleTreeError) {
        guard count >= 0, count <= Self.capacity else { throw .full(capacity: Self.capacity) }
        guard frontier.count == count.nonzeroBitCount else { throw .badFrontier(count: count, nodes: frontier.count) }
        self.init()
        var next = frontier.makeIterator()
        // Bottom up: the complete node left of the edge where bit h is set, then the partial
        // node on the edge (present where a lower bit is set), hashed from the two below.
        var partialBelow: Fr? = nil
        for h in 0...Self.depth {
            let index = count >> h
            if h > 0 && count & ((1 << h) - 1) != 0 {
                // The partial node at `index`, from its children at h − 1: 2·index and 2·index + 1.
                let below = h - 1
                let left: Fr, right: Fr
                if (count >> below) & 1 == 1 {
                    left = levels[below][0]  // the complete node 2·index
                    right = partialBelow ?? Self.zeros[below]
                } else {
                    left = partialBelow ?? Self.zeros[below]
                    right = Self.zeros[below]
                }
                partialBelow = Poseidon.hash(left, right)
            } else {
                partialBelow = nil
            }
            if (count >> h) & 1 == 1 {
                offsets[h] = index - 1
                levels[h] = [next.next()!]
            } else {
                offsets[h] = index
            }
            if let p = partialBelow { levels[h].append(p) }
        }
    }

    /// The frontier: for each set bit h of `count`, bottom up, the root of the complete subtree
    /// of height h that ends at the last leaf's side (the node at index count >> h − 1).
    public var frontier: [Fr] {
        let n = count
        return (0...Self.depth).compactMap { h in (n >> h) & 1 == 1 ? node(height: h, index: (n >> h) - 1) : nil }
    }

    /// Whether every node is held (false for a tree restored from a frontier, which then
    /// serves no path or subtree left of it).
    public var holdsAllNodes: Bool { offsets.allSatisfy { $0 == 0 } }

    /// The root of the tree of `count` leaves with `frontier`, without building it.
    public static func root(frontier: [Fr], count: Int) throws(MerkleTreeError) -> Fr {
        try MerkleTree(frontier: frontier, count: count).root
    }

    /// The frontier as stored beside a batch: its nodes' canonical 32-byte big-endian
    /// encodings, bottom up.
    public static func encodeFrontier(_ frontier: [Fr]) -> [UInt8] { frontier.flatMap(\.bigEndianBytes) }

    /// The frontier stored for a tree of `count` leaves; throws unless it is exactly one
    /// canonical field element per set bit of `count`.
    public static func decodeFrontier(_ bytes: [UInt8], count: Int) throws(MerkleTreeError) -> [Fr] {
        guard count >= 0, count <= capacity, bytes.count == 32 * count.nonzeroBitCount else {
            throw .badFrontier(count: count, nodes: bytes.count / 32)
        }
        var out: [Fr] = []
        for k in 0..<(bytes.count / 32) {
            do { out.append(try Fr(bigEndian: bytes[(32 * k)..<(32 * k + 32)])) } catch { throw .badFrontier(count: count, nodes: bytes.count / 32) }
        }
        return out
    }

    /// Rebuilds the tree from its leaves (used when the server starts from its ledger).
    public init<S: Sequence>(leaves: S) throws(MerkleTreeError) where S.Element == Fr {
        self.init()
        try append(contentsOf: Array(leaves))
    }

    public var count: Int { offsets[0] + levels[0].count }
    /// Every leaf, in order (a tree that holds all its nodes).
    public var leaves: [Fr] {
        precondition(offsets[0] == 0, "a pruned tree holds no leaves left of its frontier")
        return levels[0]
    }

    public var root: Fr { node(height: Self.depth, index: 0) }

    /// The node at (height, index), or the empty-subtree value where nothing was appended.
    /// A pruned tree holds no node left of its frontier: asking for one is a programming error.
    public func node(height: Int, index: Int) -> Fr {
        let k = index - offsets[height]
        precondition(k >= 0, "node (\(height), \(index)) is left of this pruned tree's frontier")
        return k < levels[height].count ? levels[height][k] : Self.zeros[height]
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
            let parentHi = (offsets[h] + levels[h].count - 1) / 2
            let up = offsets[h + 1]
            for p in parentLo...parentHi {
                let v = Poseidon.hash(node(height: h, index: 2 * p), node(height: h, index: 2 * p + 1))
                if p - up < levels[h + 1].count { levels[h + 1][p - up] = v } else { levels[h + 1].append(v) }
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
        // `other` restored from a later frontier holds too little to copy from: take it whole
        // (a pruned tree is small).
        if (0...Self.depth).contains(where: { other.offsets[$0] > oldCount >> $0 }) { self = other; return }
        for h in 0...Self.depth {
            copyEdge(height: h, from: oldCount >> h, of: other)
        }
    }

    /// Whether `adoptAppended(from: other)` can copy `other`'s new nodes: `other` is this tree
    /// with leaves appended and holds every node right of this tree's edge.
    public func canAdoptAppended(from other: MerkleTree) -> Bool {
        other.count >= count && (0...Self.depth).allSatisfy { other.offsets[$0] <= count >> $0 }
    }

    /// Replaces the nodes at `height` from index `lo` on with `other`'s (both hold `lo`).
    private mutating func copyEdge(height h: Int, from lo: Int, of other: MerkleTree) {
        let mine = lo - offsets[h], theirs = lo - other.offsets[h]
        if mine < levels[h].count { levels[h].removeSubrange(mine...) }
        if theirs < other.levels[h].count { levels[h].append(contentsOf: other.levels[h][theirs...]) }
    }

    /// Undoes appends: back to `other`, which is this tree before leaves were appended to it
    /// (the same leaves up to `other.count`). Copies the few nodes that differ (the right edge,
    /// one node a height) and drops the rest: O(depth + appended), no hashing.
    public mutating func revert(to other: MerkleTree) {
        precondition(other.count <= count, "revert: the other tree is larger")
        if (0...Self.depth).contains(where: { offsets[$0] > other.count >> $0 || other.offsets[$0] > other.count >> $0 }) { self = other; return }
        for h in 0...Self.depth {
            copyEdge(height: h, from: other.count >> h, of: other)
        }
    }

    /// The authentication path of a leaf: its sibling at each height, bottom up.
    public func path(_ index: Int) throws(MerkleTreeError) -> [Fr] {
        guard index >= 0 && index < count else { throw .noSuchLeaf(index: index, count: count) }
        guard holdsAllNodes else { throw .pruned }
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
    /// A frontier that is not one node per set bit of the leaf count, or not canonical.
    case badFrontier(count: Int, nodes: Int)
    /// A path asked of a tree restored from its frontier, which holds no leaves before it.
    case pruned
    /// A stored frontier that does not give the root of the batch it was stored with.
    case frontierNotRoot(count: Int)

    public var description: String {
        switch self {
        case .badFrontier(let n, let k): return "a frontier of a tree of \(n) leaves has \(n.nonzeroBitCount) nodes, not \(k) (or one is not canonical)"
        case .pruned: return "this tree was restored from its frontier and holds no path"
        case .frontierNotRoot(let n): return "the stored frontier of a tree of \(n) leaves does not give its batch's root"
        case .full(let c): return "the commitment tree is full (\(c) leaves)"
        case .noSuchLeaf(let i, let n): return "no leaf \(i): the tree has \(n) leaves"
        }
    }
}
