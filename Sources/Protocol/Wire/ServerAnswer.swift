import BN254
import Foundation
import Primitives

/// The wallet's decoders of the server's answers, as pure functions of the bytes received:
/// one place that the client calls and the fuzz target `server-answer` hammers. A server is
/// not trusted: every decoder either returns values that satisfy what it states (indices in
/// order, field elements canonical, counts within the asked limit) or throws `Malformed`;
/// it never traps, whatever the bytes.
public enum ServerAnswer {
    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// One leaf of `GET /v1/notes`: its commitment and encrypted output.
    public struct EncryptedLeaf: Sendable, Equatable {
        public var leafIndex: Int
        public var commitment: Fr
        public var ciphertext: [UInt8]
        public var batch: Int64
        /// When its batch settled (ms since 1970; the batch header's time): the same for every
        /// wallet, so a wallet dates a payment by it, not by when it synced. Nil from a server
        /// that predates it.
        public var settledAt: Int64?

        public init(leafIndex: Int, commitment: Fr, ciphertext: [UInt8], batch: Int64, settledAt: Int64? = nil) {
            self.leafIndex = leafIndex; self.commitment = commitment; self.ciphertext = ciphertext; self.batch = batch
            self.settledAt = settledAt
        }
    }

    public struct NotesPage: Sendable, Equatable {
        public var notes: [EncryptedLeaf]
        public var next: Int
        public var leafCount: Int
        /// Leaves per tree (`tree_capacity`; 2^20 from a server that predates trees): a leaf's
        /// tree is its index / this, its position in the tree its index mod this.
        public var treeCapacity: Int = 1 << 20
        /// Trees that accept leaves at once (`open_trees`; 1 from a server that predates
        /// them). With more than one, a wallet pages each tree by position (`treeNotesPage`).
        public var openTrees: Int = 1

        public init(notes: [EncryptedLeaf], next: Int, leafCount: Int, treeCapacity: Int, openTrees: Int = 1) {
            self.notes = notes; self.next = next; self.leafCount = leafCount; self.treeCapacity = treeCapacity
            self.openTrees = openTrees
        }
    }

    /// One entry of `GET /v1/nullifiers` (the server's `PublicSpend`).
    public struct Spend: Sendable, Equatable {
        public var index: Int
        /// The nullifier as the canonical decimal the wallet stores (matched as text).
        public var nullifier: String
        public var transferID: String
        public var batch: Int64
        public var extAmount: Int64
        /// When its batch settled (ms since 1970); nil from a server that predates it.
        public var settledAt: Int64?

        public init(index: Int, nullifier: String, transferID: String, batch: Int64, extAmount: Int64, settledAt: Int64? = nil) {
            self.index = index; self.nullifier = nullifier; self.transferID = transferID; self.batch = batch; self.extAmount = extAmount
            self.settledAt = settledAt
        }
    }

    public struct SpendsPage: Sendable, Equatable {
        public var spends: [Spend]
        public var next: Int
        public var count: Int

        public init(spends: [Spend], next: Int, count: Int) { self.spends = spends; self.next = next; self.count = count }
    }

