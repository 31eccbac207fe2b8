import Foundation
import Testing
import TestSupport

/// What the server says about its keys (issue 18, point 5), at start: `keys/setup.json` is read
/// strictly and checked against the proving key's development flag; `--require-ceremony-keys`
/// refuses development keys and never makes them. (The ceremony case end to end, with a
/// proving key re-flagged, is `KeySetupWalletTests` in WalletTests, which links the prover.)
@Suite(.serialized) struct KeySetupTests {
    static let hash = String(repeating: "0123456789abcdef", count: 8)

    static func temporary(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Everything in `data` but directories and the lock file.
    static func files(_ data: URL) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: data.path)) ?? []).filter { path in
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: data.appendingPathComponent(path).path, isDirectory: &isDir)
            return !isDir.boolValue && path != "server.lock"
        }.sorted()
    }

    @Test func requireCeremonyKeysOnAFreshDirectoryExitsOneAndMakesNoKeys() throws {
        let dir = try Self.temporary("require")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        let r = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0", "--require-ceremony-keys"])
        #expect(r.status == 1, "\(r.stderr)")
        let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("error: --require-ceremony-keys:"), "\(r.stderr)")
        #expect(last.contains("development keys are not made") && last.contains("zksettle-admin ceremony finalize") && last.contains("--data \(data.path)"), "\(last)")
        #expect(!r.stderr.contains("running a development setup") && !r.stderr.contains("listening"))
        #expect(Self.files(data).isEmpty, "\(Self.files(data))")

        // The environment variable does the same.
        let e = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0"], environment: ["ZKSETTLE_REQUIRE_CEREMONY_KEYS": "1"])
        #expect(e.status == 1 && e.stderr.contains("error: --require-ceremony-keys:"), "\(e.stderr)")
        #expect(Self.files(data).isEmpty)
    }

    /// Every malformed `setup.json` stops the start before anything is made, naming the file and
    /// what to do; so does the admin tool's `params fingerprint --data`.
    @Test func malformedSetupFilesAreRefused() throws {
        let dir = try Self.temporary("setup-json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String)] = [
            ("not json", "not a JSON object"),
            ("[\"ceremony\"]", "not a JSON object"),
            ("{}", "no \"setup\" string"),
            ("{\"setup\": 1}", "no \"setup\" string"),
            ("{\"setup\": \"trusted\"}", "unknown setup \"trusted\""),
            ("{\"setup\": \"ceremony\"}", "needs \"transcript_hash\""),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": null}", "needs \"transcript_hash\""),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash.dropLast())\"}", "not 128 lowercase hex digits"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash.uppercased())\"}", "not 128 lowercase hex digits"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash.dropLast())z\"}", "not 128 lowercase hex digits"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": 12}", "not 128 lowercase hex digits"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"contributions\": \"3\"}", "\"contributions\" is not a whole number"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"contributions\": true}", "\"contributions\" is not a whole number"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"contributions\": -1}", "\"contributions\" is not a whole number"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"contributions\": 2.5}", "\"contributions\" is not a whole number"),
            ("{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"zkey\": 5}", "\"zkey\" is not a string"),
            ("{\"setup\": \"development\", \"transcript_hash\": \"\(Self.hash)\"}", "a development setup has no transcript_hash"),
        ]
        for (i, (text, reason)) in cases.enumerated() {
            let data = dir.appendingPathComponent("data\(i)")
            try FileManager.default.createDirectory(at: data.appendingPathComponent("keys"), withIntermediateDirectories: true)
            let file = data.appendingPathComponent("keys/setup.json")
            try Data(text.utf8).write(to: file)
            let r = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0"])
            #expect(r.status == 1, "\(text): \(r.stderr)")
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("error: \(file.path): ") && last.contains(reason) && last.contains("zksettle-admin ceremony finalize"),
                    "\(text): \(last)")
            #expect(Self.files(data) == ["keys/setup.json"], "\(text): \(Self.files(data))")
        }
    }

    /// A record saying "ceremony" beside a proving key flagged as a development key (or beside
    /// no keys) is refused by the server, with or without --require-ceremony-keys, and by the
    /// admin tool. Development keys, once made, are refused by --require-ceremony-keys.
    @Test func aCeremonyRecordBesideADevelopmentKeyIsRefused() async throws {
        try await offCooperativePool {
            let dir = try Self.temporary("setup-dev")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = dir.appendingPathComponent("data")
            let setup = data.appendingPathComponent("keys/setup.json")
            let record = "{\"setup\": \"ceremony\", \"transcript_hash\": \"\(Self.hash)\", \"zkey\": \"final.zkey\", \"contributions\": 3}"

            // No keys beside the record: refused, and no development keys are made.
            try FileManager.default.createDirectory(at: data.appendingPathComponent("keys"), withIntermediateDirectories: true)
            try Data(record.utf8).write(to: setup)
            let none = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0"])
            #expect(none.status == 1 && none.stderr.contains("says the keys come from a ceremony, but keys/ has no transfer.zkspk"), "\(none.stderr)")
            #expect(Self.files(data) == ["keys/setup.json"])
            try FileManager.default.removeItem(at: setup)

            // A first start makes development keys and says so loudly.
            let (server, _) = try ServerDataDirectoryTests.started(data, log: dir.appendingPathComponent("first.log"))
            #expect(server.stop(within: 30).status == 0)
            #expect(server.log.contains("warning") && server.log.contains("DEVELOPMENT KEYS: whoever ran their setup can forge proofs and mint money"), "\(server.log.suffix(3000))")
            #expect(server.log.contains("setup=development"))
            let keys = Self.files(data)
            #expect(keys.contains("keys/transfer.zkspk") && !keys.contains("keys/setup.json"))

            let admin = try Executables.run("zksettle-admin", ["params", "fingerprint", "--data", data.path, "--json"])
            #expect(admin.status == 0, "\(admin.stderr)")
            let o = try JSONSerialization.jsonObject(with: Data(admin.stdout.utf8)) as? [String: Any]
            #expect(o?["setup"] as? String == "development" && o?["transcript_hash"] is NSNull, "\(admin.stdout)")
            let text = try Executables.run("zksettle-admin", ["params", "fingerprint", "--data", data.path])
            #expect(text.stdout.contains("keys: DEVELOPMENT setup"), "\(text.stdout)")

            // Development keys present: --require-ceremony-keys refuses them.
            let required = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0", "--require-ceremony-keys"])
            #expect(required.status == 1, "\(required.stderr)")
            #expect(required.stderr.split(separator: "\n").last?.hasPrefix("error: --require-ceremony-keys: the keys in \(data.path)/keys are development keys") == true, "\(required.stderr)")
            #expect(required.stderr.contains("zksettle-admin ceremony finalize"))

            // A ceremony's record beside them: the two do not belong together.
            try Data(record.utf8).write(to: setup)
            for flags in [[], ["--require-ceremony-keys"]] {
                let r = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0"] + flags)
                #expect(r.status == 1, "\(flags): \(r.stderr)")
                let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.hasPrefix("error: \(setup.path) says the keys come from a ceremony") && last.contains("flagged as a development key"), "\(flags): \(last)")
                #expect(!r.stderr.contains("listening"))
            }
            let refused = try Executables.run("zksettle-admin", ["params", "fingerprint", "--data", data.path])
            #expect(refused.status == 1 && refused.stderr.contains("flagged as a development key"), "\(refused.stderr)")
            #expect(Set(Self.files(data)) == Set(keys + ["keys/setup.json"]), "nothing else was made")
        }
    }
}
