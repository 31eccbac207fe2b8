import BN254
import Foundation
import Groth16
import Protocol
import SettlementClient

/// Sync: what the wallet learns from the server, and how it learns it without telling.
///
/// Every request here is one every wallet makes alike: pages of all notes (`/v1/notes`), the
/// published subtree nodes (`/v1/tree/subtrees`), the header of the batch at the tip
/// (`/v1/batches/{n}`), pages of all spent nullifiers (`/v1/nullifiers?from=`). None names a
/// leaf index, commitment or nullifier of this wallet: the server learns only how far the
/// wallet had synced before. Notes are found by trial decryption, checked against the tree
/// (`WalletTree.verify`) before they count, and spends are matched locally.
extension PeerWallet {
    public struct SyncReport: Sendable {
        public var scanned = 0
        public var found = 0
        public var foundValue: UInt64 = 0
        public var newlySpent = 0
        public var leafCount = 0
        public var seconds = 0.0
        /// Transfers this wallet submitted that did not settle (they never reached the server):
        /// their notes are spendable again.
        public var released: [Released] = []
        /// Transfers this wallet submitted without hearing the outcome that turned out settled.
        public var settledWhileAway: [WalletDatabase.StoredTransfer] = []
    }

    /// A pending transfer that did not settle, and the value its notes give back.
    public struct Released: Sendable {
        public var transfer: WalletDatabase.StoredTransfer
        public var freedValue: UInt64
        public var freedNotes: Int
    }

    /// The view for global indices (`absorb`, `rollBack`): tree 0's numbering is the global one.
    var tree: WalletTree { WalletTree(database: database) }

    /// Leaves per tree on this wallet's server, as its notes pages said (2^20 until told).
    func treeCapacity() throws -> Int { Int(try database.meta("tree_capacity") ?? "") ?? MerkleTree.capacity }

    /// The server's tree capacity, asked (one notes page from leaf 0, the question every wallet
    /// asks first) if this wallet has not synced yet: a note's nullifier depends on its position
    /// in its tree.
    func knownTreeCapacity(_ server: ServerClient) throws -> Int {
        if let known = Int(try database.meta("tree_capacity") ?? "") { return known }
        let capacity = try server.notes(from: 0, limit: 1).treeCapacity
        try database.setMeta("tree_capacity", String(capacity))
        return capacity
    }

    /// The view of tree `t` (issue 14: trees roll over when full).
    func treeView(_ t: Int) throws -> WalletTree { WalletTree(database: database, tree: t, capacity: try treeCapacity()) }

    /// The checked state of tree `t` to prove against: its leaf count and root. The open tree
    /// (the one of the last synced leaf) as last checked; a closed tree full, under its last
    /// root. Nil for a tree not synced and checked.
    func anchor(tree t: Int) throws -> (leaves: Int, root: Fr)? {
        guard let synced = try syncedTree(), synced.leaves > 0 else { return nil }
        let capacity = try treeCapacity()
        let open = (synced.leaves - 1) / capacity
        if t == open { return (synced.leaves - t * capacity, synced.root) }
        guard t < open, let root = try database.meta("tree_root:\(t)").flatMap({ try? Fr(decimal: $0) }) else { return nil }
        return (capacity, root)
    }

    /// Leaves the wallet has synced and checked, and their root (the anchor its transfers prove
    /// against).
    func syncedTree() throws -> (leaves: Int, root: Fr)? {
        guard let n = Int(try database.meta("tree_leaves") ?? ""), let r = try database.meta("tree_root").flatMap({ try? Fr(decimal: $0) }) else {
            return nil
        }
        return (n, r)
    }

