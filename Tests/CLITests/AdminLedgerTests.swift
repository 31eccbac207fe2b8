import Foundation
import Testing
import TestSupport

/// `zksettle-admin` on a ledger made by a real `zksettle-server` (child process, real SQLite
/// file, transfers with real proofs posted by `zksettle-bench load`): the listings match what was
/// settled, read from the data directory and over HTTP alike; `db verify` passes on the ledger
/// and fails, naming the fault, on copies corrupted on purpose.
@Suite(.serialized) struct AdminLedgerTests {
    static let transfers = 6

    /// Runs zksettle-admin and parses its JSON output.
    func admin(_ args: [String]) throws -> (status: Int32, json: Any?, out: String) {
        let r = try Executables.run("zksettle-admin", args)
        return (r.status, try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)), r.stdout + r.stderr)
    }

    /// A data directory with a settled ledger; the server is stopped before returning unless `keep`.
    static func settledLedger() throws -> (dir: URL, url: String, server: ChildProcess) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        let port = try Executables.freePort()
        let url = "http://127.0.0.1:\(port)"
        let server = try ChildProcess("zksettle-server", ["--data", dir.appendingPathComponent("data").path, "--host", "127.0.0.1",
                                                          "--port", String(port), "--admin-token", "at",
                                                          "--log-level", "warning"],
                                      log: dir.appendingPathComponent("server.log"))
        // Up when the admin route answers (development keys take a few seconds on first start).
        var up = false
        for _ in 0..<120 where !up {
            up = try Executables.run("zksettle-admin", ["stats", "--server", url, "--token", "at", "--json"]).status == 0
            if !up { Thread.sleep(forTimeInterval: 0.25) }
        }
        guard up else { throw ServerDidNotStart(log: server.log) }
        let tokenFile = dir.appendingPathComponent("admin-token")
        try Data("at\n".utf8).write(to: tokenFile)
        let load = try Executables.run("zksettle-bench", ["load", "--server", url, "--transfers", String(transfers), "--concurrency", "3",
                                                          "--admin-token-file", tokenFile.path, "--corpus", dir.appendingPathComponent("corpus").path])
        guard load.status == 0 else { throw ServerDidNotStart(log: load.stderr + load.stdout) }
        return (dir, url, server)
    }

    struct ServerDidNotStart: Error, CustomStringConvertible { let log: String; var description: String { log } }

    @Test func listingsMatchWhatWasSettledFromTheFileAndOverHTTP() async throws {
        try await offCooperativePool {
            let (dir, url, server) = try Self.settledLedger()
            defer { server.stop(); try? FileManager.default.removeItem(at: dir) }
            let data = ["--data", dir.appendingPathComponent("data").path]
            let http = ["--server", url, "--token", "at"]
            let n = Self.transfers

            for source in [data, http] {
                let count = try admin(["nullifiers", "count", "--json"] + source)
                #expect(count.status == 0 && (count.json as? [String: Any])?["count"] as? Int == 2 * n, "\(count.out)")
                let stats = try admin(["stats", "--json"] + source).json as? [String: Any]
                #expect(stats?["transfers"] as? Int == n && stats?["leaves"] as? Int == 2 * n)
                // Every corpus transfer is a deposit, each paid by its own voucher.
                #expect(stats?["vouchers_used"] as? Int == n, "\(String(describing: stats))")
                // A voucher from the data directory's deposit key or from the server: the same key.
                let issued = try admin(["deposits", "voucher", "--amount", "7", "--expires", "2h", "--json"] + source).json as? [String: Any]
                #expect(issued?["amount"] as? Int == 7 && (issued?["voucher"] as? String)?.hasPrefix("zkv1") == true, "\(String(describing: issued))")
                let expires = (issued?["expires_at"] as? NSNumber)?.int64Value ?? 0
                #expect(abs(expires - Int64(Date().timeIntervalSince1970) - 7200) < 120)
            }
            let bad = try admin(["deposits", "voucher", "--amount", "0"] + data)
            #expect(bad.status == 64 && bad.out.contains("--amount"), "\(bad.out)")
            let badExpiry = try admin(["deposits", "voucher", "--amount", "5", "--expires", "5 weeks"] + data)
            #expect(badExpiry.status == 64 && badExpiry.out.contains("--expires"), "\(badExpiry.out)")
            // The same nullifiers either way, each with the transfer and batch that spent it.
            let local = try admin(["nullifiers", "list", "--json", "--limit", "1000"] + data).json as? [[String: Any]] ?? []
            let remote = try admin(["nullifiers", "list", "--json", "--limit", "1000"] + http).json as? [[String: Any]] ?? []
            #expect(local.count == 2 * n)
            #expect(local.compactMap { $0["nullifier"] as? String } == remote.compactMap { $0["nullifier"] as? String })
            #expect(Set(local.compactMap { $0["transfer_id"] as? String }).count == n)

            // Batches: every transfer once, hash-chained, the last root the server's.
            let batches = try admin(["batches", "list", "--json"] + data).json as? [[String: Any]] ?? []
            // Tables fit 100 columns (issue 19); --wide shows every id whole.
            for listing in [["nullifiers", "list"], ["batches", "list"], ["payouts", "list"], ["stats"]] {
                let table = try admin(listing + data)
                #expect(table.status == 0 && table.out.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(listing): \(table.out)")
            }
            let firstNullifier = try #require((local.first?["nullifier"] as? String))
            #expect(try admin(["nullifiers", "list", "--wide"] + data).out.contains(firstNullifier))
            #expect(try !admin(["nullifiers", "list"] + data).out.contains(firstNullifier))
            #expect(batches.reduce(0) { $0 + ($1["transfer_count"] as? Int ?? 0) } == n)
            for (previous, next) in zip(batches, batches.dropFirst()) {
                #expect(next["previous_hash"] as? String == previous["hash"] as? String)
            }
            let spentIDs = Set(local.compactMap { $0["transfer_id"] as? String })
            #expect(Set(batches.flatMap { $0["transfer_ids"] as? [String] ?? [] }) == spentIDs)
            let shown = try admin(["batches", "show", "1", "--json"] + http).json as? [String: Any]
            #expect(shown?["hash"] as? String == batches.first?["hash"] as? String)

            // check / show answer for a spent nullifier and a fresh one.
            let first = try #require(local.first)
            let nf = try #require(first["nullifier"] as? String)
            let check = try admin(["nullifiers", "check", nf, "--json"] + http).json as? [String: Any]
            #expect(check?["spent"] as? Bool == true && check?["batch"] as? Int == first["batch"] as? Int)
            let fresh = try admin(["nullifiers", "check", "5", "--json"] + data).json as? [String: Any]
            #expect(fresh?["spent"] as? Bool == false && fresh?["nullifier"] as? String == "5")
            // Not found is 3, whichever way the ledger is reached (issue 19: one exit-code table).
            #expect(try admin(["nullifiers", "show", "5"] + data).status == 3)
            #expect(try admin(["batches", "show", "999"] + http).status == 3)
            let inBatch1 = try admin(["nullifiers", "list", "--json", "--batch", "1"] + data).json as? [Any]
            #expect(inBatch1?.count == 2 * (batches.first?["transfer_count"] as? Int ?? -1))

            // Exports for auditors.
            let csv = try admin(["export", "nullifiers", "--format", "csv"] + http).out
            #expect(csv.split(separator: "\n").count == 1 + 2 * n && csv.hasPrefix("nullifier,transfer_id,batch,"))
            #expect((try admin(["export", "nullifiers", "--format", "json"] + data).json as? [Any])?.count == 2 * n)

            // The one write goes through the server; with --data it is refused with directions.
            let refused = try admin(["payouts", "mark-paid", "1"] + data)
            #expect(refused.status == 64 && refused.out.contains("--server"))
            #expect(try admin(["payouts", "list", "--pending", "--json"] + http).json as? [Any] != nil)
            // Payouts for the operator's bank run: amounts are integers; the CSV has one row each.
            let owed = try admin(["payouts", "list", "--json"] + data).json as? [[String: Any]] ?? []
            #expect(owed.allSatisfy { $0["amount"] is Int }, "\(owed)")
            let payoutsCSV = try admin(["export", "payouts", "--format", "csv"] + http)
            #expect(payoutsCSV.status == 0 && payoutsCSV.out.hasPrefix("id,amount,recipient,status,") &&
                    payoutsCSV.out.split(separator: "\n").count == 1 + owed.count, "\(payoutsCSV.out)")
            // A wrong token is named as such.
            let wrong = try admin(["stats", "--server", url, "--token", "nope"])
            #expect(wrong.status == 1 && wrong.out.contains("admin token"))

            // db verify, with every proof re-verified, both ways.
            for source in [data, http] {
                let v = try admin(["db", "verify", "--proofs", "--json"] + source)
                let obj = v.json as? [String: Any]
                #expect(v.status == 0 && obj?["ok"] as? Bool == true, "\(v.out)")
                #expect(obj?["proofs_checked"] as? Int == n)
            }
        }
    }

    @Test func dbVerifyNamesEachCorruption() async throws {
        try await offCooperativePool {
            let (dir, _, server) = try Self.settledLedger()
            server.stop()  // a quiet file to copy
            defer { try? FileManager.default.removeItem(at: dir) }
            let ledger = dir.appendingPathComponent("data/ledger.sqlite").path
            let good = try admin(["db", "verify", "--data", dir.appendingPathComponent("data").path])
            #expect(good.status == 0 && good.out.contains("ledger OK"), "\(good.out)")

            /// A consistent copy in its own data directory (with the receipt key), changed by `sql`.
            func corrupted(_ name: String, _ sql: String) throws -> (status: Int32, out: String) {
                let copyDir = dir.appendingPathComponent("copy-\(name)")
                try FileManager.default.createDirectory(at: copyDir, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: dir.appendingPathComponent("data/receipt.key"), to: copyDir.appendingPathComponent("receipt.key"))
                try rawSQL(ledger, "VACUUM INTO '\(copyDir.appendingPathComponent("ledger.sqlite").path)'")
                try rawSQL(copyDir.appendingPathComponent("ledger.sqlite").path, sql)
                let r = try admin(["db", "verify", "--data", copyDir.path])
                return (r.status, r.out)
            }

            let leaf = try corrupted("leaf", """
                DROP TRIGGER leaves_no_update;
                UPDATE leaves SET commitment = x'\(String(repeating: "00", count: 31))05' WHERE leaf_index = 1;
                """)
            #expect(leaf.status == 1 && leaf.out.contains("FAULT batch_root") && leaf.out.contains("ledger FAILED"), "\(leaf.out)")

            let header = try corrupted("header", """
                DROP TRIGGER batches_no_update;
                UPDATE batches SET created_at = created_at - 60000 WHERE number = 1;
                """)
            #expect(header.status == 1 && header.out.contains("FAULT batch_hash [batch 1]"), "\(header.out)")

            let root = try corrupted("root", "DELETE FROM roots WHERE batch = 1")
            #expect(root.status == 1 && root.out.contains("FAULT root_window [batch 1]"), "\(root.out)")

            // The primary key refuses a second row: the tamperer rebuilds the table without it.
            let nullifier = try corrupted("nullifier", """
                PRAGMA foreign_keys = OFF;
                CREATE TABLE keyless (nullifier BLOB NOT NULL, transfer_id BLOB NOT NULL, batch INTEGER NOT NULL, spent_at INTEGER NOT NULL);
                INSERT INTO keyless SELECT nullifier, transfer_id, batch, spent_at FROM nullifiers;
                DROP TABLE nullifiers;
                ALTER TABLE keyless RENAME TO nullifiers;
                INSERT INTO nullifiers SELECT nullifier, transfer_id, batch, spent_at + 1 FROM nullifiers LIMIT 1;
                """)
            #expect(nullifier.status == 1 && nullifier.out.contains("FAULT nullifier_duplicate"), "\(nullifier.out)")
        }
    }
}
