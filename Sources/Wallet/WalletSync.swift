import BN254
import Foundation
import Groth16
import Protocol
import SettlementClient

/// Sync: what the wallet learns from the server, and how it learns it without telling.
///
/// Every request here is one every wallet makes alike: pages of each tree's notes by position
/// (`/v1/notes?tree=&from=`), the published subtree nodes (`/v1/tree/subtrees`), the header of
/// the batch at a tree's tip (`/v1/batches/{n}`), pages of each tree's spent nullifiers
/// (`/v1/nullifiers?tree=&from=`). None names a leaf index, commitment or nullifier of this
/// wallet: the server learns only how far the wallet had synced before. Notes are found by trial
/// decryption, checked against the tree (`WalletTree.verify`) before they count, and spends are
/// matched locally.
///
/// Trees (issues 14 and 16): a server keeps `open_trees` trees (K) growing at once, tree l
/// then l + K, l + 2K… once each is full. Leaf positions are gap-free within a tree and nowhere
/// else, so the wallet keeps one cursor per tree (`TreeCursor`), never a global one.
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

    /// Leaves per tree on this wallet's server, as its notes pages said (2^20 until told).
    func treeCapacity() throws -> Int { Int(try database.meta("tree_capacity") ?? "") ?? MerkleTree.capacity }

    /// The server's tree capacity and open trees, asked (one notes page of tree 0, the question
    /// every wallet asks first) if this wallet has not synced yet: a note's nullifier depends on
    /// its position in its tree.
    func knownTreeLayout(_ server: ServerClient) throws -> (capacity: Int, openTrees: Int) {
        if let capacity = Int(try database.meta("tree_capacity") ?? ""), let open = Int(try database.meta("open_trees") ?? "") {
            return (capacity, open)
        }
        let page = try server.notes(tree: 0, from: 0, limit: 1)
        try learnLayout(page)
        return (page.treeCapacity, page.openTrees)
    }

    func knownTreeCapacity(_ server: ServerClient) throws -> Int { try knownTreeLayout(server).capacity }

    /// The view of tree `t` (issue 14: trees roll over when full).
    func treeView(_ t: Int) throws -> WalletTree { WalletTree(database: database, tree: t, capacity: try treeCapacity()) }

    /// The checked state of tree `t` to prove against: its leaf count and root as last checked.
    /// Nil for a tree not synced and checked.
    func anchor(tree t: Int) throws -> (leaves: Int, root: Fr)? {
        let c = try database.treeCursor(t)
        guard c.checked > 0, let root = c.root else { return nil }
        return (c.checked, root)
    }

    /// Pages through each tree's notes from its saved cursor, trial-decrypts every output on
    /// all cores, records this wallet's notes (openings checked against their commitments) and
    /// keeps the leaves around them, saving the cursor after each page (an interrupted sync
    /// resumes); checks each tree with new leaves against the root of the batch at its tip; then
    /// learns spends from each tree's public nullifier list.
    @discardableResult
    public func sync(pageSize: Int = 10_000, quiet: Bool = false) throws -> SyncReport {
        let start = Date()
        var report = SyncReport()
        let server = try self.server
        _ = try params()  // every contact checks the pinned parameters first
        if let known = try database.meta("server"), (try? Self.normalizeServer(known)) != serverURL {
            log("note: this wallet last synced with \(known); now using \(serverURL)")
        }
        let (capacity, openTrees) = try knownTreeLayout(server)
        // Each lane's trees in turn: a full tree's successor is K trees on. Full and checked
        // trees cost no request.
        for lane in 0..<openTrees {
            var t = lane
            while try syncTree(t, capacity: capacity, pageSize: pageSize, quiet: quiet, report: &report, server: server) == capacity {
                t += openTrees
            }
        }
        report.leafCount = try database.checkedLeaves()
        report.newlySpent = try syncSpends(server: server)
        try resolvePendingTransfers(server: server, report: &report)
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

    /// Syncs tree `t`: pages its notes from the cursor to the end the server holds, then checks
    /// the tree against the root of the batch of its last leaf. Returns the leaves checked.
    private func syncTree(_ t: Int, capacity: Int, pageSize: Int, quiet: Bool, report: inout SyncReport, server: ServerClient) throws -> Int {
        var c = try database.treeCursor(t)
        while c.next < capacity {
            let limit = min(pageSize, capacity - c.next)
            let page = try server.notes(tree: t, from: c.next, limit: limit)
            try learnLayout(page)
            if page.notes.isEmpty { break }
            try takeIn(page, cursor: &c, report: &report)
            report.scanned += page.notes.count
            if !quiet { log("sync: tree \(t): \(c.next) leaves scanned, \(report.found) notes found") }
            if page.notes.count < limit { break }  // the tree's end when the server read it
        }
        let base = t * capacity
        if c.next == c.checked, try database.uncheckedNotes(in: base..<base + c.next).isEmpty { return c.checked }
        try check(&c, capacity: capacity, server: server)
        return c.checked
    }

    /// Records `page` of a tree's leaves at the cursor: this wallet's notes among them, the
    /// leaves around them, and the cursor.
    private func takeIn(_ page: ServerAnswer.NotesPage, cursor c: inout TreeCursor, report: inout SyncReport) throws {
        let capacity = page.treeCapacity
        // (The decoder refused a page with a gap, leaves out of order or of another tree.)
        let vk = viewingKey
        let owner = vk.ownerKey
        let found = Self.trialDecrypt(page.notes, viewingKey: vk)
        var next = c
        next.next = page.next
        next.tipBatch = page.notes.last!.batch
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
            try WalletTree(database: database, tree: c.tree, capacity: capacity).absorb(page.notes.map(\.commitment), from: page.notes[0].leafIndex)
            try database.setTreeCursor(next)
        }
        c = next
    }

    /// The tree capacity and open trees are fixed for a server's ledger: others mean another
    /// server. Recorded when first told.
    private func learnLayout(_ page: ServerAnswer.NotesPage) throws {
        let fresh = "is --server the same server as before? (a fresh server needs a fresh wallet directory)"
        if let known = try database.meta("tree_capacity") {
            guard known == String(page.treeCapacity) else {
                throw WalletError("the server now says its trees hold \(page.treeCapacity) leaves, where it said \(known): \(fresh)")
            }
        } else {
            // A wallet that synced before trees existed synced tree 0 of 2^20 leaves; a server
            // with smaller trees is another server.
            guard try database.treeCursor(0).next == 0 || page.treeCapacity == MerkleTree.capacity else {
                throw WalletError("the server says its trees hold \(page.treeCapacity) leaves, but this wallet synced leaves of a tree of 2^20: \(fresh)")
            }
            try database.setMeta("tree_capacity", String(page.treeCapacity))
        }
        if let known = try database.meta("open_trees") {
            guard known == String(page.openTrees) else {
                throw WalletError("the server now says it keeps \(page.openTrees) trees open at once, where it said \(known): \(fresh)")
            }
        } else {
            try database.setMeta("open_trees", String(page.openTrees))
        }
    }

    /// Checks tree `c.tree`'s `c.next` leaves against the root of the batch of its last leaf,
    /// which must end the tree there. All of it counts, or none: on an inconsistency the wallet
    /// forgets what it took in of this tree since its last check, so that the next sync (with
    /// honest answers) starts from solid ground.
    private func check(_ c: inout TreeCursor, capacity: Int, server: ServerClient) throws {
        let view = WalletTree(database: database, tree: c.tree, capacity: capacity)
        do {
            let header = try server.batch(c.tipBatch)
            guard header.tree == c.tree, header.leafCount == c.next else {
                throw WalletTree.inconsistent("batch \(c.tipBatch) holds leaf \(c.next - 1) of tree \(c.tree) but says it ends tree \(header.tree) at \(header.leafCount) leaves")
            }
            try view.fetchPublished(leaves: c.next, server: server)
            var checked = c
            checked.checked = c.next
            checked.root = header.root
            checked.rootBatch = c.tipBatch
            try database.transaction {
                try view.verify(leaves: c.next, expectedRoot: header.root)
                try database.setTreeCursor(checked)
            }
            c = checked
        } catch let e as WalletError where e.code == "inconsistent" {
            try database.transaction {
                try view.rollBack(to: c.checked)
                c.next = c.checked
                c.tipBatch = c.rootBatch
                try database.setTreeCursor(c)
            }
            throw e
        }
    }

    /// Pages through each tree's public list of spent nullifiers from its cursor up to the
    /// tree's checked leaves (the list is numbered like the leaves of the transfers' outputs)
    /// and marks this wallet's notes spent where their nullifiers appear. Returns how many were
    /// newly spent.
    func syncSpends(server: ServerClient) throws -> Int {
        let capacity = try treeCapacity()
        var mine: [String: WalletDatabase.StoredNote] = [:]
        for n in try database.unspentNotes(includingUnverified: true) { mine[n.nullifier.decimalString] = n }
        var newlySpent = 0
        var spending: [(id: String, extAmount: Int64, outputs: [Int], settledAt: Int64?)] = []
        for var c in try database.treeCursors() where c.spendNext < c.checked {
            while c.spendNext < c.checked {
                let page = try server.spends(tree: c.tree, from: c.spendNext, limit: min(20_000, (c.checked - c.spendNext + 1) & ~1), capacity: capacity)
                if page.spends.isEmpty {
                    throw WalletTree.inconsistent("tree \(c.tree)'s nullifier list ends at \(c.spendNext) while the tree holds \(c.checked) leaves")
                }
                c.spendNext = page.next
                try database.transaction {
                    for s in page.spends {
                        guard let n = mine.removeValue(forKey: s.nullifier) else { continue }
                        // Within a tree, a note is spent after it settled; trees of several
                        // lanes grow at once, so across trees positions say nothing of order.
                        guard n.leafIndex / capacity != s.index / capacity || s.index > n.leafIndex else {
                            throw WalletTree.inconsistent("the note at leaf \(n.leafIndex) is listed as spent at position \(s.index), before it existed")
                        }
                        try database.markSpent(leafIndex: n.leafIndex, by: s.transferID)
                        newlySpent += 1
                        if !spending.contains(where: { $0.id == s.transferID }) {
                            let first = s.index - s.index % 2
                            spending.append((s.transferID, s.extAmount, [first, first + 1], s.settledAt))
                        }
                    }
                    try database.setTreeCursor(c)
                }
            }
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
    func resolvePendingTransfers(server: ServerClient, report: inout SyncReport) throws {
        let capacity = try treeCapacity()
        let pending = try database.transfers().filter { $0.status == .pending }
        let reserved = try database.unspentNotes(includingUnverified: true).filter { $0.pendingSpend != nil }
        for t in pending {
            switch try server.transferOutcome(t.id) {
            case .inFlight:
                continue
            case .settled(let answer):
                let receipt = answer.receipt
                guard try receipt.leafIndices.allSatisfy({ try database.isChecked(leaf: Int($0), capacity: capacity) }) else { continue }  // the next sync
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
