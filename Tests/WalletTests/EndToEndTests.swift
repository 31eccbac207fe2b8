import Foundation
import SettlementClient
import TestSupport
import Testing
import Wallet

/// The real `zksettle-server` binary on a temporary data directory and a free port, driven by
/// the real `zkwallet` binary: two peers paying each other, a watch-only wallet, a restore.
@Suite(.serialized) struct EndToEndTests {
    /// A deposit voucher for `amount` from `zksettle-admin deposits voucher` on the server's
    /// data directory `serverData` (its last line of output).
    static func voucher(_ amount: Int, serverData: URL, expires: String = "1h") throws -> String {
        let r = try Executables.run("zksettle-admin", ["deposits", "voucher", "--amount", String(amount), "--expires", expires, "--data", serverData.path])
        guard r.status == 0, r.lastLine.hasPrefix("zkv1") else { throw WalletError("deposits voucher failed (\(r.status)): \(r.stderr)") }
        return r.lastLine
    }

    /// `zksettle-server` as a child process on a temporary data directory, removed at the end.
    final class Server {
        let data: URL
        let url: String
        let child: ChildProcess

        /// `prepare` runs on the data directory before the server starts and returns extra
        /// arguments; `caFile` makes the URL https:// and is trusted for the health check.
        init(caFile: String? = nil, prepare: (URL) throws -> [String] = { _ in [] }) throws {
            data = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            let extra = try prepare(data)
            let port = try Executables.freePort()
            url = "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)"
            child = try ChildProcess("zksettle-server",
                                     ["--data", data.appendingPathComponent("server").path, "--port", String(port),
                                      "--admin-token", "e2e-admin", "--flush-ms", "1"] + extra,
                                     log: data.appendingPathComponent("server.log"))
            // First start makes development keys (a few seconds): wait for /healthz.
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let c = try? HTTPConnection(url, timeoutSeconds: 2, caFile: caFile), let r = try? c.get("/healthz"), r.status == 200 { return }
                guard child.process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            stop()
            throw WalletError("the server did not start: \(child.log.suffix(2000))")
        }

        func stop() { child.stop() }

        /// A voucher for `amount`, signed with this server's deposit key.
        func voucher(_ amount: Int) throws -> String { try EndToEndTests.voucher(amount, serverData: data.appendingPathComponent("server")) }

        deinit {
            stop()
            try? FileManager.default.removeItem(at: data)
        }
    }

    typealias Run = Executables.Output

    /// `zkwallet args… --wallet dir --server url`, with `stdin` fed to it.
    static func zkwallet(_ args: [String], wallet: URL, server: Server, stdin: String? = nil) throws -> Run {
        try Executables.run("zkwallet", args + ["--wallet", wallet.path, "--server", server.url], stdin: stdin)
    }

    /// Two new wallets, alice and bob, in the server's directory; alice deposits `deposits`
    /// (one voucher each). Returns their directories and bob's address.
    static func alicePaysBob(_ server: Server, deposits: [Int]) throws -> (a: URL, b: URL, addressB: String) {
        let a = server.data.appendingPathComponent("alice"), b = server.data.appendingPathComponent("bob")
        ok(try zkwallet(["init"], wallet: a, server: server), "init A")
        ok(try zkwallet(["init"], wallet: b, server: server), "init B")
        let addressB = try zkwallet(["address"], wallet: b, server: server).lastLine
        for amount in deposits {
            ok(try zkwallet(["deposit", String(amount), "--voucher", try server.voucher(amount)], wallet: a, server: server), "deposit \(amount)")
        }
        return (a, b, addressB)
    }

    static func amounts(_ history: [[String: Any]], direction: String) -> [Int] {
        history.filter { $0["direction"] as? String == direction }.compactMap { ($0["amount"] as? NSNumber)?.intValue }.sorted()
    }

