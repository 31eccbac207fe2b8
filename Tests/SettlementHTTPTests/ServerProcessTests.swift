import BN254
import Circuits
import Foundation
import Groth16
import Primitives
import Protocol
import SQLiteLedger
import Settlement
import SettlementClient
import TestSupport
import Testing
import Wallet

/// The real `zksettle-server` binary as a child process on a temporary data directory that
/// already holds the test process's development keys (so the transfers proved here verify
/// there, and the server skips its own setup), talked to over loopback with the wallet's
/// blocking HTTP client.
final class ServerProcess: @unchecked Sendable {
    let dir: URL
    let data: URL
    let url: String
    let child: ChildProcess

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-process-\(UUID().uuidString)")
        data = dir.appendingPathComponent("data")
        let keys = data.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try Keys.pair.0.write(to: keys.appendingPathComponent("transfer.zkspk"))
        try SnarkJS.encode(Keys.verifyingKey).write(to: keys.appendingPathComponent("verification_key.json"))
        try Data((TransferCircuit.circuitID + "\n").utf8).write(to: keys.appendingPathComponent("circuit-id"))
        // The test process's deposit key, so that `deposit(…)`'s vouchers are this server's.
        try Data((Hex.encode(depositKey.privateKey) + "\n").utf8).write(to: data.appendingPathComponent("deposit.key"))
        chmod(data.appendingPathComponent("deposit.key").path, 0o600)
        let port = try Executables.freePort()
        url = "http://127.0.0.1:\(port)"
        child = try ChildProcess("zksettle-server",
                                 ["--data", data.path, "--port", String(port),
                                  "--admin-token", adminToken, "--log-level", "warning"] + arguments,
                                 log: dir.appendingPathComponent("server.log"), environment: environment)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let c = try? HTTPConnection(url, timeoutSeconds: 2), let r = try? c.get("/healthz"), r.status == 200 { return }
            guard child.process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        _ = child.stop(within: 5)
        throw WalletError("the server did not start: \(child.log.suffix(2000))")
    }

    var ledgerPath: String { data.appendingPathComponent("ledger.sqlite").path }

    func post(_ request: TransferRequest, on connection: HTTPConnection) throws -> HTTPConnection.Response {
        try connection.post("/v1/transfers", body: TransferBody.encode(request), headers: request.voucher.map { [TransferBody.voucherHeader: $0.text] } ?? [:])
    }

    deinit {
        _ = child.stop(within: 5)
        try? FileManager.default.removeItem(at: dir)
    }
}

extension HTTPConnection.Response {
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var batch: Int? { ((object["receipt"] as? [String: Any])?["batch"] as? NSNumber)?.intValue }
}