    /// Pages through `/v1/notes` from the saved cursor, trial-decrypts every output on all
    /// cores, records this wallet's notes (openings checked against their commitments) and
    /// keeps the leaves around them, saving the cursor after each page (an interrupted sync
    /// resumes); then checks the tree against the tip batch's root, and learns spends from the
    /// public nullifier list.
    @discardableResult
    public func sync(pageSize: Int = 10_000, quiet: Bool = false) throws -> SyncReport {
        let start = Date()
        var report = SyncReport()
        let server = try self.server
        _ = try params()  // every contact checks the pinned parameters first
        if let known = try database.meta("server"), (try? Self.normalizeServer(known)) != serverURL {
            log("note: this wallet last synced with \(known); now using \(serverURL)")
        }
        var from = Int(try database.meta("next_leaf") ?? "0") ?? 0
        var tipBatch = Int64(try database.meta("tip_batch") ?? "0") ?? 0
        // The notes, then the tip batch's header; a batch that settled in between means one
        // more round (at most a few).
        var rounds = 0
        while true {
            try scanNotes(from: &from, tipBatch: &tipBatch, pageSize: pageSize, quiet: quiet, report: &report, server: server)
            if from == 0 { break }
            // Nothing new since the last checked tree, and nothing of ours waiting: done.
            if try syncedTree()?.leaves == from, try database.uncheckedNotes(in: 0..<from).isEmpty {
                break
            }
            let header = try server.batch(tipBatch)
            let capacity = try treeCapacity()
            let openTree = (from - 1) / capacity
            if header.tree == openTree, openTree * capacity + header.leafCount == from {
                try checkTrees(upTo: from, openTree: openTree, tipRoot: header.root, tipBatch: tipBatch, server: server)
                break
            }
            rounds += 1
            guard header.tree * capacity + header.leafCount > from, rounds < 5 else {
                throw WalletTree.inconsistent("batch \(tipBatch) ends tree \(header.tree) at leaf \(header.leafCount), but its leaves were sent up to \(from)")
            }
        }
        report.newlySpent = try syncSpends(upTo: from, server: server)
        try resolvePendingTransfers(syncedLeaves: from, server: server, report: &report)
        // Only now, the whole sync done: the server it synced with, and when (issue 19).
        try database.transaction {
            try database.setMeta("server", serverURL)
            try database.setMeta("last_synced_at", String(Int64(Date().timeIntervalSince1970 * 1000)))
            if try database.meta("server_url") == nil { try database.setMeta("server_url", serverURL) }
        }
        // Said even by a quiet sync (balance, send): money came back, or an old send landed.
        for t in report.settledWhileAway {
            log("\(t.kind.rawValue) of \(t.amount)\(t.counterparty.map { " to \($0)" } ?? "") (transfer \(t.id.prefix(12))…) settled in batch \(t.batch ?? 0) while this wallet was not listening")
        }
        if !report.released.isEmpty {
            let n = report.released.count, value = report.released.reduce(UInt64(0)) { $0 &+ $1.freedValue }
            log("\(n) pending transfer\(n == 1 ? "" : "s") did not settle (never reached the server); \(value) spendable again")
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// Pages through `/v1/notes` from leaf `from` to the server's leaf count, taking in each
    /// page; `from` and `tipBatch` follow the saved cursor.
    private func scanNotes(from: inout Int, tipBatch: inout Int64, pageSize: Int, quiet: Bool, report: inout SyncReport,
                           server: ServerClient) throws {
        while true {
            let page = try server.notes(from: from, limit: pageSize)
            report.leafCount = page.leafCount
            if from > page.leafCount {
                throw WalletError("this wallet has synced \(from) leaves but the server holds \(page.leafCount): is --server the same server as before? (a fresh server needs a fresh wallet directory)")
            }
            if page.notes.isEmpty { break }
            try takeIn(page, from: from, report: &report)
            tipBatch = page.notes.last!.batch
            report.scanned += page.notes.count
            from = page.next
            if !quiet { log("sync: \(from)/\(page.leafCount) leaves scanned, \(report.found) notes found") }
            if from >= page.leafCount { break }
        }
    }

    /// Records one page of leaves from `from`: this wallet's notes among them, the leaves
    /// around them, the batch that filled each tree, and the cursor.
    private func takeIn(_ page: ServerAnswer.NotesPage, from: Int, report: inout SyncReport) throws {
        // The tree capacity is fixed for a server's ledger: another one means another server.
        let capacity = page.treeCapacity
        if let known = try database.meta("tree_capacity") {
            guard known == String(capacity) else {
                throw WalletError("the server now says its trees hold \(capacity) leaves, where it said \(known): is --server the same server as before? (a fresh server needs a fresh wallet directory)")
            }
        } else {
            // First told here. A wallet that synced before trees existed synced tree 0
            // of 2^20 leaves; a server with smaller trees is another server.
            guard from == 0 || capacity == MerkleTree.capacity else {
                throw WalletError("the server says its trees hold \(capacity) leaves, but this wallet synced \(from) leaves of a tree of 2^20: is --server the same server as before?")
            }
            try database.setMeta("tree_capacity", String(capacity))
        }
        // (The decoder refused a page with a gap or leaves out of order.)
        let vk = viewingKey
        let owner = vk.ownerKey
        let found = Self.trialDecrypt(page.notes, viewingKey: vk)
        try database.transaction {
            for (leaf, pt) in found {
                // Believe a note only if its opening matches the commitment in the tree.
                let note = pt.note(owner: owner)
                guard pt.value > 0, note.commitment == leaf.commitment else { continue }
                // The circuit sees the note's position in its own tree.
                let nf = note.nullifier(nullifierKey: vk.nullifierKey, leafIndex: leaf.leafIndex % capacity)
                try database.insertNote(leafIndex: leaf.leafIndex, commitment: leaf.commitment, plaintext: pt, nullifier: nf, batch: leaf.batch,
                                        settledAt: leaf.settledAt)
                report.found += 1
                report.foundValue &+= pt.value
            }
            try tree.absorb(page.notes.map(\.commitment), from: from)
            // The batch that filled each tree: its root is that tree's last root.
            for leaf in page.notes where (leaf.leafIndex + 1) % capacity == 0 {
                try database.setMeta("tree_end_batch:\(leaf.leafIndex / capacity)", String(leaf.batch))
            }
            try database.setMeta("next_leaf", String(page.next))
            try database.setMeta("tip_batch", String(page.notes.last!.batch))
        }
    }

    /// Checks every tree with leaves since the last check, up to leaf `from`: the closed ones
    /// full, under the root of the batch that filled them; the open one under the tip's root.
    /// All of it counts, or none: on an inconsistency the wallet forgets what it took in since
    /// the last checked tree, so that the next sync (with honest answers) starts from solid ground.
    private func checkTrees(upTo from: Int, openTree: Int, tipRoot: Fr, tipBatch: Int64, server: ServerClient) throws {
        let capacity = try treeCapacity()
        do {
            var checks: [(view: WalletTree, leaves: Int, root: Fr)] = []
            for t in stride(from: (try syncedTree()?.leaves ?? 0) / capacity, to: openTree, by: 1) {
                guard let b = Int64(try database.meta("tree_end_batch:\(t)") ?? "") else {
                    throw WalletTree.inconsistent("tree \(t) is full but the batch that filled it was never sent")
                }
                let end = try server.batch(b)
                guard end.tree == t, end.leafCount == capacity else {
                    throw WalletTree.inconsistent("batch \(b) took tree \(t)'s last leaf but says it ends tree \(end.tree) at \(end.leafCount) leaves")
                }
                checks.append((try treeView(t), capacity, end.root))
            }
            checks.append((try treeView(openTree), from - openTree * capacity, tipRoot))
            for c in checks { try c.view.fetchPublished(leaves: c.leaves, server: server) }
            try database.transaction {
                for c in checks {
                    try c.view.verify(leaves: c.leaves, expectedRoot: c.root)
                    try database.setMeta("tree_root:\(c.view.tree)", c.root.decimalString)
                }
                try database.setMeta("tree_leaves", String(from))
                try database.setMeta("tree_root", tipRoot.decimalString)
                try database.setMeta("tree_batch", String(tipBatch))
            }
        } catch let e as WalletError where e.code == "inconsistent" {
            try tree.rollBack(to: try syncedTree()?.leaves ?? 0)
            try database.setMeta("tip_batch", try database.meta("tree_batch") ?? "0")
            throw e
        }
    }

    /// Pages through the public list of spent nullifiers from the saved cursor up to `leaves`
    /// (the list is numbered like the leaves) and marks this wallet's notes spent where their
    /// nullifiers appear. Returns how many were newly spent.
    func syncSpends(upTo leaves: Int, server: ServerClient) throws -> Int {
        var from = Int(try database.meta("next_spend") ?? "0") ?? 0
        var mine: [String: WalletDatabase.StoredNote] = [:]
        for n in try database.unspentNotes(includingUnverified: true) { mine[n.nullifier.decimalString] = n }
        var newlySpent = 0
        var spending: [(id: String, extAmount: Int64, outputs: [Int], settledAt: Int64?)] = []
        while from < leaves {
            let page = try server.spends(from: from, limit: min(20_000, (leaves - from + 1) & ~1))
            if page.spends.isEmpty { throw WalletTree.inconsistent("the nullifier list ends at \(from) while the tree holds \(leaves) leaves") }
            try database.transaction {
                for s in page.spends {
                    guard let n = mine.removeValue(forKey: s.nullifier) else { continue }
                    guard s.index > n.leafIndex else {
                        throw WalletTree.inconsistent("the note at leaf \(n.leafIndex) is listed as spent at position \(s.index), before it existed")
                    }
                    try database.markSpent(leafIndex: n.leafIndex, by: s.transferID)
                    newlySpent += 1
                    if !spending.contains(where: { $0.id == s.transferID }) {
                        let first = s.index - s.index % 2
                        spending.append((s.transferID, s.extAmount, [first, first + 1], s.settledAt))
                    }
                }
                try database.setMeta("next_spend", String(page.next))
            }
            from = page.next
        }
        try recordSpends(spending)
        return newlySpent
    }

    /// The transfers this wallet submitted without hearing the outcome (a lost connection,
    /// Ctrl-C), asked about one by one (its own transfers: asking tells the server nothing it
    /// was not told when they were submitted). One that settled is recorded as settled, once
    /// the sync has reached its leaves; one the server has no record of never reached it, and
    /// its notes are spendable again (`report.released`). Notes reserved by a transfer with no
    /// record (a wallet from before records were kept) are released the same way.
    func resolvePendingTransfers(syncedLeaves: Int, server: ServerClient, report: inout SyncReport) throws {
        let pending = try database.transfers().filter { $0.status == .pending }
        let reserved = try database.unspentNotes(includingUnverified: true).filter { $0.pendingSpend != nil }
        for t in pending {
            switch try server.transferOutcome(t.id) {
            case .inFlight:
                continue
            case .settled(let answer):
                let receipt = answer.receipt
                guard receipt.leafIndices.allSatisfy({ $0 < syncedLeaves }) else { continue }  // the next sync
                // Believed only under the pinned receipt key, and only if the public nullifier
                // list agrees: its inputs were marked spent by that list above, never by this
                // answer. Otherwise it stays pending (a later sync, or the operator, settles it).
                guard answer.checkReceipt(transferID: t.id, receiptKey: try params().receiptPublicKey) else {
                    log("the server says transfer \(t.id.prefix(12))… settled, but its receipt does not verify with the pinned receipt key: it stays pending")
                    continue
                }
                guard !reserved.contains(where: { $0.pendingSpend == t.id }) else { continue }
                try database.transaction {
                    for leaf in receipt.leafIndices {
                        if let n = try database.note(atLeaf: Int(leaf)) { try database.recordOwnOutput(commitment: n.commitment, transfer: t.id) }
                    }
                    try database.recordTransfer(id: t.id, kind: t.kind, amount: t.amount, counterparty: t.counterparty, memo: t.memo,
                                                status: .settled, batch: receipt.batch, settledAt: receipt.settledAt)
                }
                var settled = t
                settled.status = .settled
                settled.batch = receipt.batch
                settled.settledAt = receipt.settledAt
                report.settledWhileAway.append(settled)
            case .unknown:
                let freed = reserved.filter { $0.pendingSpend == t.id }
                try database.transaction {
                    try database.setPending(leafIndices: freed.map(\.leafIndex), transfer: nil)
                    try database.setTransferStatus(t.id, .notSettled)
                }
                var ended = t
                ended.status = .notSettled
                report.released.append(Released(transfer: ended, freedValue: freed.reduce(0) { $0 &+ $1.value }, freedNotes: freed.count))
            }
        }
        let recorded = Set(pending.map(\.id))
        for n in reserved {
            if let id = n.pendingSpend, !recorded.contains(id), (try? server.transferStatus(id)) == 404 {
                try database.setPending(leafIndices: [n.leafIndex], transfer: nil)
            }
        }
    }

    /// Spends this wallet did not submit itself (a restored or watch-only wallet, or another
    /// copy of the key): from each spending transfer's public effects, its outputs that are ours
    /// are change, not income, and what left is inputs − change (+ the withdrawal's amount).
    func recordSpends(_ transfers: [(id: String, extAmount: Int64, outputs: [Int], settledAt: Int64?)]) throws {
        let known = Set(try database.transfers().map(\.id))
        for t in transfers where !known.contains(t.id) {
            let inputs = try database.notes(spentBy: t.id)
            let outputs = try t.outputs.compactMap { try database.note(atLeaf: $0) }
            let spent = inputs.reduce(UInt64(0)) { $0 &+ $1.value }, kept = outputs.reduce(UInt64(0)) { $0 &+ $1.value }
            let kind: TransferKind = t.extAmount < 0 ? .withdraw : spent > kept ? .send : .merge
            let amount = t.extAmount < 0 ? UInt64(t.extAmount.magnitude) : spent &- kept
            try database.transaction {
                for o in outputs { try database.recordOwnOutput(commitment: o.commitment, transfer: t.id) }
                try database.recordTransfer(id: t.id, kind: kind, amount: amount, counterparty: nil, memo: "",
                                            status: .settled, batch: outputs.first?.batch, settledAt: t.settledAt)
            }
        }
    }

    /// The outputs among `leaves` that decrypt under `viewingKey`, on all cores.
    public static func trialDecrypt(_ leaves: [ServerClient.EncryptedLeaf], viewingKey: ViewingKey) -> [(ServerClient.EncryptedLeaf, NotePlaintext)] {
        let workers = max(1, min(coreCount, leaves.count / 256 + 1))
        // Each worker takes every `workers`-th leaf and returns what it found.
        let found = parallelMap(workers) { w -> [(ServerClient.EncryptedLeaf, NotePlaintext)] in
            guard let d = NoteEncryption.Decryptor(privateKey: viewingKey.encryptionPrivateKey) else { return [] }
            var mine: [(ServerClient.EncryptedLeaf, NotePlaintext)] = []
            var i = w
            while i < leaves.count {
                if let pt = d.decrypt(leaves[i].ciphertext) { mine.append((leaves[i], pt)) }
                i += workers
            }
            return mine
        }
        return found.flatMap { $0 }.sorted { $0.0.leafIndex < $1.0.leafIndex }
    }
}