    static func ok(_ r: Run, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "\(what) failed (\(r.status)):\n\(r.stdout)\n\(r.stderr)", sourceLocation: sourceLocation)
    }

    func spendable(_ wallet: URL, _ server: Server, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int? {
        let r = try Self.zkwallet(["balance", "--json"], wallet: wallet, server: server)
        Self.ok(r, "balance", sourceLocation: sourceLocation)
        return (r.object["spendable"] as? NSNumber)?.intValue
    }

    @Test func twoPeersPayEachOther() async throws {
        try await offCooperativePool {
            let server = try Server()
            defer { server.stop() }
            let root = server.data
            let a = root.appendingPathComponent("alice"), b = root.appendingPathComponent("bob")
            let watch = root.appendingPathComponent("bob-watch"), restored = root.appendingPathComponent("alice-restored")

            // Two wallets; A's backup phrase is printed once.
            let initA = try Self.zkwallet(["init", "--json"], wallet: a, server: server)
            Self.ok(initA, "init A")
            let phrase = try #require(initA.object["backup_phrase"] as? String)
            Self.ok(try Self.zkwallet(["init"], wallet: b, server: server), "init B")
            let addressA = try Self.zkwallet(["address"], wallet: a, server: server).lastLine
            let addressB = try Self.zkwallet(["address"], wallet: b, server: server).lastLine
            #expect(addressA.hasPrefix("zks1") && addressB.hasPrefix("zks1") && addressA != addressB)
            #expect(initA.object["address"] as? String == addressA)
            let keyMode = try FileManager.default.attributesOfItem(atPath: a.appendingPathComponent("key.json").path)[.posixPermissions] as? Int
            #expect(keyMode == 0o600)

            // A deposit needs a voucher for its exact amount, and a voucher pays once.
            let missing = try Self.zkwallet(["deposit", "100"], wallet: a, server: server)
            #expect(missing.status == 64 && missing.stderr.contains("zksettle-admin deposits voucher"), "\(missing.stderr)")
            let voucher = try server.voucher(100)
            let wrongAmount = try Self.zkwallet(["deposit", "99", "--voucher", voucher], wallet: a, server: server)
            #expect(wrongAmount.status == 64 && wrongAmount.stderr.contains("the voucher is for 100, not 99"), "\(wrongAmount.stderr)")
            // A voucher signed by another server's deposit key.
            let elsewhere = root.appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            try Data((0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined().utf8)
                .write(to: elsewhere.appendingPathComponent("deposit.key"))
            let foreign = try Self.zkwallet(["deposit", "100", "--voucher", try Self.voucher(100, serverData: elsewhere)],
                                            wallet: a, server: server)
            // Refused before proving (issue 19, point 7): no proving progress, bad usage.
            #expect(foreign.status == 64 && foreign.stderr.contains("not signed by this server's deposit key")
                    && foreign.stderr.contains("nothing was proved") && !foreign.stderr.contains("proving"), "\(foreign.stderr)")
            let voucherFile = root.appendingPathComponent("voucher.txt")
            try Data((voucher + "\n").utf8).write(to: voucherFile)
            Self.ok(try Self.zkwallet(["deposit", "100", "--voucher-file", voucherFile.path], wallet: a, server: server), "deposit")
            #expect(try spendable(a, server) == 100)
            let reused = try Self.zkwallet(["deposit", "100", "--voucher", voucher], wallet: a, server: server)
            #expect(reused.status == 1 && reused.stderr.contains("voucher_used"), "\(reused.stderr)")
            #expect(try spendable(a, server) == 100)

            // A pays B 30 with a memo; the receipt is checked.
            let memo = "lunch 🍜 on Friday"
            let pay = try Self.zkwallet(["send", "30", "--to", addressB, "--memo", memo, "--json"], wallet: a, server: server)
            Self.ok(pay, "A pays B")
            #expect(pay.object["receipt_verified"] as? Bool == true)
            #expect(pay.stderr.contains("proved in") || pay.stderr.contains("proving"))
            #expect(try spendable(a, server) == 70)

            // B syncs and sees it, memo included.
            let sync = try Self.zkwallet(["sync", "--json"], wallet: b, server: server)
            Self.ok(sync, "B sync")
            #expect((sync.object["found"] as? NSNumber)?.intValue == 1)
            #expect(try spendable(b, server) == 30)
            let history = try Self.zkwallet(["history", "--json"], wallet: b, server: server)
            Self.ok(history, "B history")
            let entries = history.json as? [[String: Any]] ?? []
            #expect(entries.contains { $0["direction"] as? String == "in" && ($0["amount"] as? NSNumber)?.intValue == 30 && $0["memo"] as? String == memo })

            // A watch-only wallet of B sees B's notes.
            let vk = try Self.zkwallet(["viewing-key"], wallet: b, server: server).lastLine
            #expect(vk.hasPrefix("zkview1"))
            Self.ok(try Self.zkwallet(["init", "--viewing-key", vk], wallet: watch, server: server), "init watch-only")
            #expect(try spendable(watch, server) == 30)

            // --no-submit writes the request body and spends nothing.
            let saved = root.appendingPathComponent("request.json")
            Self.ok(try Self.zkwallet(["send", "5", "--to", addressA, "--no-submit", "--save-request", saved.path], wallet: b, server: server), "no-submit")
            let body = try JSONSerialization.jsonObject(with: Data(contentsOf: saved)) as? [String: Any]
            #expect(body?["proof"] != nil && (body?["public_inputs"] as? [Any])?.count == 7 && body?["ext_data"] != nil)
            #expect(try spendable(b, server) == 30)

            // B pays part back.
            Self.ok(try Self.zkwallet(["send", "10", "--to", addressA, "--memo", "thanks"], wallet: b, server: server), "B pays A")
            #expect(try spendable(b, server) == 20)
            #expect(try spendable(a, server) == 80)

            // The watch-only wallet sees B's spend (and B's change), and cannot send.
            #expect(try spendable(watch, server) == 20)
            let watchNotes = try Self.zkwallet(["notes", "--all", "--json"], wallet: watch, server: server)
            #expect((watchNotes.json as? [[String: Any]])?.contains { $0["status"] as? String == "spent" && ($0["value"] as? NSNumber)?.intValue == 30 } == true)
            // Its history tells B's payment (inputs 30 − change 20) from B's income; the change is no income.
            let watchHistory = try Self.zkwallet(["history", "--json"], wallet: watch, server: server).json as? [[String: Any]] ?? []
            #expect(Self.amounts(watchHistory, direction: "in") == [30])
            #expect(Self.amounts(watchHistory, direction: "out") == [10])
            let cannot = try Self.zkwallet(["send", "1", "--to", addressA], wallet: watch, server: server)
            #expect(cannot.status == 1)
            #expect(cannot.stderr.contains("watch-only"))

            // A withdraws 50: one 70 note in, 20 change.
            let w = try Self.zkwallet(["withdraw", "50", "--to", "iban:DE00 1234", "--json"], wallet: a, server: server)
            Self.ok(w, "withdraw")
            #expect(try spendable(a, server) == 30)
            #expect((w.object["spendable_after"] as? NSNumber)?.intValue == 30 && w.object["kind"] as? String == "withdraw", "\(w.stdout)")
            // The operator's export for the bank run: the payout, amount and recipient as asked.
            let csv = try Executables.run("zksettle-admin", ["export", "payouts", "--pending", "--format", "csv",
                                                             "--data", server.data.appendingPathComponent("server").path])
            let rows = csv.stdout.split(separator: "\n")
            #expect(csv.status == 0 && rows.count == 2 && rows[1].contains(",50,iban:DE00 1234,pending,"), "\(csv.stdout)\(csv.stderr)")
            // The wallet was told the payout's id: the one the operator's export names.
            let payoutID = try #require((w.object["payout_id"] as? NSNumber)?.intValue, "\(w.stdout)")
            #expect(rows.count == 2 && rows[1].hasPrefix("\(payoutID),50,"), "\(csv.stdout)")

            // Insufficient funds say so.
            let broke = try Self.zkwallet(["send", "1000", "--to", addressB], wallet: a, server: server)
            #expect(broke.status == 1)
            #expect(broke.stderr.contains("insufficient funds"))

            // Three notes (20, 10, 5) for a payment of 33: merged by a chain of transfers first.
            Self.ok(try Self.zkwallet(["deposit", "5", "--voucher", try server.voucher(5)], wallet: a, server: server), "deposit 5")
            let merged = try Self.zkwallet(["send", "33", "--to", addressB], wallet: a, server: server)
            Self.ok(merged, "send with merge")
            #expect(merged.stderr.contains("merging"))
            #expect(try spendable(a, server) == 2)
            #expect(try spendable(b, server) == 53)

            // Restoring A from its backup phrase recovers the same balance after sync.
            Self.ok(try Self.zkwallet(["init", "--restore"], wallet: restored, server: server, stdin: phrase + "\n"), "restore")
            #expect(try Self.zkwallet(["address"], wallet: restored, server: server).lastLine == addressA)
            // Sync pages through the tree (3 leaves a page here) and keeps its place: a second
            // sync scans nothing new.
            let paged = try Self.zkwallet(["sync", "--page-size", "3", "--json"], wallet: restored, server: server)
            Self.ok(paged, "paged sync")
            let leafCount = (paged.object["leaf_count"] as? NSNumber)?.intValue ?? 0
            #expect(leafCount > 6 && (paged.object["scanned"] as? NSNumber)?.intValue == leafCount)
            #expect(paged.stderr.isEmpty || !paged.stderr.contains("error"))
            let again = try Self.zkwallet(["sync", "--json"], wallet: restored, server: server)
            #expect((again.object["scanned"] as? NSNumber)?.intValue == 0)
            #expect(try spendable(restored, server) == 2)
            // The restored history: deposits and B's payment in; the payments, the withdrawal and the
            // merge out (found from the spending transfers' public effects); change is not income.
            let restoredHistory = try Self.zkwallet(["history", "--json"], wallet: restored, server: server).json as? [[String: Any]] ?? []
            #expect(Self.amounts(restoredHistory, direction: "in") == [5, 10, 100])
            #expect(Self.amounts(restoredHistory, direction: "out") == [30, 33, 50])
            #expect(restoredHistory.contains { $0["kind"] as? String == "withdraw" && ($0["amount"] as? NSNumber)?.intValue == 50 })
            // Dated by settlement, not by the restore (issue 19): every row has its batch's time,
            // and each transfer the same time as in the wallet that made it.
            let historyA = try Self.zkwallet(["history", "--json"], wallet: a, server: server).json as? [[String: Any]] ?? []
            func times(_ h: [[String: Any]]) -> [String: Int] {
                Dictionary(h.compactMap { r in (r["transfer_id"] as? String).flatMap { id in (r["settled_at_ms"] as? Int).map { (id, $0) } } },
                           uniquingKeysWith: { x, _ in x })
            }
            let original = times(historyA), restoredTimes = times(restoredHistory)
            #expect(restoredTimes.count >= 3 && restoredTimes.allSatisfy { original[$0.key] == $0.value }, "\(restoredTimes) vs \(original)")
            #expect(restoredHistory.allSatisfy { $0["settled_at_ms"] is Int }, "\(restoredHistory)")
            let notesA = try Self.zkwallet(["notes", "--json"], wallet: a, server: server).json as? [[String: Any]]
            let notesRestored = try Self.zkwallet(["notes", "--json"], wallet: restored, server: server).json as? [[String: Any]]
            #expect(notesA?.compactMap { $0["leaf_index"] as? Int } == notesRestored?.compactMap { $0["leaf_index"] as? Int })
        }
    }

    /// Issue 14, point 4: a server with `--min-fee 3`. The wallet learns the fee from
    /// /v1/params, pays it on a send, a withdrawal and the merge a payment needs, and says what
    /// it paid; deposits pay none; the operator sees the fees in `zksettle-admin stats`.
    @Test func theWalletPaysTheServersMinimumFee() async throws {
        try await offCooperativePool {
            let server = try Server(prepare: { _ in ["--min-fee", "3"] })
            defer { server.stop() }
            let a = server.data.appendingPathComponent("alice"), b = server.data.appendingPathComponent("bob")
            Self.ok(try Self.zkwallet(["init"], wallet: a, server: server), "init A")
            Self.ok(try Self.zkwallet(["init"], wallet: b, server: server), "init B")
            let addressB = try Self.zkwallet(["address"], wallet: b, server: server).lastLine
            for amount in ["40", "30", "30"] {
                Self.ok(try Self.zkwallet(["deposit", amount, "--voucher", try server.voucher(Int(amount)!)], wallet: a, server: server), "deposit")
            }
            #expect(try spendable(a, server) == 100, "deposits pay no fee")

            // 75 needs all three notes: one merge (fee 3), then the payment (fee 3).
            let pay = try Self.zkwallet(["send", "75", "--to", addressB, "--json"], wallet: a, server: server)
            Self.ok(pay, "A pays B")
            #expect((pay.object["fee"] as? NSNumber)?.intValue == 3, "\(pay.stdout)")
            #expect(pay.stderr.contains("fee 3"), "the merge says its fee: \(pay.stderr)")
            #expect(try spendable(a, server) == 100 - 75 - 3 - 3)
            Self.ok(try Self.zkwallet(["sync"], wallet: b, server: server), "B sync")
            #expect(try spendable(b, server) == 75)

            // A withdrawal pays it too; the text output names it.
            let w = try Self.zkwallet(["withdraw", "10", "--to", "iban:DE00 1234"], wallet: b, server: server)
            Self.ok(w, "B withdraws")
            #expect(w.stdout.contains("fee paid to the operator: 3"), "\(w.stdout)")
            #expect(try spendable(b, server) == 75 - 10 - 3)

            let stats = try Executables.run("zksettle-admin", ["stats", "--data", server.data.appendingPathComponent("server").path, "--json"])
            #expect(stats.status == 0, "\(stats.stderr)")
            #expect((stats.object["fees_accrued"] as? NSNumber)?.intValue == 9, "\(stats.stdout)")
        }
    }

    @Test func unreachableServerIsExplained() async throws {
        try await offCooperativePool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-offline-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let port = try Executables.freePort()
            #expect(try Executables.run("zkwallet", ["init", "--wallet", dir.path]).status == 0)
            let r = try Executables.run("zkwallet", ["sync", "--wallet", dir.path, "--server", "http://127.0.0.1:\(port)"])
            #expect(r.status == 1)
            #expect(r.stderr.contains("cannot reach the server"))
            // Directions for a wallet's user, who may have no Swift and no server of their own.
            #expect(r.stderr.contains("--server") && !r.stderr.contains("swift"), "\(r.stderr)")

            // Bad usage is told apart from a failed operation.
            #expect(try Executables.run("zkwallet", ["send", "ten", "--to", "zks1x", "--wallet", dir.path]).status == 64)
            #expect(try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("wallet.sqlite").path)[.posixPermissions] as? Int == 0o600)
        }
    }
}

extension Executables.Output {
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
}
