import BN254

/// The tree cut at two heights, published alike to every wallet (`GET /v1/tree/subtrees`, as
/// lightwalletd's `GetSubtreeRoots`): the nodes at height 5 (groups of 32 leaves) and at
/// height 10 (chunks of 1,024). From them a wallet checks and builds everything it needs for
/// its own notes while hashing only what is its own: 31 hashes for its group of 32 leaves,
/// 31 for its chunk's 32 group nodes, up to 1,023 for the top over the chunk roots. It never
/// asks the server for a path, which would name the note it is about to spend.
extension MerkleTree {
    /// Height of the published group nodes (32 leaves each).
    public static let groupHeight = 5
    /// Height of the published chunk roots (1,024 leaves, 32 groups each).
    public static let chunkHeight = 10
    /// The heights `GET /v1/tree/subtrees` serves.
    public static let publishedHeights = [groupHeight, chunkHeight]

    /// Nodes that exist at `height` in a full tree.
    public static func nodes(atHeight height: Int) -> Int { 1 << (depth - height) }

    /// Complete subtrees at `height`: their roots never change again.
    public func completeNodes(atHeight height: Int) -> Int { count >> height }
}

/// A left-filled binary tree of a given height over the leaves it has, the rest empty (the
/// zero subtree values of `MerkleTree`). Hashes only filled nodes: n leaves cost about n hashes.
/// The wallet builds one per subtree it holds leaves of, and one over the subtree roots.
public struct SparseMerkleTree: Sendable {
    public let height: Int
    /// levels[h] are the filled nodes at height h (levels[0] the leaves).
    private var levels: [[Fr]]

    /// `leaves` from the left; `bottom` is the height of the leaves in the whole tree (0 for
    /// leaves, `MerkleTree.subtreeHeight` for subtree roots), which picks the empty values.
    public init(leaves: [Fr], height: Int, bottom: Int = 0) {
        precondition(leaves.count <= 1 << height, "more leaves than a tree of height \(height) holds")
        self.height = height
        var levels: [[Fr]] = [leaves]
        for h in 0..<height {
            let below = levels[h]
            var up: [Fr] = []
            up.reserveCapacity((below.count + 1) / 2)
            var i = 0
            while i < below.count {
                let right = i + 1 < below.count ? below[i + 1] : MerkleTree.zeros[bottom + h]
                up.append(Poseidon.hash(below[i], right))
                i += 2
            }
            levels.append(up)
        }
        self.levels = levels
        self.bottom = bottom
    }

    private let bottom: Int

    public var root: Fr { node(height: height, index: 0) }
    public var count: Int { levels[0].count }

    public func node(height h: Int, index: Int) -> Fr {
        index < levels[h].count ? levels[h][index] : MerkleTree.zeros[bottom + h]
    }

    /// The siblings of leaf `index`, bottom up (`height` of them).
    public func path(_ index: Int) -> [Fr] {
        var i = index
        var out: [Fr] = []
        out.reserveCapacity(height)
        for h in 0..<height {
            out.append(node(height: h, index: i ^ 1))
            i >>= 1
        }
        return out
    }
}
