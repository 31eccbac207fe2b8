import ArgumentParser
import BN254
import Foundation
import Groth16
import Ledger
import Primitives
import Protocol
import PostgresLedger
import SQLiteLedger
import Settlement

/// `zksettle-bench ledger`: time of `SQLiteLedger.commit` for batches as the sequencer makes
/// them (real Poseidon notes and tree, signed receipts, snarkjs proof bytes), on a real file
/// in WAL mode with `synchronous=FULL` (so each commit includes its fsync). The batches are
/// built before timing; the sequencer's own time per batch is reported beside.
struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Commit batches to a SQLite or PostgreSQL ledger; ms per batch commit (durable).")

    @Option(help: "Transfers per batch.")
    var batchSize = 64

    @Option(help: "Batches to commit (median and p90 reported).")
    var batches = 50

    @Option(help: "Every n-th transfer is a withdrawal (writes a payout); 0 for none.")
    var withdrawalEvery = 8

    @Option(help: "Bytes of each encrypted output.")
    var ciphertextBytes = 200

    @Option(help: "Commit the same batches into this many fresh ledger files (more samples; the last is audited).")
    var rounds = 1

    @Option(help: "Directory for the ledger file (default: a new temporary directory, removed afterwards).")
    var dir: String?

    @Option(help: "An empty PostgreSQL database to commit into instead of a SQLite file: postgres://USER@HOST:PORT/DB (env ZKSETTLE_DATABASE). One round.")
    var database: String?

    @Option(help: ArgumentHelp("Make the PostgreSQL ledger with K open trees and commit the --batches split across K lanes, one writer thread and connection each, at once; reports the transfers/s of all lanes together (wall time). K = 1 is the same path with one writer.", valueName: "K"))
    var openTrees: Int?

    func validate() throws {
        if let k = openTrees {
            if let problem = OpenTrees.problem(k) { throw ValidationError(problem) }
            if k > 1, (database ?? ProcessInfo.processInfo.environment["ZKSETTLE_DATABASE"]) == nil {
                throw ValidationError("--open-trees above 1 needs --database: a SQLite file has one writer")
            }
        }
    }

    func run() throws {
        let base = dir.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-ledger-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        var paths: [String] = []
        defer {
            for path in paths where !path.hasPrefix("postgres") { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            if dir == nil { try? FileManager.default.removeItem(at: base) }
        }

        let key = Ed25519Key.generate()
        if let openTrees { return try runLanes(openTrees, key: key, base: base, paths: &paths) }
        let (commits, sequencerMs) = try makeBatches(key: key)

        var commitMs: [Double] = [], cpuMs: [Double] = []
        var ledger: (any Ledger)!
        let url = database ?? ProcessInfo.processInfo.environment["ZKSETTLE_DATABASE"]
        var followers = try Followers()
        for _ in 0..<(url == nil ? max(1, rounds) : 1) {
            followers = try Followers()
            ledger = try openLedger(url, openTrees: nil, base: base, paths: &paths)
            for commit in commits {
                let c0 = threadCPUNanoseconds()
                let t0 = Timer.now()
                try ledger.commit(commit)
                commitMs.append(Double(Timer.now() - t0) / 1e6)
                cpuMs.append(Double(threadCPUNanoseconds() - c0) / 1e6)
                try followers.learn(commit, from: ledger)
            }
        }
        let catchUp = try followers.medians(reaching: commits.last!.header.root)
        let auditMs = try auditedMs(ledger, key: key)
        report(path: paths.last!, base: base, engine: url == nil ? "sqlite" : "postgresql", batches: commits.count, commitMs: commitMs, cpuMs: cpuMs,
               sequencerMs: sequencerMs, auditMs: auditMs, catchUp: catchUp)
    }

    /// Every batch, built before timing as the sequencer builds them (Poseidon and signatures
    /// are not the ledger's cost), with the sequencer's own time per batch.
    func makeBatches(key: Ed25519Key, lane: Int = 0, of openTrees: Int = 1, count: Int? = nil) throws -> (commits: [BatchCommit], sequencerMs: [Double]) {
        var rng = SystemRandomNumberGenerator()
        func fr() -> Fr { Fr(reducingBigEndian: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
        let spender = SpendingKey(fr())
        let proof = Proof(unchecked: G1Affine.generator, G2Affine.generator, G1Affine.generator)
        let proofJSON = Array(SnarkJS.encode(proof))
        var state = try SequencerState(snapshot: LedgerSnapshot(tree: Int64(lane), leaves: [], spentNullifiers: [], recentHeaders: []), lane: lane,
                                       openTrees: openTrees)
        var clock = Int64(Date().timeIntervalSince1970 * 1000)

        var commits: [BatchCommit] = []
        var sequencerMs: [Double] = []
        for _ in 0..<max(1, count ?? batches) {
            var items: [VerifiedTransfer] = []
            for i in 0..<max(1, batchSize) {
                let withdrawal = withdrawalEvery > 0 && i % withdrawalEvery == 0
                let ext = ExtData(recipient: withdrawal ? "acct:\(i)" : "", extAmount: withdrawal ? -1000 : 0, fee: 1,
                                  encryptedOutputs: (0..<2).map { _ in (0..<ciphertextBytes).map { _ in UInt8.random(in: 0...255, using: &rng) } })
                let notes = (0..<4).map { _ in Note(value: UInt64.random(in: 0..<1_000_000, using: &rng), owner: spender.ownerKey, blinding: fr()) }
                let inputs = TransferPublicInputs(
                    root: state.currentRoot, publicAmount: ext.publicAmount, extDataHash: ext.hash,
                    nullifiers: Pair(notes[0], notes[1]).map { $0.nullifier(nullifierKey: spender.nullifierKey, leafIndex: Int.random(in: 0..<1 << 20, using: &rng)) },
                    commitments: Pair(notes[2].commitment, notes[3].commitment))
                items.append(VerifiedTransfer(request: TransferRequest(proof: proof, publicInputs: inputs, extData: ext),
                                              proofJSON: proofJSON, proofValid: true))
            }
            clock += 1
            let t0 = Timer.now()
            let (commit, _) = state.apply(items, now: clock, key: key)
            sequencerMs.append(Double(Timer.now() - t0) / 1e6)
            guard let commit, commit.transfers.count == items.count else { throw ValidationError("internal error: the sequencer refused a transfer") }
            commits.append(commit)
        }
        return (commits, sequencerMs)
    }

    /// An empty ledger: the PostgreSQL database `url` (made with `openTrees` when new; refused
    /// when it holds batches), or a new SQLite file in `base`. Its path joins `paths`.
    func openLedger(_ url: String?, openTrees: Int?, base: URL, paths: inout [String]) throws -> any Ledger {
        guard let url else {
            paths.append(base.appendingPathComponent("ledger-\(UUID().uuidString).sqlite").path)
            return try SQLiteLedger(path: paths.last!)
        }
        let ledger = try PostgresLedger(url: url, openTrees: openTrees, readers: 1)
        guard try ledger.counts().batches == 0 else { throw ValidationError("--database must name an empty database (it would mix the benchmark's batches into a ledger)") }
        paths.append(url)
        return ledger
    }

    /// The audit of everything committed, which must find nothing; its time in ms.
    func auditedMs(_ ledger: any Ledger, key: Ed25519Key) throws -> Double {
        let t0 = Timer.now()
        let faults = try ledger.audit(receiptPublicKey: key.publicKey, depositPublicKey: nil)
        guard faults.isEmpty else { throw ValidationError("internal error: the audit found \(faults)") }
        return Double(Timer.now() - t0) / 1e6
    }

    /// `--open-trees K`: the batches split across K lanes, built before timing, then committed
    /// by K threads at once (each its lane's writer, on its own connection), the wall time of
    /// all of them measured; then the audit. One JSON object.
    func runLanes(_ k: Int, key: Ed25519Key, base: URL, paths: inout [String]) throws {
        let perLane = max(1, (max(1, batches) + k - 1) / k)
        var built: [[BatchCommit]] = []
        var sequencerMs: [Double] = []
        for lane in 0..<k {
            let (commits, ms) = try makeBatches(key: key, lane: lane, of: k, count: perLane)
            built.append(commits)
            sequencerMs += ms
        }
        let url = database ?? ProcessInfo.processInfo.environment["ZKSETTLE_DATABASE"]
        let ledger = try openLedger(url, openTrees: k, base: base, paths: &paths)
        let engine = url == nil ? "sqlite" : "postgresql"
        // K writer threads (not the cooperative pool, nor `concurrentPerform`, which would
        // run no more writers than cores: a commit mostly waits on PostgreSQL's WAL flush).
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var commitMs: [Double] = []
            var failure: String?
        }
        let results = Results()
        let done = DispatchGroup()
        let t0 = Timer.now()
        for lane in 0..<k {
            done.enter()
            let mine = built[lane]
            let thread = Thread {
                var ms: [Double] = []
                do {
                    for commit in mine {
                        let c0 = Timer.now()
                        try ledger.commit(lane: lane, after: { _ in commit })
                        ms.append(Double(Timer.now() - c0) / 1e6)
                    }
                } catch {
                    results.lock.withLock { results.failure = "lane \(lane): \(error)" }
                }
                results.lock.withLock { results.commitMs += ms }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        let wallSeconds = Double(Timer.now() - t0) / 1e9
        if let failure = results.failure { throw ValidationError("a commit failed: \(failure)") }
        let auditMs = try auditedMs(ledger, key: key)
        let sorted = results.commitMs.sorted()
        func pct(_ p: Double) -> Double { percentile(sorted, p) }
        let transfers = Double(k * perLane * max(1, batchSize))
        emit([
            "benchmark": "ledger_commit_open_trees",
            "engine": engine,
            "open_trees": k,
            "transfers_per_second_all_lanes": round4(transfers / wallSeconds),
            "seconds_wall": round4(wallSeconds),
            "transfers_per_batch": batchSize,
            "batches": k * perLane,
            "batches_per_lane": perLane,
            "ms_commit_median": pct(0.5),
            "ms_commit_p90": pct(0.9),
            "ms_commit_max": round4(sorted.last!),
            "ms_sequencer_apply_median": round4(sequencerMs.sorted()[sequencerMs.count / 2]),
            "ms_audit_all": round4(auditMs),
            "durability": engine == "sqlite" ? "WAL, synchronous=FULL" : "synchronous_commit=on",
        ])
    }

    /// One JSON object: commit times (median, p90, extremes, CPU), the sequencer's and the
    /// audit's, and the file sizes.
    func report(path: String, base: URL, engine: String, batches: Int, commitMs: [Double], cpuMs: [Double], sequencerMs: [Double], auditMs: Double,
                catchUp: (readMs: Double, frontierMs: Double, replayMs: Double)) {
        func size(_ p: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
        let bytes = size(path), walBytes = size(path + "-wal")
        let sorted = commitMs.sorted()
        func pct(_ p: Double) -> Double { percentile(sorted, p) }
        emit([
            "benchmark": "ledger_commit",
            "engine": engine,
            "transfers_per_second_durable": round4(Double(batchSize) * 1000 / pct(0.5)),
            "transfers_per_batch": batchSize,
            "batches": batches,
            "rounds": max(1, rounds),
            "ms_commit_median": pct(0.5),
            "ms_commit_p90": pct(0.9),
            "ms_commit_min": round4(sorted.first!),
            "ms_commit_cpu_median": round4(cpuMs.sorted()[cpuMs.count / 2]),
            "ms_commit_max": round4(sorted.last!),
            "ms_sequencer_apply_median": round4(sequencerMs.sorted()[sequencerMs.count / 2]),
            "ms_audit_all": round4(auditMs),
            "ms_catch_up_read_median": round4(catchUp.readMs),
            "ms_catch_up_from_frontier_median": round4(catchUp.frontierMs),
            "ms_catch_up_replaying_leaves_median": round4(catchUp.replayMs),
            "file_bytes": bytes,
            "wal_bytes": walBytes,
            "durability": engine == "sqlite" ? "WAL, synchronous=FULL" : "synchronous_commit=on",
            "directory": engine == "sqlite" ? base.path : "(database)",
        ])
    }
}

/// The `p` quantile of `sorted` (ascending), rounded as the JSON reports it.
func percentile(_ sorted: [Double], _ p: Double) -> Double { round4(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }

/// CPU time of the calling thread (the rest of a commit's wall time is waiting: fsync, locks).
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// What another node spends to learn each committed batch (issue 16), batch by batch after its
/// commit (outside the commit's timing): the ledger read (`changes(after:)`: header, stored
/// frontier, nullifiers), the catch-up from that frontier, and, for comparison, the catch-up by
/// replaying the batch's leaves (as before frontiers were stored; the leaves given from memory,
/// so that figure is the Poseidon work alone). Both followers must end at the last root.
struct Followers {
    var byFrontier: SequencerState, byReplay: SequencerState
    var readMs: [Double] = [], frontierMs: [Double] = [], replayMs: [Double] = []

    init() throws {
        let empty = LedgerSnapshot(leaves: [], spentNullifiers: [], recentHeaders: [])
        byFrontier = try SequencerState(snapshot: empty)
        byReplay = try SequencerState(snapshot: empty)
    }

    mutating func learn(_ commit: BatchCommit, from ledger: any Ledger) throws {
        let t0 = Timer.now()
        let changes = try ledger.changes(after: commit.header.number - 1)
        let t1 = Timer.now()
        guard changes.frontier != nil, changes.headers == [commit.header] else {
            throw ValidationError("internal error: batch \(commit.header.number) was read back without its frontier")
        }
        try byFrontier.catchUp(changes)
        let t2 = Timer.now()
        try byReplay.catchUp(LedgerChanges(headers: [commit.header], leaves: commit.leaves.map { ($0.index, $0.commitment) },
                                           nullifiers: changes.nullifiers, voucherNonces: changes.voucherNonces))
        let t3 = Timer.now()
        readMs.append(Double(t1 - t0) / 1e6); frontierMs.append(Double(t2 - t1) / 1e6); replayMs.append(Double(t3 - t2) / 1e6)
    }

    func medians(reaching root: Fr) throws -> (readMs: Double, frontierMs: Double, replayMs: Double) {
        guard byFrontier.currentRoot == root, byReplay.currentRoot == root else {
            throw ValidationError("internal error: a follower did not reach the last batch's root")
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        return (median(readMs), median(frontierMs), median(replayMs))
    }
}
