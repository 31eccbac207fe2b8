import BN254
import Foundation
import Groth16
import Testing
import TestSupport

/// One case of `Tests/Vectors/groth16/manifest.json`.
struct ManifestCase: CustomTestStringConvertible, Sendable {
    let id: String
    let vk: String
    let proof: String
    let publicInputs: String
    let expected: String
    let category: String
    var testDescription: String { id }

    static let all: [ManifestCase] = {
        let doc = try! SharedVectors.json("groth16/manifest.json") as! [String: Any]
        return (doc["cases"] as! [[String: Any]]).map {
            ManifestCase(id: $0["id"] as! String, vk: $0["vk"] as! String, proof: $0["proof"] as! String,
                         publicInputs: $0["public"] as! String, expected: $0["expected"] as! String,
                         category: $0["category"] as! String)
        }
    }()

    func data(_ rel: String) throws -> Data { try Data(contentsOf: SharedVectors.url("groth16/" + rel)) }

    /// Decodes and verifies; returns the verdict or the error that rejected the input.
    func run() throws -> Result<Bool, Groth16Error> {
        do {
            let key = try SnarkJS.verifyingKey(from: data(vk))
            let p = try SnarkJS.proof(from: data(proof))
            let x = try SnarkJS.publicInputs(from: data(publicInputs))
            return .success(try Groth16.verify(PreparedVerifyingKey(key), proof: p, publicInputs: x))
        } catch let e as Groth16Error {
            return .failure(e)
        }
    }
}

@Suite struct ManifestTests {
    @Test func manifestIsComplete() {
        // 53 cases at the time of writing, plus transfer_v1's; every category present.
        #expect(ManifestCase.all.count >= 53)
        for c in ManifestCase.all { #expect((c.category == "valid") == (c.expected == "accept"), "\(c.id)") }
        #expect(Set(ManifestCase.all.map(\.category)) == ["valid", "pairing", "encoding"])
    }

    /// accept → verifies; pairing → well-formed but `false`; encoding → refused with an error.
    @Test(arguments: ManifestCase.all)
    func sharedCase(_ c: ManifestCase) throws {
        let result = try c.run()
        switch (c.category, result) {
        case ("valid", .success(true)): break
        case ("pairing", .success(false)): break
        case ("encoding", .failure): break
        default: Issue.record("\(c.id): expected \(c.category)/\(c.expected), got \(result)")
        }
    }

    /// The verifier names the same defect as the reference verifier for each encoding case.
    @Test func encodingCasesNameTheirDefect() throws {
        let expectedCode: [String: String] = [
            "invalid_public_plus_r": "non_canonical", "invalid_public_plus_2_256": "non_canonical",
            "invalid_public_too_few": "wrong_public_input_count", "invalid_public_too_many": "wrong_public_input_count",
            "invalid_a_not_on_curve": "not_on_curve", "invalid_a_x_plus_p": "non_canonical",
            "invalid_b_x_c1_plus_p": "non_canonical", "invalid_b_fp2_swapped": "not_on_curve",
            "invalid_b_not_in_subgroup": "not_in_subgroup",
        ]
        var seen = 0
        for c in ManifestCase.all where c.category == "encoding" {
            let name = String(c.id.split(separator: "/").last!)
            guard let code = expectedCode[name] else { Issue.record("unlisted encoding case \(c.id)"); continue }
            guard case .failure(let e) = try c.run() else { Issue.record("\(c.id) accepted"); continue }
            #expect(e.code == code, "\(c.id): \(e)")
            seen += 1
        }
        #expect(seen >= 27)
    }

    /// Our encoder writes the exact bytes snarkjs wrote, vk_alphabeta_12 included (which needs
    /// the pairing and snarkjs's final-exponentiation exponent to be right).
    @Test func encodingReproducesSnarkjsFilesByteForByte() throws {
        let doc = try SharedVectors.json("groth16/manifest.json") as! [String: Any]
        var exported = 0
        defer { #expect(exported >= 3) }
        for (_, circuit) in doc["circuits"] as! [String: [String: Any]] {
            let path = "groth16/" + (circuit["vk"] as! String)
            let original = try Data(contentsOf: SharedVectors.url(path))
            let key = try SnarkJS.verifyingKey(from: original)
            #expect(try SnarkJS.verifyingKey(from: SnarkJS.encode(key)) == key)
            // transfer_v1's key was written by another tool (sorted keys, no vk_alphabeta_12).
            guard String(decoding: original, as: UTF8.self).contains("vk_alphabeta_12") else { continue }
            exported += 1
            #expect(String(decoding: SnarkJS.encode(key), as: UTF8.self) == String(decoding: original, as: UTF8.self).trimmingCharacters(in: .newlines), "\(path)")
        }
        for c in ManifestCase.all where c.category == "valid" {
            let original = try c.data(c.proof)
            let p = try SnarkJS.proof(from: original)
            #expect(String(decoding: SnarkJS.encode(p), as: UTF8.self) == String(decoding: original, as: UTF8.self).trimmingCharacters(in: .newlines), "\(c.id)")
            let pub = try c.data(c.publicInputs)
            let x = try SnarkJS.publicInputs(from: pub)
            #expect(try SnarkJS.publicInputs(from: SnarkJS.encode(publicInputs: x)) == x)
        }
    }

    @Test func snarkjsAlphaBetaExamples() throws {
        let doc = try SharedVectors.json("bn254.json") as! [String: Any]
        let section = doc["snarkjs_vk_alphabeta_12"] as! [String: Any]
        var entries = section["examples"] as! [[String: Any]]
        entries.append(section["generators"] as! [String: Any])
        for e in entries {
            let alpha = try SnarkJS.g1(e["vk_alpha_1"]! as! [Any] + ["1"], "alpha")
            let beta = try SnarkJS.g2(e["vk_beta_2"]! as! [Any] + [["1", "0"]], "beta")
            let vk = VerifyingKey(alpha: alpha, beta: beta, gamma: beta, delta: beta, ic: [alpha])
            let expected = (e["vk_alphabeta_12"] as! [[[String]]]).flatMap { $0.flatMap { $0 } }
            #expect(SnarkJS.snarkjsAlphaBeta(vk).coefficients.map(\.decimalString) == expected)
        }
    }
}
