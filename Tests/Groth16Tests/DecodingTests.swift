import BN254
import Foundation
import Groth16
import Testing
import TestSupport

/// Every decoding check rejects something; each refusal is typed and names the field.
@Suite struct DecodingTests {
    let proofText = try! String(contentsOf: SharedVectors.url("groth16/multiplier/valid_ab/proof.json"), encoding: .utf8)
    let vkText = try! String(contentsOf: SharedVectors.url("groth16/multiplier/verification_key.json"), encoding: .utf8)

    func proofObject() -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(proofText.utf8)) as! [String: Any]
    }
    func decodeProof(_ obj: [String: Any]) throws(Groth16Error) -> Proof {
        try SnarkJS.proof(from: try! JSONSerialization.data(withJSONObject: obj))
    }

    @Test func truncatedJSONIsMalformed() {
        for cut in [0, 1, proofText.count / 2, proofText.count - 2] {
            let text = String(proofText.prefix(cut))
            #expect(throws: Groth16Error.self) { try SnarkJS.proof(from: Data(text.utf8)) }
            do { _ = try SnarkJS.proof(from: Data(text.utf8)) } catch { #expect(error.code == "malformed_json") }
        }
        #expect(throws: Groth16Error.self) { try SnarkJS.verifyingKey(from: Data(vkText.prefix(100).utf8)) }
        #expect(throws: Groth16Error.self) { try SnarkJS.publicInputs(from: Data("[\"1\"".utf8)) }
        #expect(throws: Groth16Error.self) { try SnarkJS.publicInputs(from: Data("{\"a\":1}".utf8)) }
        #expect(throws: Groth16Error.self) { try SnarkJS.publicInputs(from: Data("[1]".utf8)) }  // numbers must be strings
    }

    @Test func wrongShapesAreMalformed() {
        var p = proofObject(); p["pi_a"] = ["1", "2"] + ["1", "1"]
        #expect(throws: Groth16Error.malformedJSON("pi_a: expected [x, y, z]")) { try decodeProof(p) }
        p = proofObject(); p.removeValue(forKey: "pi_c")
        #expect(throws: Groth16Error.self) { try decodeProof(p) }
        p = proofObject(); p["pi_b"] = [["1"], ["2"], ["1", "0"]]
        #expect(throws: Groth16Error.malformedJSON("pi_b.x: expected [c0, c1]")) { try decodeProof(p) }
    }

    @Test func projectiveZMustBeOne() {
        var p = proofObject()
        var a = p["pi_a"] as! [String]; a[2] = "2"; p["pi_a"] = a
        #expect(throws: Groth16Error.notAffine(field: "pi_a")) { try decodeProof(p) }
        p = proofObject()
        var b = p["pi_b"] as! [[String]]; b[2] = ["1", "1"]; p["pi_b"] = b
        #expect(throws: Groth16Error.notAffine(field: "pi_b")) { try decodeProof(p) }
        // snarkjs's point at infinity is accepted as such.
        p = proofObject(); p["pi_c"] = ["0", "1", "0"]
        #expect((try? decodeProof(p))?.c.isInfinity == true)
    }

    @Test func protocolAndCurveAreChecked() {
        var p = proofObject(); p["protocol"] = "plonk"
        #expect(throws: Groth16Error.self) { try decodeProof(p) }
        p = proofObject(); p["curve"] = "bls12381"
        #expect(throws: Groth16Error.self) { try decodeProof(p) }
    }

    @Test func coordinatesAtOrAboveTheModulusAreRefused() {
        var p = proofObject()
        var a = p["pi_a"] as! [String]; a[1] = FpParameters.modulusDecimal; p["pi_a"] = a
        #expect(throws: Groth16Error.badNumber(field: "pi_a.y", reason: .notCanonical(field: "Fp", value: FpParameters.modulusDecimal))) { try decodeProof(p) }
        p = proofObject()
        var b = p["pi_b"] as! [[String]]; b[1][0] = "0" + b[1][0]; p["pi_b"] = b
        #expect(throws: Groth16Error.self) { try decodeProof(p) }
    }

    @Test func publicInputsAtOrAboveROrMalformedAreRefused() throws {
        #expect(throws: Groth16Error.badNumber(field: "public[0]", reason: .notCanonical(field: "Fr", value: FrParameters.modulusDecimal))) {
            try SnarkJS.publicInputs(from: Data("[\"\(FrParameters.modulusDecimal)\"]".utf8))
        }
        #expect(throws: Groth16Error.self) { try SnarkJS.publicInputs(from: Data("[\"-1\"]".utf8)) }
        #expect(throws: Groth16Error.self) { try SnarkJS.publicInputs(from: Data("[\"1.5\"]".utf8)) }
        #expect(try SnarkJS.publicInputs(from: Data("[]".utf8)).isEmpty)
    }

    @Test func verifyingKeyChecks() {
        var vk = try! JSONSerialization.jsonObject(with: Data(vkText.utf8)) as! [String: Any]
        vk["nPublic"] = 3
        #expect(throws: Groth16Error.self) { try SnarkJS.verifyingKey(from: try! JSONSerialization.data(withJSONObject: vk)) }
        vk = try! JSONSerialization.jsonObject(with: Data(vkText.utf8)) as! [String: Any]
        var gamma = vk["vk_gamma_2"] as! [[String]]
        gamma[0] = [gamma[0][1], gamma[0][0]]; gamma[1] = [gamma[1][1], gamma[1][0]]
        vk["vk_gamma_2"] = gamma
        #expect(throws: Groth16Error.notOnCurve(field: "vk_gamma_2")) { try SnarkJS.verifyingKey(from: try! JSONSerialization.data(withJSONObject: vk)) }
        vk = try! JSONSerialization.jsonObject(with: Data(vkText.utf8)) as! [String: Any]
        vk["IC"] = [] as [Any]
        #expect(throws: Groth16Error.self) { try SnarkJS.verifyingKey(from: try! JSONSerialization.data(withJSONObject: vk)) }
    }

    @Test func wrongPublicInputCountThrows() throws {
        let f = try CircuitFixture("multiplier")
        let (p, x) = f.valid[0]
        #expect(throws: Groth16Error.wrongPublicInputCount(expected: 1, got: 0)) { try Groth16.verify(f.pvk, proof: p, publicInputs: []) }
        #expect(throws: Groth16Error.wrongPublicInputCount(expected: 1, got: 2)) { try Groth16.verify(f.pvk, proof: p, publicInputs: x + x) }
    }
}
