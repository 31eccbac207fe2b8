import BN254
import Foundation

/// `GET /v1/tree`: the commitment trees as they stand.
///
///     {"root", "leaf_count", "depth", "tree", "tree_leaf_count", "tree_capacity", "last_batch",
///      "accepted_roots"}
///
/// `root` is the open tree's, `leaf_count` counts the leaves of every tree (leaves are numbered
/// across trees), `accepted_roots` are the most recent roots (every past root is accepted).
/// `open_trees` lists each tree that accepts leaves, as the answering node last learned it
/// (`[{"tree", "leaf_count", "last_batch", "root"}]`; one entry, the open tree, on a ledger of
/// one open tree); `root`, `tree` and `tree_leaf_count` are then the answering node's own lane's.
public struct TreeAnswer: Sendable, Equatable {
    public struct OpenTree: Sendable, Equatable {
        public var tree: Int64
        public var leafCount: Int
        public var lastBatch: Int64
        public var root: Fr
        public init(tree: Int64, leafCount: Int, lastBatch: Int64, root: Fr) {
            self.tree = tree; self.leafCount = leafCount; self.lastBatch = lastBatch; self.root = root
        }
    }

    public var root: Fr
    public var leafCount: Int
    public var tree: Int64 = 0
    public var treeLeafCount: Int = 0
    public var treeCapacity: Int = 1 << 20
    public var lastBatch: Int64 = 0
    public var acceptedRoots: [Fr] = []
    public var openTrees: [OpenTree] = []

    public init(root: Fr, leafCount: Int, tree: Int64, treeLeafCount: Int, treeCapacity: Int, lastBatch: Int64, acceptedRoots: [Fr]) {
        self.root = root; self.leafCount = leafCount; self.tree = tree; self.treeLeafCount = treeLeafCount
        self.treeCapacity = treeCapacity; self.lastBatch = lastBatch; self.acceptedRoots = acceptedRoots
    }

    init(root: Fr, leafCount: Int) { self.root = root; self.leafCount = leafCount }

    public func encode() -> Data {
        JSONWriter.encode([
            "root": root.decimalString, "leaf_count": leafCount, "depth": MerkleTree.depth,
            "tree": tree, "tree_leaf_count": treeLeafCount, "tree_capacity": treeCapacity,
            "last_batch": lastBatch, "accepted_roots": acceptedRoots.map(\.decimalString),
            "open_trees": openTrees.map { ["tree": $0.tree, "leaf_count": $0.leafCount, "last_batch": $0.lastBatch, "root": $0.root.decimalString] },
        ])
    }

    /// The root and the leaf count strictly (what the wallet proves against); the rest when
    /// present and well-formed (servers before trees sent none of it).
    public static func decode(_ data: Data) throws(ServerAnswer.Malformed) -> TreeAnswer {
        let o = try ServerAnswer.object(data, "/v1/tree")
        guard let root = ServerAnswer.fr(o["root"]), let n = ServerAnswer.int(o["leaf_count"]), n >= 0 else {
            throw ServerAnswer.Malformed("/v1/tree: no root or leaf count")
        }
        var out = TreeAnswer(root: root, leafCount: n)
        if let t = ServerAnswer.int(o["tree"]), t >= 0 { out.tree = Int64(t) }
        if let t = ServerAnswer.int(o["tree_leaf_count"]), t >= 0 { out.treeLeafCount = t }
        if let c = ServerAnswer.int(o["tree_capacity"]), ServerAnswer.isTreeCapacity(c) { out.treeCapacity = c }
        if let b = ServerAnswer.int(o["last_batch"]), b >= 0 { out.lastBatch = Int64(b) }
        out.acceptedRoots = (o["accepted_roots"] as? [Any])?.compactMap { ServerAnswer.fr($0) } ?? []
        out.openTrees = ((o["open_trees"] as? [Any]) ?? []).prefix(ServerAnswer.maxOpenTrees).compactMap { item -> OpenTree? in
            guard let e = item as? [String: Any], let t = ServerAnswer.int(e["tree"]), t >= 0, let n = ServerAnswer.int(e["leaf_count"]), n >= 0,
                  let b = ServerAnswer.int(e["last_batch"]), b >= 0, let r = ServerAnswer.fr(e["root"]) else { return nil }
            return OpenTree(tree: Int64(t), leafCount: n, lastBatch: Int64(b), root: r)
        }
        return out
    }
}

/// `GET /v1/tree/path/{leaf}`: a leaf's authentication path in its own tree.
///
///     {"leaf_index", "tree", "position", "commitment", "root", "path": [depth decimals]}
public struct PathAnswer: Sendable, Equatable {
    public var leafIndex: Int64
    public var tree: Int64
    public var position: Int
    public var commitment: Fr
    public var root: Fr
    public var path: [Fr]

    public init(leafIndex: Int64, tree: Int64, position: Int, commitment: Fr, root: Fr, path: [Fr]) {
        self.leafIndex = leafIndex; self.tree = tree; self.position = position; self.commitment = commitment
        self.root = root; self.path = path
    }

    public func encode() -> Data {
        JSONWriter.encode([
            "leaf_index": leafIndex, "tree": tree, "position": position,
            "commitment": commitment.decimalString, "root": root.decimalString, "path": path.map(\.decimalString),
        ])
    }

    public static func decode(_ data: Data) throws(ServerAnswer.Malformed) -> PathAnswer {
        let o = try ServerAnswer.object(data, "/v1/tree/path")
        guard let i = ServerAnswer.int(o["leaf_index"]), i >= 0, let t = ServerAnswer.int(o["tree"]), t >= 0,
              let p = ServerAnswer.int(o["position"]), p >= 0, let cm = ServerAnswer.fr(o["commitment"]), let root = ServerAnswer.fr(o["root"]),
              let list = o["path"] as? [Any], list.count == MerkleTree.depth else {
            throw ServerAnswer.Malformed("/v1/tree/path: not a leaf's path")
        }
        let path = list.compactMap { ServerAnswer.fr($0) }
        guard path.count == list.count else { throw ServerAnswer.Malformed("/v1/tree/path: a node is not a field element") }
        return PathAnswer(leafIndex: Int64(i), tree: Int64(t), position: p, commitment: cm, root: root, path: path)
    }
}

extension ServerAnswer {
    /// `GET /v1/tree`: the current root and leaf count (`TreeAnswer.decode`).
    public static func tree(_ data: Data) throws(Malformed) -> (root: Fr, leafCount: Int) {
        let t = try TreeAnswer.decode(data)
        return (t.root, t.leafCount)
    }
}
