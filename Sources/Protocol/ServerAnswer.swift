import BN254
import Foundation

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

        public init(leafIndex: Int, commitment: Fr, ciphertext: [UInt8], batch: Int64) {
            self.leafIndex = leafIndex; self.commitment = commitment; self.ciphertext = ciphertext; self.batch = batch
        }
    }

    public struct NotesPage: Sendable, Equatable {
        public var notes: [EncryptedLeaf]
        public var next: Int
        public var leafCount: Int
    }

    /// One entry of `GET /v1/nullifiers` (the server's `PublicSpend`).
    public struct Spend: Sendable, Equatable {
        public var index: Int
        /// The nullifier as the canonical decimal the wallet stores (matched as text).
        public var nullifier: String
        public var transferID: String
        public var batch: Int64
        public var extAmount: Int64
    }

    public struct SpendsPage: Sendable, Equatable {
        public var spends: [Spend]
        public var next: Int
        public var count: Int
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
        var notes: [EncryptedLeaf] = []
        notes.reserveCapacity(list.count)
        for (k, item) in list.enumerated() {
            guard let n = item as? [String: Any], let i = int(n["leaf_index"]), i == from + k, let cm = fr(n["commitment"]),
                  let batch = int(n["batch"]), batch >= 1 else {
                throw Malformed("/v1/notes: entry \(from + k) is malformed or out of order")
            }
            let ct = (n["encrypted_output"] as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
            notes.append(EncryptedLeaf(leafIndex: i, commitment: cm, ciphertext: ct, batch: Int64(batch)))
        }
        return NotesPage(notes: notes, next: next, leafCount: count)
    }

    /// `GET /v1/nullifiers?from=&limit=`: positions `from..<next` in order, at most `limit`.
    public static func spendsPage(_ data: Data, from: Int, limit: Int) throws(Malformed) -> SpendsPage {
        let o = try object(data, "/v1/nullifiers")
        guard let list = o["nullifiers"] as? [Any], let next = int(o["next"]), let count = int(o["count"]), count >= 0,
              list.count <= limit, next == from + list.count else {
            throw Malformed("/v1/nullifiers: not a page from position \(from) of at most \(limit)")
        }
        var out: [Spend] = []
        out.reserveCapacity(list.count)
        for (k, item) in list.enumerated() {
            guard let e = item as? [String: Any], let index = int(e["index"]), index == from + k,
                  let nf = e["nullifier"] as? String, (try? Fr(decimal: nf))?.decimalString == nf,
                  let id = e["transfer_id"] as? String, id.utf8.count == 64, Hex.decode(id) != nil,
                  let batch = int(e["batch"]), batch >= 1, let ext = (e["ext_amount"] as? String).flatMap({ Int64($0) }) else {
                throw Malformed("/v1/nullifiers: entry \(from + k) is malformed or out of order")
            }
            out.append(Spend(index: index, nullifier: nf, transferID: id.lowercased(), batch: Int64(batch), extAmount: ext))
        }
        return SpendsPage(spends: out, next: next, count: count)
    }

    /// `GET /v1/tree/subtrees?height=&from=&limit=`: the nodes from `from`, at most `limit`,
    /// and how many complete subtrees there are (at least those sent).
    public static func subtrees(_ data: Data, height: Int, from: Int, limit: Int) throws(Malformed) -> (roots: [Fr], complete: Int) {
        let o = try object(data, "/v1/tree/subtrees")
        guard int(o["height"]) == height, int(o["from"]) == from, let list = o["roots"] as? [Any], list.count <= limit,
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

    /// `GET /v1/batches/{number}`: that batch's root and leaf count.
    public static func batch(_ data: Data, number: Int64) throws(Malformed) -> (root: Fr, leafCount: Int) {
        let o = try object(data, "/v1/batches")
        guard int(o["number"]).map(Int64.init) == number, let root = fr(o["root"]), let leaves = int(o["leaf_count"]), leaves >= 0 else {
            throw Malformed("/v1/batches/\(number): not that batch's header")
        }
        return (root, leaves)
    }

    /// `GET /v1/tree`: the current root and leaf count.
    public static func tree(_ data: Data) throws(Malformed) -> (root: Fr, leafCount: Int) {
        let o = try object(data, "/v1/tree")
        guard let root = fr(o["root"]), let n = int(o["leaf_count"]), n >= 0 else { throw Malformed("/v1/tree: no root or leaf count") }
        return (root, n)
    }

    /// The `receipt` of a settlement answer (`POST /v1/transfers`, `GET /v1/transfers/{id}`),
    /// unverified: the caller checks its signature with the key it trusts.
    public static func receipt(_ data: Data) throws(Malformed) -> Receipt {
        let o = try object(data, "settlement")
        guard let r = o["receipt"] as? [String: Any], let tid = (r["transfer_id"] as? String).flatMap(Hex.decode), tid.count == 32,
              let batch = int(r["batch"]), batch >= 1,
              let leaves = r["leaf_indices"] as? [Any], leaves.count == 2,
              let l0 = int(leaves[0]), let l1 = int(leaves[1]), l0 >= 0, l1 == l0 + 1,
              let root = fr(r["root"]), let settledAt = int(r["settled_at"]),
              let sig = (r["signature"] as? String).flatMap(Hex.decode), sig.count == 64 else {
            throw Malformed("the settlement answer carries no readable receipt")
        }
        return Receipt(transferID: tid, batch: Int64(batch), leafIndices: [Int64(l0), Int64(l1)], root: root,
                       settledAt: Int64(settledAt), signature: sig)
    }
}
