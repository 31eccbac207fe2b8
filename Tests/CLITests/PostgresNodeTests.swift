import Foundation
import Testing
import TestSupport

/// The binaries on a shared PostgreSQL ledger (issue 16), when `ZKSETTLE_TEST_DATABASE` names a
/// server (`.ci/run` starts one): nodes share a ledger only with the keys it was made with, a
/// password never rides on a command line, and the admin tool reads the ledger directly.
@Suite(.serialized) struct PostgresNodeTests {
    static let enabled = PostgresTestDatabase.url != nil

    /// Starts `zksettle-server` on `data` and `database`; returns once it listens, or nil with
    /// its log if it exited first.
    static func start(_ data: URL, database: String, log: URL, _ more: [String] = []) throws -> (server: ChildProcess?, log: String) {
        let server = try ChildProcess("zksettle-server", ["--data", data.path, "--port", "0", "--database", database] + more, log: log)
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline && server.process.isRunning && !server.log.contains("zksettle-server listening") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        if server.log.contains("zksettle-server listening") { return (server, server.log) }
        _ = server.stop(within: 10)
        return (nil, server.log)
    }

    @Test(.enabled(if: enabled)) func aNodeWithOtherKeysIsRefusedAndACopyOfTheDataDirectoryIsAccepted() async throws {
        try await offCooperativePool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-pgnode-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let database = try PostgresTestDatabase.fresh()
            let first = dir.appendingPathComponent("a")
            let a = try Self.start(first, database: database, log: dir.appendingPathComponent("a.log"))
            #expect(a.server != nil, "\(a.log.suffix(2000))")
            #expect(a.log.contains("ledger: PostgreSQL"), "\(a.log.suffix(2000))")
            #expect(!FileManager.default.fileExists(atPath: first.appendingPathComponent("ledger.sqlite").path), "no SQLite file beside a PostgreSQL ledger")

            // Another data directory makes other keys: the ledger refuses it.
            let b = try Self.start(dir.appendingPathComponent("b"), database: database, log: dir.appendingPathComponent("b.log"))
            #expect(b.server == nil)
            #expect(b.log.contains("is not the one this ledger was made with"), "\(b.log.suffix(2000))")

            // A copy of the first node's data directory is the same node's keys: accepted, beside it.
            let copy = dir.appendingPathComponent("c")
            try FileManager.default.copyItem(at: first, to: copy)
            let c = try Self.start(copy, database: database, log: dir.appendingPathComponent("c.log"))
            #expect(c.server != nil, "\(c.log.suffix(2000))")
            _ = c.server?.stop(within: 30)
            _ = a.server?.stop(within: 30)
        }
    }

    @Test func aPasswordOnTheCommandLineIsRefused() throws {
        for tool in ["zksettle-server", "zksettle-admin"] {
            let args = tool == "zksettle-server" ? ["--database", "postgres://u:secret@127.0.0.1:1/db", "--port", "0"]
                                                 : ["stats", "--database", "postgres://u:secret@127.0.0.1:1/db"]
            let r = try Executables.run(tool, args)
            #expect(r.status != 0)
            #expect(r.stderr.contains("ZKSETTLE_DATABASE") && r.stderr.contains("PGPASSWORD"), "\(tool): \(r.stderr)")
        }
    }

    @Test func anUnreachableDatabaseIsAClearError() throws {
        let port = try Executables.freePort()
        let r = try Executables.run("zksettle-admin", ["stats", "--database", "postgres://zksettle@127.0.0.1:\(port)/none"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:\(port)"), "\(r.stderr)")
    }

    /// The admin tool on a PostgreSQL ledger: batches committed by `zksettle-bench ledger`
    /// (real notes, tree and signed receipts), then every listing, the audit and the export.
    @Test(.enabled(if: enabled)) func theAdminToolReadsAPostgresLedger() throws {
        let database = try PostgresTestDatabase.fresh()
        let bench = try Executables.run("zksettle-bench", ["ledger", "--batches", "3", "--batch-size", "4", "--withdrawal-every", "2", "--database", database])
        #expect(bench.status == 0, "\(bench.stderr)")
        let stats = try Executables.run("zksettle-admin", ["stats", "--json", "--database", database])
        #expect(stats.status == 0, "\(stats.stderr)")
        let counts = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(counts?["batches"] as? Int == 3 && counts?["transfers"] as? Int == 12 && counts?["nullifiers"] as? Int == 24, "\(stats.stdout)")
        let verify = try Executables.run("zksettle-admin", ["db", "verify", "--json", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("\"ok\" : true") || verify.stdout.contains("\"ok\":true"), "\(verify.stdout)")
        let batches = try Executables.run("zksettle-admin", ["batches", "list", "--json", "--database", database])
        #expect(batches.status == 0 && batches.stdout.contains("\"number\""), "\(batches.stdout) \(batches.stderr)")
        let payouts = try Executables.run("zksettle-admin", ["payouts", "list", "--pending", "--json", "--database", database])
        #expect(payouts.status == 0 && payouts.stdout.components(separatedBy: "\"recipient\"").count - 1 == 6, "\(payouts.stdout) \(payouts.stderr)")
        let export = try Executables.run("zksettle-admin", ["export", "nullifiers", "--format", "csv", "--database", database])
        #expect(export.status == 0 && export.stdout.split(separator: "\n").count == 25, "\(export.stdout.prefix(300)) \(export.stderr)")
        // A broken row is caught by the audit of the PostgreSQL ledger too.
        try PostgresTestDatabase.execute(database, "ALTER TABLE batches DISABLE TRIGGER batches_append_only")
        try PostgresTestDatabase.execute(database, "UPDATE batches SET created_at = created_at + 1 WHERE number = 2")
        let broken = try Executables.run("zksettle-admin", ["db", "verify", "--json", "--database", database])
        #expect(broken.status == 1 && broken.stdout.contains("batch_hash"), "\(broken.stdout) \(broken.stderr)")
    }

    /// A ledger of several open trees (issue 16): the ledger benchmark writes three lanes at
    /// once, and the admin tool audits each lane's chain and tree and says how many there are.
    /// A server makes a ledger of two open trees with `--open-trees 2` and serves it; the number
    /// is fixed for the ledger's life.
    @Test(.enabled(if: enabled)) func aLedgerOfThreeOpenTreesIsAuditedAndOneOfTwoIsServed() throws {
        let database = try PostgresTestDatabase.fresh()
        let bench = try Executables.run("zksettle-bench", ["ledger", "--open-trees", "3", "--batches", "9", "--batch-size", "4", "--database", database])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("\"open_trees\" : 3"), "\(bench.stdout)")
        let stats = try Executables.run("zksettle-admin", ["stats", "--json", "--database", database])
        let object = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(object?["open_trees"] as? Int == 3 && object?["batches"] as? Int == 9 && object?["transfers"] as? Int == 36, "\(stats.stdout)")
        #expect((object?["last_batch"] as? [String: Any])?["number"] as? Int == 9, "\(stats.stdout)")
        let verify = try Executables.run("zksettle-admin", ["db", "verify", "--json", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        // Lane 1's chain broken in the middle: batch 5's previous hash is no longer batch 2's.
        try PostgresTestDatabase.execute(database, "ALTER TABLE batches DISABLE TRIGGER batches_append_only")
        try PostgresTestDatabase.execute(database, "UPDATE batches SET previous_hash = hash WHERE number = 5")
        let broken = try Executables.run("zksettle-admin", ["db", "verify", "--json", "--database", database])
        #expect(broken.status == 1 && broken.stdout.contains("\"chain\""), "\(broken.stdout) \(broken.stderr)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-pgnode-lanes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lanes = try PostgresTestDatabase.fresh()
        let two = try Self.start(dir.appendingPathComponent("data"), database: lanes, log: dir.appendingPathComponent("two.log"), ["--open-trees", "2"])
        _ = two.server?.stop(within: 10)
        #expect(two.server != nil && two.log.contains("open_trees=2"), "\(two.log)")
        let made = try Executables.run("zksettle-admin", ["stats", "--json", "--database", lanes])
        #expect((try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])?["open_trees"] as? Int == 2, "\(made.stdout)")
        let three = try Self.start(dir.appendingPathComponent("data"), database: lanes, log: dir.appendingPathComponent("three.log"), ["--open-trees", "3"])
        _ = three.server?.stop(within: 10)
        #expect(three.server == nil && three.log.contains("made with 2 open trees, not 3"), "\(three.log)")
        let sqlite = try Executables.run("zksettle-server", ["--data", dir.appendingPathComponent("sqlite").path, "--open-trees", "2"])
        #expect(sqlite.status != 0 && sqlite.stderr.contains("need a PostgreSQL ledger"), "\(sqlite.stderr)")
    }
}