@Suite(.serialized, .offCooperativePool) struct ServerProcessTests {
    /// One reply slot per request, filled by many threads.
    final class Replies: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [(status: Int, code: String?)?]
        init(_ n: Int) { slots = Array(repeating: nil, count: n) }
        func set(_ i: Int, _ value: (Int, String?)) { lock.lock(); slots[i] = value; lock.unlock() }
        var all: [(status: Int, code: String?)?] { lock.lock(); defer { lock.unlock() }; return slots }
    }

    /// Issue 14, point 1: the sequencer took at most four batches' worth of ready transfers at
    /// a time, and the loop that took them removed one more before it noticed the limit,
    /// dropping it: the next transfer in order never came, settlement stopped and shutdown
    /// hung. With `--batch-size 1` four batches are four transfers, and eight verifier threads
    /// finish out of order, so runs of more than four ready transfers are the rule here.
    ///
    /// What this covers: 288 transfers posted at once from 288 connections, each waiting for
    /// its answer. Proving hundreds of transfers would take minutes, so 24 of them are real
    /// deposits (proved here, about half a second each) and 264 are forgeries: a real
    /// deposit's proof and external data with fresh nullifiers, so each is a transfer of its own
    /// that passes admission and is refused by verification (`invalid_proof`). Both kinds pass
    /// through the verifier pool and the sequencer alike; only the deposits reach the ledger.
    /// Every post must get its answer (a request that hangs fails after 60 s), the server must
    /// stop by itself on SIGTERM, and the ledger must hold the 24 deposits and nothing else.
    @Test func batchSizeOneAndEightWorkersSettleHundredsOfConcurrentTransfers() async throws {
        // Proving (seconds of work) and the blocking client both stay off the cooperative pool,
        // which in-process servers of other suites running meanwhile need.
        try await offCooperativePool {
            let valid = try (0..<24).map { _ in try deposit(1, to: Peer(), root: MerkleTree().root).0 }
            var forged: [TransferRequest] = []
            for v in valid {
                for _ in 0..<11 {
                    var f = v
                    f.publicInputs.nullifiers = Pair(SecureRandom.scalar(), SecureRandom.scalar())
                    f.voucher = voucher(UInt64(v.extData.extAmount))  // its own: it must reach the verifier
                    forged.append(f)
                }
            }
            let all = (valid.map { ($0, true) } + forged.map { ($0, false) }).shuffled()
            // Probation off (issue 14, point 4): this test is about the batch pipeline, and with
            // it on, the forgeries' client (127.0.0.1, like the deposits') would be moved to the
            // single-verification lane after its first failed batch, whose bounded queue would
            // refuse some of the 288 posts with 429 (`SpamTests` covers that lane).
            let server = try ServerProcess(["--batch-size", "1", "--workers", "8", "--flush-ms", "1", "--probation-seconds", "0"])
            let replies = Replies(all.count)
            let go = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            for (i, (request, _)) in all.enumerated() {
                done.enter()
                let t = Thread {
                    defer { done.leave() }
                    go.wait()
                    do {
                        let c = try HTTPConnection(server.url, timeoutSeconds: 60)
                        let r = try server.post(request, on: c)
                        replies.set(i, (r.status, r.errorCode))
                    } catch {
                        replies.set(i, (-1, "\(error)"))
                    }
                }
                t.stackSize = 1 << 20
                t.start()
            }
            for _ in all { go.signal() }
            done.wait()

            let answers = replies.all
            for (i, (request, isValid)) in all.enumerated() {
                let a = answers[i]
                if isValid {
                    #expect(a?.status == 200, "deposit \(request.id): \(String(describing: a))")
                } else {
                    #expect(a?.status == 422 && a?.code == "invalid_proof", "forgery \(request.id): \(String(describing: a))")
                }
            }
            let stopped = server.child.stop(within: 30)
            #expect(stopped.exited && stopped.status == 0, "the server did not shut down by itself: \(server.child.log.suffix(2000))")

            let ledger = try SQLiteLedger(path: server.ledgerPath, readOnly: true)
            #expect(try ledger.counts().transfers == Int64(valid.count))
            #expect(try ledger.counts().nullifiers == Int64(2 * valid.count))
            for f in forged.prefix(20) { #expect(try ledger.settledTransfer(f.id) == nil) }
            #expect(try ledger.audit() == [])
        }
    }

    /// Issue 14, point 3: after a failed commit the service reloads its state from the ledger.
    /// Two failures are injected into the real server (`ZKSETTLE_FAULT_FAIL_AT`): the second
    /// commit fails before COMMIT (nothing lands: that transfer is `storage_failure`, and the
    /// ledger is unchanged), the third fails after COMMIT (the batch landed but the server
    /// heard an error: that transfer is answered with its stored settlement). Before the fix
    /// the service went back to its in-memory state, which no longer matched the file after the
    /// second kind, and every later batch failed until a restart.
    @Test func settlementResumesAfterAFailedCommit() async throws {
        try await offCooperativePool {
            let transfers = try (0..<4).map { _ in try deposit(2, to: Peer(), root: MerkleTree().root).0 }
            let server = try ServerProcess(["--flush-ms", "1"],
                                           environment: ["ZKSETTLE_FAULT_FAIL_AT": "inside-commit:2,after-commit:2"])
            let c = try HTTPConnection(server.url, timeoutSeconds: 60)
            let first = try server.post(transfers[0], on: c)
            #expect(first.status == 200 && first.batch == 1, "\(first.object)")

            // Commit 2 fails before COMMIT: refused, and nothing of it is stored.
            let failed = try server.post(transfers[1], on: c)
            #expect(failed.status == 503 && failed.errorCode == "storage_failure", "\(failed.object)")
            #expect(try c.get("/v1/transfers/\(transfers[1].id.hex)").status == 404)
            let afterFailure = try SQLiteLedger(path: server.ledgerPath, readOnly: true).counts()
            #expect(afterFailure.transfers == 1 && afterFailure.batches == 1 && afterFailure.nullifiers == 2)

            // Commit 3 lands, then fails: the server finds it in the ledger and says settled.
            let landed = try server.post(transfers[2], on: c)
            #expect(landed.status == 200 && landed.batch == 2, "\(landed.object)")
            let stored = try c.get("/v1/transfers/\(transfers[2].id.hex)")
            #expect(stored.status == 200 && stored.body == landed.body, "the answer is the stored settlement")

            // Settlement goes on from what is stored: the next batch is 3, the refused transfer settles now.
            let next = try server.post(transfers[3], on: c)
            #expect(next.status == 200 && next.batch == 3, "\(next.object)")
            let retried = try server.post(transfers[1], on: c)
            #expect(retried.status == 200 && retried.batch == 4, "\(retried.object)")

            let log = server.child.log
            #expect(log.contains("inside-commit:2") && log.contains("after-commit:2"), "both faults fired: \(log.suffix(2000))")
            let verify = try Executables.run("zksettle-admin", ["db", "verify", "--data", server.data.path, "--proofs"])
            #expect(verify.status == 0 && verify.stdout.contains("ledger OK"), "\(verify.stdout)\(verify.stderr)")
            let stopped = server.child.stop(within: 30)
            #expect(stopped.exited && stopped.status == 0)
            #expect(try SQLiteLedger(path: server.ledgerPath, readOnly: true).counts().transfers == 4)
        }
    }

    /// Issue 14, point 3, with the real binary: `--tree-capacity 32` rolls over after 16
    /// transfers, `zksettle-admin db verify --proofs` accepts the ledger of two trees, and a
    /// restart with another capacity (or one that is not a power of two) is refused with an
    /// error naming the ledger's and changes nothing; without the option the stored one is used.
    @Test func treeCapacityRollsOverAndAnotherCapacityIsRefusedAtRestart() async throws {
        try await offCooperativePool {
            let transfers = try (0..<17).map { _ in try deposit(3, to: Peer(), root: MerkleTree().root).0 }
            let server = try ServerProcess(["--flush-ms", "1", "--tree-capacity", "32"])
            let c = try HTTPConnection(server.url, timeoutSeconds: 60)
            for t in transfers {
                let r = try server.post(t, on: c)
                #expect(r.status == 200, "\(r.object)")
            }
            let tree = try c.get("/v1/tree").object
            #expect(tree["tree"] as? Int == 1 && tree["tree_leaf_count"] as? Int == 2 && tree["leaf_count"] as? Int == 34, "\(tree)")
            let verify = try Executables.run("zksettle-admin", ["db", "verify", "--data", server.data.path, "--proofs"])
            #expect(verify.status == 0 && verify.stdout.contains("ledger OK"), "\(verify.stdout)\(verify.stderr)")
            #expect(server.child.stop(within: 30).exited)
            let before = try SQLiteLedger(path: server.ledgerPath, readOnly: true).counts()

            let common = ["--data", server.data.path, "--port", "0", "--admin-token", adminToken]
            let other = try Executables.run("zksettle-server", common + ["--tree-capacity", "64"])
            #expect(other.status == 1, "\(other.stderr)")
            #expect(other.stderr.contains("created with a tree capacity of 32"), "\(other.stderr)")
            let odd = try Executables.run("zksettle-server", common + ["--tree-capacity", "48"])
            #expect(odd.status != 0 && odd.stderr.contains("power of two"), "\(odd.stderr)")
            #expect(try SQLiteLedger(path: server.ledgerPath, readOnly: true).counts() == before)
            let stored = try SQLiteLedger(path: server.ledgerPath, readOnly: true)
            #expect(stored.treeCapacity == 32)
        }
    }
}
