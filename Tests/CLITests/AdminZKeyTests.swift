import Foundation
import Testing
import TestSupport

/// `zksettle-admin keys import-zkey`, `proof prove` and the phase-2 ceremony commands on
/// circom-compat's multiplier (its snarkjs `.zkey`, R1CS and witness in Tests/Vectors/ceremony).
@Suite struct AdminZKeyTests {
    func vector(_ name: String) -> String { SharedVectors.url("ceremony/" + name).path }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-zkey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func snarkjsKeyProvesAndImportsAndItsProofVerifies() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let proof = dir.appendingPathComponent("proof.json").path, pub = dir.appendingPathComponent("public.json").path
        let prove = try Executables.run("zksettle-admin", ["proof", "prove", "--zkey", vector("multiplier.zkey"),
                                                           "--witness", vector("multiplier-witness.json"), "--proof", proof, "--public", pub])
        #expect(prove.status == 0, "\(prove.stdout)\(prove.stderr)")
        #expect(try String(contentsOfFile: pub, encoding: .utf8).contains("\"33\""))
        let verify = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", vector("multiplier-verification_key.json"),
                                                            "--proof", proof, "--public", pub])
        #expect(verify.status == 0 && verify.stdout == "valid\n", "\(verify.stdout)\(verify.stderr)")

        let keys = dir.appendingPathComponent("keys")
        let imported = try Executables.run("zksettle-admin", ["keys", "import-zkey", vector("multiplier.zkey"), "--r1cs", vector("multiplier.r1cs"),
                                                              "--out", keys.path, "--json"])
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as! [String: Any]
        #expect(report["constraints"] as? Int == 1 && report["public_inputs"] as? Int == 1)
        // The imported verification key is the published one (same points, snarkjs layout).
        let ours = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", keys.appendingPathComponent("verification_key.json").path,
                                                          "--proof", proof, "--public", pub])
        #expect(ours.status == 0, "\(ours.stdout)\(ours.stderr)")
    }

    @Test func aWitnessThatDoesNotSatisfyTheCircuitIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let witness = dir.appendingPathComponent("w.json")
        try Data(#"["1", "34", "3", "11"]"#.utf8).write(to: witness)
        let r = try Executables.run("zksettle-admin", ["proof", "prove", "--zkey", vector("multiplier.zkey"), "--witness", witness.path,
                                                       "--proof", dir.appendingPathComponent("p.json").path,
                                                       "--public", dir.appendingPathComponent("x.json").path])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("does not satisfy"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("p.json").path))
    }

    @Test func aKeyForAnotherCircuitIsRefusedOnImport() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The transfer circuit's R1CS is not the multiplier's.
        let r1cs = dir.appendingPathComponent("transfer.r1cs").path
        #expect(try Executables.run("zksettle-admin", ["circuit", "export", "--r1cs", r1cs]).status == 0)
        let r = try Executables.run("zksettle-admin", ["keys", "import-zkey", vector("multiplier.zkey"), "--r1cs", r1cs,
                                                       "--out", dir.appendingPathComponent("keys").path])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("does not fit"))
        // Not a .zkey at all: bad usage.
        let bad = try Executables.run("zksettle-admin", ["keys", "import-zkey", vector("multiplier.r1cs"), "--r1cs", vector("multiplier.r1cs"),
                                                         "--out", dir.appendingPathComponent("keys").path])
        #expect(bad.status == 64, "\(bad.stdout)\(bad.stderr)")
    }

    @Test func phase2FromTheCommandLineVerifiesAndNamesABrokenContribution() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ n: String) -> String { dir.appendingPathComponent(n).path }
        let ptau = vector("powersOfTau28_hez_final_10.ptau"), r1cs = vector("multiplier.r1cs")
        for args in [["new", "--ptau", ptau, "--r1cs", r1cs, "--out", file("0.zkey")],
                     ["contribute", file("0.zkey"), file("1.zkey"), "--name", "alice"],
                     ["contribute", file("1.zkey"), file("2.zkey"), "--name", "bob"],
                     ["beacon", file("2.zkey"), file("3.zkey"), "--hash", "abcdef", "--iterations-exp", "10"]] {
            let r = try Executables.run("zksettle-admin", ["ceremony"] + args)
            #expect(r.status == 0, "\(args): \(r.stdout)\(r.stderr)")
        }
        let ok = try Executables.run("zksettle-admin", ["ceremony", "verify", file("3.zkey"), "--ptau", ptau, "--r1cs", r1cs, "--json"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as! [String: Any]
        let names = (report["contributions"] as! [[String: Any]]).map { $0["name"] as? String }
        #expect(names == ["alice", "bob", nil])
        // The final key proves the witness, and the proof verifies under its verification key.
        let proof = file("p.json"), pub = file("x.json"), keys = file("keys")
        #expect(try Executables.run("zksettle-admin", ["proof", "prove", "--zkey", file("3.zkey"), "--witness", vector("multiplier-witness.json"),
                                                       "--proof", proof, "--public", pub]).status == 0)
        #expect(try Executables.run("zksettle-admin", ["keys", "import-zkey", file("3.zkey"), "--r1cs", r1cs, "--out", keys]).status == 0)
        #expect(try Executables.run("zksettle-admin", ["proof", "verify", "--vk", keys + "/verification_key.json", "--proof", proof,
                                                       "--public", pub]).stdout == "valid\n")
        // bob's key taken from alice (a copy of a proof of knowledge): verify names bob.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file("3.zkey"))))
        let section10 = try #require(Self.section(10, in: bytes))
        let first = section10 + 64 + 4, alice = first + 3 * 64
        let aliceLength = Int(bytes[alice + 128 + 64 + 4]) | Int(bytes[alice + 128 + 64 + 5]) << 8
        let bob = alice + 128 + 64 + 4 + 4 + aliceLength + 3 * 64
        bytes.replaceSubrange(bob..<(bob + 128), with: bytes[alice..<(alice + 128)])
        try Data(bytes).write(to: URL(fileURLWithPath: file("swapped.zkey")))
        let swapped = try Executables.run("zksettle-admin", ["ceremony", "verify", file("swapped.zkey"), "--ptau", ptau, "--r1cs", r1cs])
        #expect(swapped.status == 1)
        #expect(swapped.stderr.contains("contribution #2 (\"bob\")"), "\(swapped.stderr)")
        // finalize refuses a key nobody contributed to, and another circuit's key.
        let none = try Executables.run("zksettle-admin", ["ceremony", "finalize", file("0.zkey"), "--ptau", ptau, "--data", file("data")])
        #expect(none.status == 1 && none.stderr.contains("no contribution"), "\(none.stderr)")
        let other = try Executables.run("zksettle-admin", ["ceremony", "finalize", file("3.zkey"), "--ptau", ptau, "--data", file("data")])
        #expect(other.status == 1 && other.stderr.contains("not a valid ceremony for the transfer circuit"), "\(other.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file("data") + "/keys/setup.json"))
    }

    /// The offset of a section's data in an iden3 binary file.
    static func section(_ type: UInt32, in b: [UInt8]) -> Int? {
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) } }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
        var pos = 12
        for _ in 0..<u32(8) {
            if u32(pos) == type { return pos + 12 }
            pos += 12 + u64(pos + 4)
        }
        return nil
    }
}
