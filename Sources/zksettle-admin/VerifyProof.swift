import ArgumentParser
import BN254
import Foundation
import Groth16
import TerminalUI

/// `zksettle-admin proof verify --vk FILE --proof FILE --public FILE`
struct VerifyProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a Groth16 BN254 proof in snarkjs JSON against a verification key.",
        discussion: """
            Prints `valid`, or `invalid: <reason>`. Exit code 0 valid, 1 invalid or malformed
            proof or public inputs, 64 unreadable files, an unusable verification key, or bad usage.
            """)

    @Option(name: .long, help: ArgumentHelp("verification_key.json (snarkjs layout)", valueName: "file"))
    var vk: String
    @Option(name: .long, help: ArgumentHelp("proof.json (snarkjs layout)", valueName: "file"))
    var proof: String
    @Option(name: .customLong("public"), help: ArgumentHelp("public.json: the public inputs, decimal strings", valueName: "file"))
    var publicInputs: String
    @Flag(name: .long, help: "Print one JSON object {\"valid\": …, \"reason\": …} instead of text.")
    var json = false

    func run() throws {
        let vkData = try read(vk, what: "verification key")
        let proofData = try read(proof, what: "proof")
        let publicData = try read(publicInputs, what: "public inputs")
        let key: VerifyingKey
        do { key = try SnarkJS.verifyingKey(from: vkData) } catch {
            fail("verification key \(vk) cannot be used: \(error)", hint: "check that it is a snarkjs verification_key.json for Groth16 on bn128")
        }
        do {
            let p = try SnarkJS.proof(from: proofData)
            let x = try SnarkJS.publicInputs(from: publicData)
            let ok = try Groth16.verify(PreparedVerifyingKey(key), proof: p, publicInputs: x)
            report(ok, reason: ok ? nil : "pairing check failed (the proof does not match these public inputs and key)")
        } catch {
            report(false, reason: "\(error)")
        }
    }

    func report(_ valid: Bool, reason: String?) -> Never {
        if json {
            var obj: [String: Any] = ["valid": valid]
            if let reason { obj["reason"] = reason }
            let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(valid ? "valid" : "invalid: \(reason ?? "")")
        }
        Foundation.exit(valid ? 0 : 1)
    }

    func read(_ path: String, what: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            fail("cannot read \(what) file \(path): \((error as NSError).localizedDescription)", hint: "check the path and permissions")
        }
    }

    func fail(_ message: String, hint: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n       (\(hint))\n".utf8))
        Foundation.exit(ExitStatus.usage.rawValue)
    }
}
