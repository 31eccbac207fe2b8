import BN254
import Foundation
import Hummingbird
import Ledger
import Protocol
import Settlement

/// The public state every wallet reads alike: the tree (`GET /v1/tree`), leaf paths, published
/// subtree nodes, the notes, the spent nullifiers and batch headers. Each answer is a wire type
/// of Protocol/Wire (or the ledger's record JSON), the same for every asker.
struct TreeController: Sendable {
    let service: SettlementService

    static let maxNotesPerPage = 10_000
    static let maxSubtreesPerPage = 10_000
    static let maxSpendsPerPage = 20_000
    /// The largest leaf index a query may start from: leaves are numbered across trees
    /// (issue 14), so the bound is no tree's capacity; 2^40 is a million full trees.
    static let maxLeafIndex = 1 << 40

    func tree() -> Response {
        let s = service.treeSummary
        var answer = TreeAnswer(root: s.root, leafCount: s.leafCount, tree: s.tree, treeLeafCount: s.treeLeafCount,
                                treeCapacity: s.capacity, lastBatch: s.lastBatch, acceptedRoots: s.acceptedRoots)
        answer.openTrees = service.laneSummary.map { .init(tree: $0.tree, leafCount: $0.leafCount, lastBatch: $0.lastBatch, root: $0.root) }
        return jsonResponse(data: answer.encode())
    }

    /// The path of a leaf (global index) in its own tree; a leaf of a closed tree is answered
    /// from that tree rebuilt off the ledger (on the reader threads).
    func path(_ text: String) async throws -> Response {
        guard let index = Int64(text), index >= 0 else { throw APIError.malformed("leaf index: expected a non-negative integer") }
        let service = self.service
        let p: (tree: Int64, position: Int, leaf: Fr, root: Fr, path: [Fr])
        do {
            p = try await service.read { _ in try service.path(leafIndex: index) }
        } catch let e as MerkleTreeError {
            throw APIError.notFound(e.description)
        } catch let e as SettlementService.NoSuchTree {
            throw APIError.notFound(e.description)
        }
        return jsonResponse(data: PathAnswer(leafIndex: index, tree: p.tree, position: p.position, commitment: p.leaf, root: p.root, path: p.path).encode())
    }

