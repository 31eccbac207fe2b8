import ArgumentParser
import BN254
import Foundation
import Groth16
import Groth16Prover
import Primitives
import Protocol
import SettlementClient
import Wallet

/// `zksettle-bench load`: settled transfers per second through a running server's HTTP API.
///
/// The corpus is N distinct valid transfers, each a deposit (two dummy inputs, two fresh output
/// notes, `ext_amount` > 0): every one carries a real Groth16 proof, two fresh nullifiers and two
/// leaves, so the server does for each what it does for any private transfer (admission, batch
/// verification, nullifier checks, a durable commit). Deposits need no earlier state, so one
/// corpus replays against any fresh ledger made with the same keys. Proving is slow (about half a
/// second each), so the corpus is written once to disk, keyed by the server's verifying key and
/// its current root, and reused; the proving key comes from the server
/// (`GET /v1/params/proving-key`).
///
/// The server must be fresh (its root is the corpus root, and the root stays in its window of
/// accepted roots for the run): replaying into a ledger that already holds the corpus gives
/// `double_spend` or old receipts, not a measurement. `scripts/load.sh` does it all.
struct LoadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Post a corpus of distinct valid transfers to a server; settled/s and latency as JSON.",
        discussion: """
            Run against a fresh ledger (scripts/load.sh makes one with cached keys, starts the
            server, runs this and stops it). The first run for a set of keys proves the corpus
            (progress on stderr) and caches it under --corpus.
            """)

    @Option(help: "The server's base URL.") var server = "http://127.0.0.1:8080"
    @Option(help: "Transfers to post (each once).") var transfers = 1000
    @Option(help: "Concurrent clients, each with its own kept-alive connection.") var concurrency = 64
    @Option(help: ArgumentHelp("A file holding the server's admin token (its <data>/admin-token; default: $ZKSETTLE_ADMIN_TOKEN): the corpus is deposits, each paid by a voucher the server issues before the timed run.", valueName: "file"))
    var adminTokenFile: String?
    @Option(help: "Corpus cache directory (default: ~/.cache/zksettle/load-corpus).") var corpus: String?
    @Flag(help: "Only make (or find) the corpus and print where it is: transfers.jsonl, one request body per line.")
    var prepareOnly = false
    @Option(help: "Conflict sets: each run of this many consecutive corpus transfers spends the same two (dummy) notes, with different outputs, so exactly one of each run can settle.")
    var conflicts = 1
    @Option(help: "Every corpus deposit of this amount (default: random amounts 1…1000), e.g. for transfers that share one voucher.")
    var amount: UInt64?

    func run() throws {
        guard transfers > 0, concurrency > 0 else { throw ValidationError("--transfers and --concurrency must be positive") }
        let client = try HTTPConnection(server)
        let params: ServerParameters, tree: TreeAnswer
        do {
            params = try ServerParameters.decode(try getBody(client, "/v1/params"))
            tree = try TreeAnswer.decode(try getBody(client, "/v1/tree"))
        } catch let e as ServerAnswer.Malformed {
            throw ValidationError("\(server): \(e.description): is it a zksettle-server?")
        }
        guard params.depositPublicKey != nil else {
            throw ValidationError("the server at \(server) refuses deposits (started with --no-deposits)")
        }
        let root = tree.root
        if tree.leafCount > 0 {
            FileHandle.standardError.write(Data("note: the ledger already holds \(tree.leafCount) leaves; the corpus is made for its current root\n".utf8))
        }

        guard conflicts >= 1 else { throw ValidationError("--conflicts must be ≥ 1") }
        if let amount, amount < 1 || amount > 1_000_000_000 { throw ValidationError("--amount must be between 1 and 10^9") }
        // Keyed by what the proofs depend on (the circuit, its verifying key, the root), not by
        // the parameters fingerprint: that names the receipt key too, which every fresh data
        // directory makes anew, and the corpus would be proved again on every run.
        let key = SHA256.hex(Array(params.circuitID.utf8) + params.verifyingKey.canonicalBytes + root.bigEndianBytes).prefix(16) + (conflicts > 1 ? "-conflicts-\(conflicts)" : "") + (amount.map { "-amount-\($0)" } ?? "")
        let base = corpus.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/zksettle/load-corpus")
        let dir = base.appendingPathComponent(String(key), isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let bodies = try loadOrProve(dir: dir, client: client, root: root, count: transfers)
        if prepareOnly {
            emit(["benchmark": "load", "corpus": dir.path, "file": dir.appendingPathComponent("transfers.jsonl").path,
                  "transfers": bodies.count])
            return
        }

        let vouchers = try issueVouchers(client, for: bodies)
        let outcome = replay(bodies, vouchers: vouchers)
        emit(outcome.report(transfers: transfers, concurrency: concurrency, server: server, corpus: dir.path))
    }

    /// One voucher per corpus deposit, for its amount, from `POST /v1/admin/vouchers` (not
    /// timed: in production vouchers are issued long before they are used).
    private func issueVouchers(_ client: HTTPConnection, for bodies: [Data]) throws -> [String] {
        let token: String
        if let adminTokenFile {
            guard let data = FileManager.default.contents(atPath: adminTokenFile) else { throw ValidationError("cannot read --admin-token-file \(adminTokenFile)") }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let t = ProcessInfo.processInfo.environment["ZKSETTLE_ADMIN_TOKEN"] {
            token = t
        } else {
            throw ValidationError("the corpus is deposits, each paid by a voucher: pass --admin-token-file (the server's data directory, file admin-token)")
        }
        return try bodies.map { body in
            let amount = try TransferBody.decode(body, voucher: nil).extData.extAmount
            let r = try client.request("POST", "/v1/admin/vouchers", headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                       body: VoucherOrder(amount: amount, expiresIn: 86_400).encode())
            guard r.status == 201, let text = (r.json as? [String: Any])?["voucher"] as? String else {
                throw ValidationError("POST \(server)/v1/admin/vouchers answered \(r.status): check --admin-token-file")
            }
            return text
        }
    }

    private func getBody(_ client: HTTPConnection, _ path: String) throws -> Data {
        let r = try client.get(path)
        guard r.status == 200 else { throw ValidationError("GET \(server)\(path) answered \(r.status): is it a zksettle-server?") }
        return r.body
    }

    /// Request bodies from `dir/transfers.jsonl`, proving and appending the missing ones.
    private func loadOrProve(dir: URL, client: HTTPConnection, root: Fr, count: Int) throws -> [Data] {
        let file = dir.appendingPathComponent("transfers.jsonl")
        var bodies: [Data] = []
        if let existing = try? Data(contentsOf: file) {
            bodies = existing.split(separator: UInt8(ascii: "\n")).map { Data($0) }
        }
        if bodies.count >= count { return Array(bodies.prefix(count)) }

        let pkURL = dir.appendingPathComponent("transfer.zkspk")
        if !FileManager.default.fileExists(atPath: pkURL.path) {
            FileHandle.standardError.write(Data("downloading the proving key from \(server)…\n".utf8))
            let r = try client.get("/v1/params/proving-key")
            guard r.status == 200 else { throw ValidationError("GET /v1/params/proving-key answered \(r.status): the corpus needs the server's proving key") }
            try r.body.write(to: pkURL, options: .atomic)
        }
        let prover = TransferProver(provingKey: try ProvingKey.load(from: pkURL))
        let handle = try openForAppend(file)
        defer { try? handle.close() }
        let missing = count - bodies.count
        let start = Timer.now()
        FileHandle.standardError.write(Data("proving \(missing) corpus transfers (cached in \(dir.path))\n".utf8))
        var shared: [SpendableNote] = []
        for i in 0..<missing {
            if (bodies.count) % conflicts == 0 { shared = [TransferProver.dummy(), TransferProver.dummy()] }
            let amount = self.amount ?? UInt64.random(in: 1...1_000)
            let outputs = [Note(value: amount, owner: SecureRandom.scalar(), blinding: SecureRandom.scalar()),
                           Note(value: 0, owner: SecureRandom.scalar(), blinding: SecureRandom.scalar())]
            let ext = ExtData(recipient: "", extAmount: Int64(amount), fee: 0,
                              encryptedOutputs: [SecureRandom.bytes(120), SecureRandom.bytes(120)])
            let request = try prover.prove(inputs: conflicts > 1 ? shared : [], outputs: outputs, extData: ext, root: root)
            let body = TransferBody.encode(request)
            try handle.write(contentsOf: body + Data([UInt8(ascii: "\n")]))
            bodies.append(body)
            let elapsed = Double(Timer.now() - start) / 1e9
            let eta = elapsed / Double(i + 1) * Double(missing - i - 1)
            FileHandle.standardError.write(Data("\r  \(i + 1)/\(missing) proved, \(String(format: "%.0f", elapsed)) s, about \(String(format: "%.0f", eta)) s left   ".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        return bodies
    }

    private func openForAppend(_ file: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: file.path),
           !FileManager.default.createFile(atPath: file.path, contents: nil) {
            throw ValidationError("cannot create \(file.path): check that the corpus directory is writable")
        }
        let h = try FileHandle(forWritingTo: file)
        try h.seekToEnd()
        return h
    }

    /// Posts every body once from `concurrency` threads; each request waits for settlement.
    private func replay(_ bodies: [Data], vouchers: [String]) -> LoadOutcome {
        let state = LoadState(count: bodies.count)
        let start = Timer.now()
        let url = server
        // One thread per client: they block on the network, so Dispatch's core-sized pool
        // (concurrentPerform) would run only as many clients as there are cores.
        let group = DispatchGroup()
        var threads: [Thread] = []
        for _ in 0..<concurrency {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                Self.client(url: url, bodies: bodies, vouchers: vouchers, state: state)
            }
            thread.stackSize = 1 << 20
            threads.append(thread)
        }
        for t in threads { t.start() }
        group.wait()
        return state.outcome(seconds: Double(Timer.now() - start) / 1e9)
    }

    /// One client: posts the next unposted body until none is left, waiting for each answer.
    private static func client(url: String, bodies: [Data], vouchers: [String], state: LoadState) {
        guard let connection = try? HTTPConnection(url, timeoutSeconds: 120) else { return }
        while let i = state.next() {
            let t0 = Timer.now()
            let outcome: String
            do {
                let r = try connection.post("/v1/transfers", body: bodies[i], headers: [TransferBody.voucherHeader: vouchers[i]])
                if r.status == 200 {
                    outcome = "settled"
                } else {
                    outcome = ErrorEnvelope.explaining(r.body, status: r.status).code
                }
            } catch {
                outcome = "transport_error"
            }
            state.record(i, outcome: outcome, ms: Double(Timer.now() - t0) / 1e6)
        }
    }
}

/// Shared by the replay threads: the next index to post, and each result.
private final class LoadState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    private var latencies: [Double] = []
    private var outcomes: [String: Int] = [:]

    init(count: Int) { self.count = count; latencies.reserveCapacity(count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < count else { return nil }
        defer { nextIndex += 1 }
        return nextIndex
    }

    func record(_ i: Int, outcome: String, ms: Double) {
        lock.lock(); defer { lock.unlock() }
        outcomes[outcome, default: 0] += 1
        if outcome == "settled" { latencies.append(ms) }
    }

    func outcome(seconds: Double) -> LoadOutcome {
        lock.lock(); defer { lock.unlock() }
        return LoadOutcome(seconds: seconds, settledLatencies: latencies.sorted(), outcomes: outcomes)
    }
}

private struct LoadOutcome {
    let seconds: Double
    let settledLatencies: [Double]
    let outcomes: [String: Int]

    func percentile(_ p: Double) -> Double {
        guard !settledLatencies.isEmpty else { return 0 }
        let i = min(settledLatencies.count - 1, Int((p * Double(settledLatencies.count)).rounded(.up)) - 1)
        return round4(settledLatencies[max(0, i)])
    }

    func report(transfers: Int, concurrency: Int, server: String, corpus: String) -> [String: Any] {
        let settled = outcomes["settled"] ?? 0
        var rejects = outcomes
        rejects["settled"] = nil
        return [
            "benchmark": "load",
            "server": server,
            "transfers": transfers,
            "concurrency": concurrency,
            "settled": settled,
            "rejects": rejects,
            "seconds": round4(seconds),
            "settled_per_second": (Double(settled) / seconds * 10).rounded() / 10,
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "max_ms": settledLatencies.last.map(round4) ?? 0,
            "corpus": corpus,
            "kind": "deposits (2 dummy inputs, 2 outputs): a full proof, 2 nullifiers, 2 leaves each",
        ]
    }
}
