import Foundation
import Groth16Prover
import Protocol
import SettlementClient
import TestSupport
import Testing
import Wallet

/// What the server says about its keys and what the wallet makes of it (issue 18, point 5):
/// `/v1/params` names the setup; a wallet pinned to development keys says so once per command
/// on stderr; a ceremony's keys are published with their transcript hash and pinned with it;
/// a later different claim for the same keys is refused like changed parameters.
@Suite(.serialized) struct KeySetupWalletTests {
    static let warning = PeerWallet.developmentKeysWarning
    static let hash = String(repeating: "0123456789abcdef", count: 8)

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// A server on `data` (extra flags allowed) until it answers /healthz.
    static func start(_ data: URL, port: Int, _ flags: [String] = [], log: URL) throws -> ChildProcess {
        let c = try ChildProcess("zksettle-server", ["--data", data.path, "--port", String(port), "--flush-ms", "1"] + flags, log: log)
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            if let h = try? HTTPConnection("http://127.0.0.1:\(port)", timeoutSeconds: 2), let r = try? h.get("/healthz"), r.status == 200 { return c }
            guard c.process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        c.stop()
        throw TestFailure("the server did not start: \(c.log.suffix(2000))")
    }

    static func params(_ port: Int) throws -> [String: Any] {
        let r = try HTTPConnection("http://127.0.0.1:\(port)", timeoutSeconds: 5).get("/v1/params")
        return try #require(r.json as? [String: Any])
    }