    static func object(_ data: Data, _ what: String) throws(Malformed) -> [String: Any] {
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Malformed("\(what): not a JSON object")
        }
        return o
    }

    static func int(_ v: Any?) -> Int? { v as? Int }

    static func fr(_ v: Any?) -> Fr? { (v as? String).flatMap { try? Fr(decimal: $0) } }

    /// `GET /v1/notes?from=&limit=`: the leaves `from..<next` in order with no gap, at most
    /// `limit` of them. A ciphertext that is not base64 is simply not the wallet's (empty).
    public static func notesPage(_ data: Data, from: Int, limit: Int) throws(Malformed) -> NotesPage {
        let o = try object(data, "/v1/notes")
        guard let list = o["notes"] as? [Any], let next = int(o["next"]), let count = int(o["leaf_count"]), count >= 0,
              list.count <= limit, next == from + list.count else {
            throw Malformed("/v1/notes: not a notes page from leaf \(from) of at most \(limit)")
        }
        let capacity = o["tree_capacity"] == nil ? 1 << 20 : int(o["tree_capacity"]) ?? 0
        guard isTreeCapacity(capacity) else { throw Malformed("/v1/notes: tree_capacity is not a power of two from 32 to 2^20") }
        let notes = try leaves(list, from: from, firstIndex: from, tree: nil, capacity: capacity, what: "/v1/notes")
        return NotesPage(notes: notes, next: next, leafCount: count, treeCapacity: capacity)
    }

    /// The most trees a server may keep open at once (`OpenTrees.maximum`).
    public static let maxOpenTrees = 64

    /// `GET /v1/notes?tree=&from=&limit=`: positions `from..<next` of tree `tree`, in order with
    /// no gap, at most `limit`, within the tree's capacity; each entry names its global leaf
    /// index (`tree × tree_capacity + position`) and its tree. `next` is a position.
    public static func treeNotesPage(_ data: Data, tree: Int, from: Int, limit: Int) throws(Malformed) -> NotesPage {
        let o = try object(data, "/v1/notes")
        let what = "/v1/notes of tree \(tree)"
        if o["tree"] == nil, o["notes"] != nil {
            throw Malformed("\(what): the server answered with its global page, not one tree's: it is older than this wallet (update the server, or use the zkwallet of its version)")
        }
        guard int(o["tree"]) == tree, int(o["from"]) == from, let list = o["notes"] as? [Any], let next = int(o["next"]),
              list.count <= limit, next == from + list.count, let capacity = int(o["tree_capacity"]), isTreeCapacity(capacity),
              next <= capacity, let openTrees = int(o["open_trees"]), (1...maxOpenTrees).contains(openTrees) else {
            throw Malformed("\(what): not a page of the tree from position \(from) of at most \(limit) leaves")
        }
        let notes = try leaves(list, from: from, firstIndex: tree * capacity + from, tree: tree, capacity: capacity, what: what)
        return NotesPage(notes: notes, next: next, leafCount: int(o["leaf_count"]) ?? 0, treeCapacity: capacity, openTrees: openTrees)
    }

    /// The entries of a notes page: entry k is leaf `firstIndex + k` (global), named `from + k`
    /// in errors, of tree `tree` when a tree was asked for (it must say so), else of the tree
    /// its index falls in (if it says one). A ciphertext that is not base64 is simply not the
    /// wallet's (empty).
    static func leaves(_ list: [Any], from: Int, firstIndex: Int, tree: Int?, capacity: Int, what: String) throws(Malformed) -> [EncryptedLeaf] {
        var notes: [EncryptedLeaf] = []
        notes.reserveCapacity(list.count)
        for (k, item) in list.enumerated() {
            guard let n = item as? [String: Any], let i = int(n["leaf_index"]), i == firstIndex + k, let cm = fr(n["commitment"]),
                  let batch = int(n["batch"]), batch >= 1,
                  tree.map({ int(n["tree"]) == $0 }) ?? (n["tree"] == nil || int(n["tree"]) == i / capacity) else {
                throw Malformed("\(what): entry \(from + k) is malformed or out of order")
            }
            let ct = (n["encrypted_output"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
            let settledAt = try time(n["settled_at"], "\(what): entry \(from + k)")
            notes.append(EncryptedLeaf(leafIndex: i, commitment: cm, ciphertext: ct, batch: Int64(batch), settledAt: settledAt))
        }
        return notes
    }

    /// An optional time in ms since 1970: absent (an older server), or a whole number ≥ 0.
    static func time(_ v: Any?, _ what: String) throws(Malformed) -> Int64? {
        guard let v, !(v is NSNull) else { return nil }
        guard let t = int(v), t >= 0 else { throw Malformed("\(what): settled_at is not a time in milliseconds") }
        return Int64(t)
    }

    /// The server's side of `GET /v1/notes`: `{"notes": [{leaf_index, tree, commitment,
    /// encrypted_output (base64), batch, settled_at}], "next", "leaf_count", "tree_capacity"}`.
    /// With `tree` (a page of one tree, `treeNotesPage`), `from` and `next` are positions in it.
    public static func encode(_ page: NotesPage, tree: Int? = nil, from: Int = 0) -> Data {
        let capacity = page.treeCapacity
        let notes: [[String: Any]] = page.notes.map {
            var entry: [String: Any] = ["leaf_index": $0.leafIndex, "tree": $0.leafIndex / capacity, "commitment": $0.commitment.decimalString,
                                        "encrypted_output": Data($0.ciphertext).base64EncodedString(), "batch": $0.batch]
            if let t = $0.settledAt { entry["settled_at"] = t }
            return entry
        }
        var body: [String: Any] = ["notes": notes, "next": page.next, "leaf_count": page.leafCount, "tree_capacity": capacity,
                                   "open_trees": page.openTrees]
        if let tree { body["tree"] = tree; body["from"] = from }
        return JSONWriter.encode(body)
    }

    /// The shape of a canonical decimal field element: 1 to 77 digits, no leading zero. (Not
    /// checked below r: the wallet only compares it with its own nullifiers as text, and a value
    /// at or above r matches none. Parsing a million into Fr would double the list's cost.)
    static func isCanonicalDecimal(_ text: String) -> Bool {
        let u = text.utf8
        guard !u.isEmpty, u.count <= 77, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
        return u.count == 1 || u.first != 48
    }

    /// 64 lower-case hexadecimal digits (a transfer id).
    static func isHex32(_ text: String) -> Bool {
        let u = text.utf8
        return u.count == 64 && u.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// `GET /v1/nullifiers?from=&limit=` (`from` even): positions `from..<next`, two per
    /// transfer, in order, at most `limit`.
    /// With `tree` (`GET /v1/nullifiers?tree=&from=&limit=`): the spends of the transfers whose
    /// outputs lie in that tree, `from` and `next` positions in it (the answer names the tree);
    /// each `Spend.index` is still global (`tree × capacity + position`).
    public static func spendsPage(_ data: Data, from: Int, limit: Int, tree: Int? = nil, capacity: Int = 1 << 20) throws(Malformed) -> SpendsPage {
        let o = try object(data, "/v1/nullifiers")
        let base = (tree ?? 0) * capacity
        guard int(o["from"]) == from, tree == nil || (int(o["tree"]) == tree && (int(o["next"]) ?? .max) <= capacity), let nfs = o["nullifiers"] as? [Any], let ids = o["transfer_ids"] as? [Any],
              let batches = o["batches"] as? [Any], let exts = o["ext_amounts"] as? [Any],
              let next = int(o["next"]), let count = int(o["count"]), count >= 0,
              nfs.count <= limit, nfs.count == 2 * ids.count, batches.count == ids.count, exts.count == ids.count,
              next == from + nfs.count else {
            throw Malformed("/v1/nullifiers: not a page of whole transfers from position \(from) of at most \(limit)")
        }
        let times = o["settled_at"] as? [Any]
        guard o["settled_at"] == nil || times?.count == ids.count else {
            throw Malformed("/v1/nullifiers: settled_at does not have one time per transfer")
        }
        var out: [Spend] = []
        out.reserveCapacity(nfs.count)
        for k in 0..<ids.count {
            guard let id = ids[k] as? String, isHex32(id), let batch = int(batches[k]), batch >= 1,
                  let ext = (exts[k] as? String).flatMap({ Int64($0) }) else {
                throw Malformed("/v1/nullifiers: transfer \(k) of the page is malformed")
            }
            let settledAt = try time(times?[k], "/v1/nullifiers: transfer \(k) of the page")
            for j in 0..<2 {
                guard let nf = nfs[2 * k + j] as? String, isCanonicalDecimal(nf) else {
                    throw Malformed("/v1/nullifiers: position \(from + 2 * k + j) is not a canonical decimal")
                }
                out.append(Spend(index: base + from + 2 * k + j, nullifier: nf, transferID: id, batch: Int64(batch), extAmount: ext, settledAt: settledAt))
            }
        }
        return SpendsPage(spends: out, next: next, count: count)
    }

    /// The server's side of `GET /v1/nullifiers`: columns rather than objects (a wallet reads
    /// one entry per spent note in the network, and parsing a million small objects costs
    /// several times a million strings). `spends` are whole transfers, two entries each.
    public static func encode(_ page: SpendsPage, from: Int, tree: Int? = nil) -> Data {
        let transfers = stride(from: 0, to: page.spends.count - 1, by: 2).map { page.spends[$0] }
        var body: [String: Any] = [
            "from": from, "next": page.next, "count": page.count,
            "nullifiers": page.spends.prefix(2 * transfers.count).map(\.nullifier),
            "transfer_ids": transfers.map(\.transferID), "batches": transfers.map(\.batch),
            "ext_amounts": transfers.map { String($0.extAmount) },
        ]
        if transfers.allSatisfy({ $0.settledAt != nil }) { body["settled_at"] = transfers.map { $0.settledAt ?? 0 } }
        if let tree { body["tree"] = tree }
        return JSONWriter.encode(body)
    }

    /// A tree capacity a server may publish: a power of two from 2^5 to 2^20.
    public static func isTreeCapacity(_ n: Int) -> Bool { n >= 32 && n <= 1 << 20 && n & (n - 1) == 0 }

    /// `GET /v1/tree/subtrees?height=&from=&limit=[&tree=]`: the nodes from `from`, at most `limit`,
    /// and how many complete subtrees there are (at least those sent), of tree `tree` when asked
    /// for one (the answer must name it; a server that predates trees names none and has only tree 0).
    public static func subtrees(_ data: Data, height: Int, from: Int, limit: Int, tree: Int? = nil) throws(Malformed) -> (roots: [Fr], complete: Int) {
        let o = try object(data, "/v1/tree/subtrees")
        guard int(o["height"]) == height, int(o["from"]) == from, let list = o["roots"] as? [Any], list.count <= limit,
              tree == nil || int(o["tree"]) == tree || (o["tree"] == nil && tree == 0),
              let complete = int(o["complete"]), complete >= from + list.count else {
            throw Malformed("/v1/tree/subtrees: not the nodes at height \(height) from \(from)")
        }
        var roots: [Fr] = []
        roots.reserveCapacity(list.count)
        for r in list {
            guard let v = fr(r) else { throw Malformed("/v1/tree/subtrees: a node is not a field element") }
            roots.append(v)
        }
        return (roots, complete)
    }

    /// The server's side of `GET /v1/tree/subtrees`.
    public static func encodeSubtrees(tree: Int64, height: Int, from: Int, roots: [Fr], complete: Int, leafCount: Int) -> Data {
        JSONWriter.encode(["tree": tree, "height": height, "from": from, "roots": roots.map(\.decimalString),
                           "complete": complete, "leaf_count": leafCount])
    }

    /// `GET /v1/batches/{number}`: that batch's tree (0 from a server that predates trees),
    /// the tree's root and leaf count after it.
    public static func batch(_ data: Data, number: Int64) throws(Malformed) -> (root: Fr, leafCount: Int, tree: Int) {
        let o = try object(data, "/v1/batches")
        guard int(o["number"]).map(Int64.init) == number, let root = fr(o["root"]), let leaves = int(o["leaf_count"]), leaves >= 0,
              let tree = o["tree"] == nil ? 0 : int(o["tree"]), tree >= 0, leaves <= 1 << 20 else {
            throw Malformed("/v1/batches/\(number): not that batch's header")
        }
        return (root, leaves, tree)
    }

    /// The `receipt` of a settlement answer (`POST /v1/transfers`, `GET /v1/transfers/{id}`),
    /// unverified: the caller checks its signature with the key it trusts.
    public static func receipt(_ data: Data) throws(Malformed) -> Receipt {
        try receipt(try object(data, "settlement"))
    }

    static func receipt(_ o: [String: Any]) throws(Malformed) -> Receipt {
        guard let r = o["receipt"] as? [String: Any], let tid = (r["transfer_id"] as? String).flatMap(Hex.decode), tid.count == 32,
              let batch = int(r["batch"]), batch >= 1,
              let leaves = r["leaf_indices"] as? [Any], leaves.count == 2,
              let l0 = int(leaves[0]), let l1 = int(leaves[1]), l0 >= 0, l1 == l0 + 1,
              let root = fr(r["root"]), let settledAt = int(r["settled_at"]),
              let sig = (r["signature"] as? String).flatMap(Hex.decode), sig.count == 64,
              let tree = r["tree"] == nil ? 0 : int(r["tree"]), tree >= 0 else {
            throw Malformed("the settlement answer carries no readable receipt")
        }
        return Receipt(transferID: tid, batch: Int64(batch), tree: Int64(tree), leafIndices: [Int64(l0), Int64(l1)], root: root,
                       settledAt: Int64(settledAt), signature: sig)
    }
}