    /// `tree=T&from=P`: positions P… of tree T, gap-free within the tree (every wallet pages
    /// each tree so, issue 16). Without `tree` (one open tree only): leaves from global index
    /// `from` in the order of the one tree that grows, as wallets before several trees asked.
    func notes(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: 1000)
        let capacity = service.treeCapacity, openTrees = service.openTrees
        let tree = try requestedTree(query)
        guard tree != nil || openTrees == 1 else { throw severalTrees("notes") }
        // (With a tree, a position past its end simply gives an empty page.)
        guard from >= 0, from <= Self.maxLeafIndex, limit >= 1, limit <= Self.maxNotesPerPage else {
            throw APIError.malformed("from must be between 0 and \(Self.maxLeafIndex) (a position in the tree with tree=, else a leaf index across trees) and limit between 1 and \(Self.maxNotesPerPage)")
        }
        let (first, end) = Self.span(tree, from: from, capacity: capacity)
        let (leaves, times) = try await service.ledgerRead { ledger in
            let leaves = try ledger.leaves(from: first, below: end, limit: limit)
            return (leaves, try ledger.batchTimes(leaves.map(\.batch)))
        }
        let page = ServerAnswer.NotesPage(
            notes: leaves.map { .init(leafIndex: Int($0.index), commitment: $0.commitment, ciphertext: $0.encryptedOutput, batch: $0.batch,
                                      settledAt: times[$0.batch]) },
            next: from + leaves.count, leafCount: service.leafCount, treeCapacity: capacity, openTrees: openTrees)
        return jsonResponse(data: ServerAnswer.encode(page, tree: tree, from: from))
    }

    /// The global indices a page from `from` reads: within tree `tree` (positions), or from
    /// global index `from` on (no tree).
    static func span(_ tree: Int?, from: Int, capacity: Int) -> (first: Int64, end: Int64) {
        guard let tree else { return (Int64(from), .max) }
        return (Int64(tree * capacity + from), Int64((tree + 1) * capacity))
    }

    /// The `tree` of a paged query (nil when not asked). A tree that does not exist has no
    /// leaves: its pages are empty.
    private func requestedTree(_ query: Hummingbird.Parameters) throws -> Int? {
        guard query.get("tree") != nil else { return nil }
        let t = try queryInt(query, "tree", default: 0)
        guard t >= 0, t <= Self.maxLeafIndex else { throw APIError.malformed("tree must be between 0 and \(Self.maxLeafIndex)") }
        return t
    }

    /// A global page asked of a ledger whose trees grow at once: its order would skip leaves
    /// that a concurrent commit fills later, so it is refused, saying what to ask instead.
    private func severalTrees(_ what: String) -> APIError {
        APIError.malformed("this server keeps \(service.openTrees) trees open at once: page the \(what) of each tree by position (tree=T&from=P); update zkwallet")
    }

    /// Nodes of the complete subtrees at one of `MerkleTree.publishedHeights` of one tree
    /// (`tree`, default the open one): the same answer for every wallet, from which each checks
    /// its notes and builds its own paths. A closed tree is rebuilt off the ledger once.
    func subtrees(_ query: Hummingbird.Parameters) async throws -> Response {
        let height = try queryInt(query, "height", default: MerkleTree.chunkHeight)
        guard MerkleTree.publishedHeights.contains(height) else {
            throw APIError.malformed("height must be one of \(MerkleTree.publishedHeights.map(String.init).joined(separator: ", "))")
        }
        // One bound for both heights (the document cannot tie it to the height): past the last
        // node at this height the page is simply empty.
        let bound = MerkleTree.nodes(atHeight: MerkleTree.publishedHeights.min()!)
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: min(MerkleTree.nodes(atHeight: height), Self.maxSubtreesPerPage))
        guard from >= 0, from <= bound, limit >= 1, limit <= Self.maxSubtreesPerPage else {
            throw APIError.malformed("from must be between 0 and \(bound) and limit between 1 and \(Self.maxSubtreesPerPage)")
        }
        var requested: Int64?
        if query.get("tree") != nil {
            let t = try queryInt(query, "tree", default: 0)
            guard t >= 0, t <= Self.maxLeafIndex else { throw APIError.malformed("tree must be between 0 and \(Self.maxLeafIndex)") }
            requested = Int64(t)
        }
        let tree = requested
        let service = self.service
        let page: (tree: Int64, roots: [Fr], complete: Int, leafCount: Int)
        do {
            page = try await service.read { _ in try service.subtreeRoots(tree: tree, height: height, from: from, limit: limit) }
        } catch let e as SettlementService.NoSuchTree {
            throw APIError.notFound(e.description)
        }
        return jsonResponse(data: ServerAnswer.encodeSubtrees(tree: page.tree, height: height, from: from, roots: page.roots,
                                                              complete: page.complete, leafCount: page.leafCount))
    }

    /// Every spent nullifier in settlement order (`PublicSpend`), paged by whole transfers:
    /// wallets learn their spends by matching this list locally instead of asking about their
    /// own nullifiers.
    func spends(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: 1000)
        let capacity = service.treeCapacity
        let tree = try requestedTree(query)
        guard tree != nil || service.openTrees == 1 else { throw severalTrees("spent nullifiers") }
        guard from >= 0, from <= Self.maxLeafIndex, from % 2 == 0, limit >= 2, limit <= Self.maxSpendsPerPage, limit % 2 == 0 else {
            throw APIError.malformed("from must be even, between 0 and \(Self.maxLeafIndex) (a position in the tree with tree=), and limit even, between 2 and \(Self.maxSpendsPerPage) (two nullifiers per transfer)")
        }
        let (first, end) = Self.span(tree, from: from, capacity: capacity)
        let (spends, times) = try await service.ledgerRead { ledger in
            let spends = try ledger.spends(from: first, below: end, limit: limit)
            return (spends, try ledger.batchTimes(spends.map(\.batch)))
        }
        let whole = spends.prefix(spends.count & ~1)
        let page = ServerAnswer.SpendsPage(
            spends: whole.enumerated().map { k, s in
                ServerAnswer.Spend(index: from + k, nullifier: s.nullifier.decimalString, transferID: s.transferID.hex, batch: s.batch, extAmount: s.extAmount,
                                   settledAt: times[s.batch])
            },
            next: from + whole.count, count: service.leafCount)
        return jsonResponse(data: ServerAnswer.encode(page, from: from, tree: tree))
    }

    func nullifier(_ text: String) async throws -> Response {
        let nf: Fr
        do { nf = try Fr(decimal: text) } catch { throw APIError.malformed("nullifier: \(error) (expected a canonical decimal below r)") }
        guard let record = try await service.ledgerRead({ try $0.nullifier(nf) }) else {
            return jsonResponse(["nullifier": nf.decimalString, "spent": false])
        }
        return jsonResponse(record.json)
    }

    func batch(_ text: String) async throws -> Response {
        guard let n = Int64(text), n >= 1 else { throw APIError.malformed("batch number: expected an integer ≥ 1") }
        guard let h = try await service.ledgerRead({ try $0.batchHeader(n) }) else {
            throw APIError.notFound("no batch \(n) (the last is \(service.treeSummary.lastBatch))")
        }
        return jsonResponse(h.json)
    }
}