    /// A fresh server says "development" (transcript_hash null); every wallet command that
    /// opens the pinned wallet prints the warning exactly once, on stderr, never on stdout, and
    /// `--json` stays JSON.
    @Test func freshServerSaysDevelopmentAndTheWalletWarnsOncePerCommand() async throws {
        try await offCooperativePool {
            let server = try TrustTests.Server()
            defer { server.stop() }
            let p = try Self.params(server.port)
            #expect(p["setup"] as? String == "development", "\(p)")
            #expect(p["transcript_hash"] is NSNull && p["development_keys"] as? Bool == true)
            #expect(server.child?.log.contains("DEVELOPMENT KEYS") == true)

            let w = server.root.appendingPathComponent("w")
            let created = try TrustTests.zkwallet(["init"], w, server)
            EndToEndTests.ok(created, "init")
            #expect(!created.stderr.contains(Self.warning), "nothing is pinned yet")
            for args in [["sync", "--json"], ["sync"], ["balance", "--json"], ["status", "--json"], ["status"], ["trust", "--json"], ["trust"],
                         ["history", "--json"], ["address"]] {
                let r = try TrustTests.zkwallet(args, w, server)
                EndToEndTests.ok(r, "\(args)")
                #expect(Self.count(Self.warning, in: r.stderr) == 1, "\(args): \(r.stderr)")
                #expect(!r.stdout.contains("DEVELOPMENT keys") && !r.stdout.contains(Self.warning), "\(args): \(r.stdout)")
                if args.contains("--json") { #expect(r.json != nil, "\(args): \(r.stdout)") }
            }
            let status = try TrustTests.zkwallet(["status", "--json"], w, server).object
            #expect(status["setup"] as? String == "development" && status["transcript_hash"] is NSNull && status["development_keys"] as? Bool == true)
            #expect(try TrustTests.zkwallet(["trust", "--json"], w, server).object["setup"] as? String == "development")
        }
    }

    /// Keys re-flagged as a ceremony's (the test re-writes the proving key without the
    /// development flag) with a `setup.json` beside them: published with the transcript hash,
    /// logged, said by the admin tool, accepted by --require-ceremony-keys; a wallet pins the
    /// claim and does not warn. The same keys later claimed as development keys are refused.
    @Test func ceremonyKeysArePublishedPinnedAndAChangedClaimIsRefused() async throws {
        try await offCooperativePool {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-ceremony-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let data = root.appendingPathComponent("server")
            let port = try Executables.freePort()
            let url = "http://127.0.0.1:\(port)"
            var server = try Self.start(data, port: port, log: root.appendingPathComponent("1.log"))
            let w = root.appendingPathComponent("w")
            EndToEndTests.ok(try Executables.run("zkwallet", ["init", "--wallet", w.path, "--server", url]), "init")
            let first = try Executables.run("zkwallet", ["sync", "--wallet", w.path])
            EndToEndTests.ok(first, "sync on development keys")
            #expect(Self.count(Self.warning, in: first.stderr) == 1)
            server.stop()

            // What a ceremony's finalize leaves: a proving key without the development flag, and
            // the record (same verifying key, so the same fingerprint).
            let pkURL = data.appendingPathComponent("keys/transfer.zkspk")
            var pk = try ProvingKey.load(from: pkURL)
            pk.development = false
            try pk.write(to: pkURL)
            let record = #"{"setup": "ceremony", "transcript_hash": "\#(Self.hash)", "zkey": "transfer_final.zkey", "contributions": 2}"#
            try Data(record.utf8).write(to: data.appendingPathComponent("keys/setup.json"))

            server = try Self.start(data, port: port, ["--require-ceremony-keys"], log: root.appendingPathComponent("2.log"))
            defer { server.stop() }
            let p = try Self.params(port)
            #expect(p["setup"] as? String == "ceremony" && p["transcript_hash"] as? String == Self.hash, "\(p)")
            #expect(p["development_keys"] as? Bool == false && p["warning"] == nil)
            #expect(server.log.contains("keys from a ceremony: transcript BLAKE2b-512 \(Self.hash)") && server.log.contains("contributions=2"), "\(server.log.suffix(3000))")
            #expect(!server.log.contains("DEVELOPMENT KEYS"))
            for source in [["--data", data.path], ["--server", url]] {
                let text = try Executables.run("zksettle-admin", ["params", "fingerprint"] + source)
                #expect(text.status == 0 && text.stdout.contains("keys: ceremony, transcript BLAKE2b-512 \(Self.hash)"), "\(source): \(text.stdout)\(text.stderr)")
                let json = try Executables.run("zksettle-admin", ["params", "fingerprint", "--json"] + source).object
                #expect(json["setup"] as? String == "ceremony" && json["transcript_hash"] as? String == Self.hash, "\(source): \(json)")
            }

            // The wallet pinned "development" for these keys: the server now claims a ceremony
            // for the same fingerprint. Refused like changed parameters, nothing sent.
            let changed = try Executables.run("zkwallet", ["sync", "--wallet", w.path])
            #expect(changed.status == 1, "\(changed.stdout)\(changed.stderr)")
            #expect(changed.stderr.contains("another setup than when this wallet pinned them") && changed.stderr.contains("zkwallet trust --reset"), "\(changed.stderr)")
            #expect(changed.stderr.contains("pinned (first contact): development keys") && changed.stderr.contains("keys from a ceremony with transcript \(Self.hash)"))
            // Re-pinned on purpose: the claim is pinned, and no warning any more.
            EndToEndTests.ok(try Executables.run("zkwallet", ["trust", "--reset", "--yes", "--wallet", w.path]), "trust --reset")
            let repinned = try Executables.run("zkwallet", ["sync", "--wallet", w.path])
            EndToEndTests.ok(repinned, "sync after re-pin")
            #expect(!repinned.stderr.contains(Self.warning))
            let trust = try Executables.run("zkwallet", ["trust", "--json", "--wallet", w.path]).object
            #expect(trust["setup"] as? String == "ceremony" && trust["transcript_hash"] as? String == Self.hash, "\(trust)")

            // A new wallet pins the ceremony on first contact, silently.
            let v = root.appendingPathComponent("v")
            EndToEndTests.ok(try Executables.run("zkwallet", ["init", "--wallet", v.path, "--server", url]), "init v")
            let fresh = try Executables.run("zkwallet", ["sync", "--wallet", v.path])
            EndToEndTests.ok(fresh, "sync v")
            #expect(!fresh.stderr.contains(Self.warning))
            let status = try Executables.run("zkwallet", ["status", "--json", "--wallet", v.path]).object
            #expect(status["setup"] as? String == "ceremony" && status["development_keys"] as? Bool == false)
        }
    }

    /// The same keys claimed under another setup than the pinned one, in both directions and
    /// with another transcript: refused (`params_mismatch`), with the warning still given once.
    @Test func aChangedSetupClaimIsRefused() async throws {
        try await PrivateSyncTests.withServer { server, wire, dir in
            let a = try PrivateSyncTests.wallet(dir, "a", server: server)
            _ = try a.params()   // pins development
            #expect(try a.pinnedSetup() == .development)

            func claim(_ setup: String, _ hash: String?) {
                wire.tamper("/v1/params") { o in
                    o["setup"] = setup
                    o["transcript_hash"] = hash.map { $0 as Any } ?? NSNull()
                    o["development_keys"] = setup == "development"
                    if setup != "development" { o["warning"] = nil }
                }
            }
            final class Lines: @unchecked Sendable { var all: [String] = [] }
            func reopened(_ lines: Lines) throws -> PeerWallet {
                try PeerWallet(directory: dir.appendingPathComponent("a"), passphrase: nil, server: server, log: { lines.all.append($0) })
            }
            claim("ceremony", Self.hash)
            let lines = Lines()
            let w = try reopened(lines)
            w.warnIfDevelopmentKeys()
            do {
                _ = try w.params()
                Issue.record("a changed setup claim was accepted")
            } catch let e as WalletError {
                #expect(e.code == "params_mismatch", "\(e)")
                #expect("\(e)".contains("keys cannot change origin"), "\(e)")
            }
            #expect(lines.all.filter { $0 == Self.warning }.count == 1, "\(lines.all)")
            #expect(try w.pinnedSetup() == .development, "the pin is unchanged")

            // A malformed claim is not a claim: the answer is refused as malformed.
            claim("trusted", nil)
            #expect(throws: (any Error).self) { _ = try reopened(Lines()).params() }

            // Honest again: accepted.
            wire.honest()
            _ = try reopened(Lines()).params()

            // Pinned as a ceremony, then claimed under another transcript, or as development.
            claim("ceremony", Self.hash)
            let c = try PrivateSyncTests.wallet(dir, "c", server: server)
            _ = try c.params()
            #expect(try c.pinnedSetup() == .ceremony(transcriptHash: Self.hash))
            for (setup, hash) in [("ceremony", String(Self.hash.reversed())), ("development", nil)] {
                claim(setup, hash)
                let again = try PeerWallet(directory: dir.appendingPathComponent("c"), passphrase: nil, server: server, log: { _ in })
                #expect(throws: WalletError.self, "\(setup)") { _ = try again.params() }
            }
        }
    }
}
