import Foundation
import TestSupport
import Testing

/// Issue 19, point 5: the wallet remembers its server (named at init, normalized), says where
/// it stands (`status`), and records "last synced" only when a sync succeeded.
@Suite(.serialized) struct WalletSettingsTests {
    typealias E = EndToEndTests

    static func run(_ args: [String], _ wallet: URL) throws -> Executables.Output {
        try Executables.run("zkwallet", args + ["--wallet", wallet.path])
    }

    @Test func theWalletRemembersItsServerAndSaysWhereItStands() async throws {
        try await offCooperativePool {
            let server = try E.Server()
            defer { server.stop() }
            let a = server.data.appendingPathComponent("alice")
            // Named once, at init, with a trailing slash and an upper-case scheme.
            E.ok(try Self.run(["init", "--server", server.url.replacingOccurrences(of: "http://", with: "HTTP://") + "/"], a), "init")
            let get = try Self.run(["config", "get", "server"], a)
            #expect(get.status == 0 && get.lastLine == server.url, "\(get.stdout)")
            // Every later command finds it without --server.
            E.ok(try Self.run(["deposit", "12", "--voucher", try server.voucher(12)], a), "deposit without --server")
            let status = try Self.run(["status", "--json"], a)
            E.ok(status, "status")
            #expect(status.object["server"] as? String == server.url && status.object["server_source"] as? String == "remembered", "\(status.stdout)")
            #expect(status.object["development_keys"] as? Bool == true && (status.object["spendable"] as? NSNumber)?.intValue == 12, "\(status.stdout)")
            #expect((status.object["synced_leaves"] as? NSNumber)?.intValue == 2 && status.object["last_synced_with"] as? String == server.url)
            #expect((status.object["synced_trees"] as? [[String: Any]])?.map { $0["leaves_checked"] as? Int } == [2], "\(status.object)")
            let syncedAt = try #require((status.object["last_synced_at_ms"] as? NSNumber)?.int64Value)

            // A sync that fails records nothing: "last synced" is still the good one.
            let port = try Executables.freePort()
            let failed = try Self.run(["sync", "--server", "http://127.0.0.1:\(port)"], a)
            #expect(failed.status == 1, "\(failed.stderr)")
            let after = try Self.run(["status", "--json"], a)
            #expect(after.object["last_synced_with"] as? String == server.url
                    && (after.object["last_synced_at_ms"] as? NSNumber)?.int64Value == syncedAt, "\(after.stdout)")
            let table = try Self.run(["status"], a)
            #expect(table.status == 0 && table.stdout.contains("DEVELOPMENT KEYS") && table.stdout.contains("(remembered)"), "\(table.stdout)")

            // A payment request (issue 19, point 9): made by the payee, paid by the payer after
            // it is shown; without a terminal to ask on, only with --yes.
            let b = server.data.appendingPathComponent("bob")
            E.ok(try Self.run(["init", "--server", server.url], b), "init B")
            let made = try Self.run(["request", "5", "--memo", "tea & cake"], b)
            E.ok(made, "request")
            let uri = made.lastLine
            #expect(uri.hasPrefix("zks:zks1") && uri.hasSuffix("?amount=5&memo=tea%20%26%20cake"), "\(uri)")
            let unconfirmed = try Self.run(["send", "--uri", uri], a)
            #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("payment request: pay 5 to zks1")
                    && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
            let paid = try Self.run(["send", "--uri", uri, "--yes"], a)
            E.ok(paid, "send --uri")
            #expect(paid.stdout.hasPrefix("sent 5 to zks1") && paid.stdout.contains("(memo \"tea & cake\")"), "\(paid.stdout)")
            #expect(try Self.run(["send", "6", "--uri", uri, "--yes"], a).status == 64)  // the request says 5
            E.ok(try Self.run(["sync"], b), "sync B")
            let bob = try Self.run(["history", "--json"], b)
            #expect((bob.json as? [[String: Any]])?.first?["memo"] as? String == "tea & cake", "\(bob.stdout)")

            // Changed on purpose, normalized; a URL that is not one is bad usage.
            E.ok(try Self.run(["config", "set", "server", "https://Pay.Example.org:8443/"], a), "config set")
            #expect(try Self.run(["config", "get", "server"], a).lastLine == "https://pay.example.org:8443")
            #expect(try Self.run(["config", "set", "server", "ftp://x"], a).status == 64)
            #expect(try Self.run(["balance", "--server", "not a url"], a).status == 64)
        }
    }

    /// Issue 19, point 6: an encrypted wallet's read-only commands work with its viewing key and
    /// ask for no passphrase; only spending needs it.
    @Test func readOnlyCommandsNeedNoPassphrase() async throws {
        try await offCooperativePool {
            let server = try E.Server()
            defer { server.stop() }
            let a = server.data.appendingPathComponent("locked")
            let secret = ["ZKW_TEST_PASS": "correct horse battery staple"]
            let made = try Executables.run("zkwallet", ["init", "--passphrase-env", "ZKW_TEST_PASS", "--server", server.url, "--wallet", a.path],
                                           environment: secret)
            E.ok(made, "init (encrypted)")
            let keyFile = try String(contentsOf: a.appendingPathComponent("key.json"), encoding: .utf8)
            #expect(keyFile.contains("scrypt") && !keyFile.contains("\"secret\""))
            let viewing = a.appendingPathComponent("viewing-key.json").path
            #expect((try FileManager.default.attributesOfItem(atPath: viewing)[.posixPermissions] as? Int) == 0o600)

            for command in [["address"], ["balance", "--json"], ["status", "--json"], ["history"], ["sync"], ["notes"]] {
                let r = try Self.run(command, a)
                #expect(r.status == 0, "\(command) without a passphrase: \(r.stderr)")
            }
            #expect(try Self.run(["status", "--json"], a).object["watch_only"] as? Bool == false)
            // Spending needs the passphrase: refused before anything is proved.
            let voucher = try server.voucher(5)
            let refused = try Self.run(["deposit", "5", "--voucher", voucher], a)
            #expect(refused.status == 64 && refused.stderr.contains("--passphrase-env"), "\(refused.stderr)")
            let paid = try Executables.run("zkwallet", ["deposit", "5", "--voucher", voucher, "--passphrase-env", "ZKW_TEST_PASS", "--wallet", a.path],
                                           environment: secret)
            E.ok(paid, "deposit with the passphrase")
            #expect((try Self.run(["balance", "--json"], a).object["spendable"] as? NSNumber)?.intValue == 5)
        }
    }
}
