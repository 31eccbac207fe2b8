import Foundation
import Testing
import TestSupport

/// `zksettle-admin proof verify` on every shared case, and its exit-status contract.
@Suite struct AdminProofVerifyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let id, vk, proof, publicInputs, expected: String
        var testDescription: String { id }
    }

    static let cases: [Case] = {
        let doc = try! SharedVectors.json("groth16/manifest.json") as! [String: Any]
        return (doc["cases"] as! [[String: Any]]).map {
            Case(id: $0["id"] as! String, vk: $0["vk"] as! String, proof: $0["proof"] as! String,
                 publicInputs: $0["public"] as! String, expected: $0["expected"] as! String)
        }
    }()

    func path(_ rel: String) -> String { SharedVectors.url("groth16/" + rel).path }

    @Test(arguments: cases)
    func sharedCase(_ c: Case) throws {
        let r = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", path(c.vk), "--proof", path(c.proof), "--public", path(c.publicInputs)])
        if c.expected == "accept" {
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout == "valid\n")
        } else {
            #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.hasPrefix("invalid: "))
        }
    }

    @Test func jsonOutput() throws {
        let c = Self.cases.first { $0.id.hasSuffix("invalid_b_not_in_subgroup") }!
        let r = try Executables.run("zksettle-admin", ["proof", "verify", "--json", "--vk", path(c.vk), "--proof", path(c.proof), "--public", path(c.publicInputs)])
        #expect(r.status == 1)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(obj["valid"] as? Bool == false)
        #expect((obj["reason"] as? String)?.contains("subgroup") == true)
    }

    @Test func unreadableFilesAreBadUsage() throws {
        let c = Self.cases[0]
        let r = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", "/nonexistent/vk.json", "--proof", path(c.proof), "--public", path(c.publicInputs)])
        #expect(r.status == 64)
        #expect(r.stderr.contains("cannot read verification key"))
        let r2 = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", path(c.vk), "--proof", "/nonexistent/p.json", "--public", path(c.publicInputs)])
        #expect(r2.status == 64)
    }

    @Test func anUnusableKeyIsBadUsage() throws {
        let c = Self.cases[0]
        // A proof file is not a verification key.
        let r = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", path(c.proof), "--proof", path(c.proof), "--public", path(c.publicInputs)])
        #expect(r.status == 64)
        #expect(r.stderr.contains("verification key"))
    }

    @Test func malformedProofExitsOne() throws {
        let c = Self.cases[0]
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("zks-truncated-\(UUID().uuidString).json")
        try Data(try String(contentsOfFile: path(c.proof), encoding: .utf8).prefix(40).utf8).write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try Executables.run("zksettle-admin", ["proof", "verify", "--vk", path(c.vk), "--proof", tmp.path, "--public", path(c.publicInputs)])
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("invalid: malformed JSON"))
    }

    @Test func badUsageIs64() throws {
        #expect(try Executables.run("zksettle-admin", ["proof", "verify", "--vk", "x"]).status == 64)
        #expect(try Executables.run("zksettle-admin", ["no-such-command"]).status == 64)
        let help = try Executables.run("zksettle-admin", ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("EXIT CODES"))
    }
}
