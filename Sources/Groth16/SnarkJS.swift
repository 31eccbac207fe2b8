import BN254
import Foundation

/// snarkjs JSON layouts: `verification_key.json`, `proof.json`, `public.json`.
///
/// Decoding is strict: numbers are canonical decimal strings below their modulus, points are
/// affine (z = "1", or snarkjs's point at infinity), on their curve, and G2 points are in the
/// order-r subgroup. Every refusal names the field (`pi_b.x.c1`, `public[3]`, …).
public enum SnarkJS {
    // MARK: Decoding

    public static func verifyingKey(from data: Data) throws(Groth16Error) -> VerifyingKey {
        let obj = try object(data, what: "verification key")
        try checkProtocol(obj)
        let alpha = try g1(obj["vk_alpha_1"], "vk_alpha_1")
        let beta = try g2(obj["vk_beta_2"], "vk_beta_2")
        let gamma = try g2(obj["vk_gamma_2"], "vk_gamma_2")
        let delta = try g2(obj["vk_delta_2"], "vk_delta_2")
        guard let icArray = obj["IC"] as? [Any], !icArray.isEmpty else {
            throw .malformedJSON("IC: expected a non-empty array of G1 points")
        }
        var ic: [G1Affine] = []
        for (i, p) in icArray.enumerated() { ic.append(try g1(p, "IC[\(i)]")) }
        if let n = obj["nPublic"] {
            guard let count = n as? Int, count >= 0 else {
                throw .malformedJSON("nPublic: expected a non-negative integer")
            }
            guard count + 1 == ic.count else {
                throw .inconsistentKey("nPublic is \(count) but IC has \(ic.count) points (expected nPublic + 1)")
            }
        }
        return VerifyingKey(alpha: alpha, beta: beta, gamma: gamma, delta: delta, ic: ic)
    }

    public static func proof(from data: Data) throws(Groth16Error) -> Proof {
        try proof(try object(data, what: "proof"))
    }

    /// A proof from an already parsed `proof.json` object (for example inside a request body).
    public static func proof(_ obj: [String: Any]) throws(Groth16Error) -> Proof {
        try checkProtocol(obj)
        return Proof(unchecked: try g1(obj["pi_a"], "pi_a"), try g2(obj["pi_b"], "pi_b"), try g1(obj["pi_c"], "pi_c"))
    }

    public static func publicInputs(from data: Data) throws(Groth16Error) -> [Fr] {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw .malformedJSON("public inputs: \(reason(error))")
        }
        guard let array = parsed as? [Any] else { throw .malformedJSON("public inputs: expected a JSON array of decimal strings") }
        return try publicInputs(array)
    }

    public static func publicInputs(_ array: [Any]) throws(Groth16Error) -> [Fr] {
        var out: [Fr] = []
        out.reserveCapacity(array.count)
        for (i, v) in array.enumerated() { out.append(try fr(v, "public[\(i)]")) }
        return out
    }

    /// A scalar-field element from a JSON value (canonical decimal string < r).
    public static func fr(_ v: Any?, _ field: String) throws(Groth16Error) -> Fr {
        guard let s = v as? String else { throw .malformedJSON("\(field): expected a decimal string") }
        do { return try Fr(decimal: s) } catch { throw .badNumber(field: field, reason: error) }
    }

    static func fp(_ v: Any?, _ field: String) throws(Groth16Error) -> Fp {
        guard let s = v as? String else { throw .malformedJSON("\(field): expected a decimal string") }
        do { return try Fp(decimal: s) } catch { throw .badNumber(field: field, reason: error) }
    }

    static func fp2(_ v: Any?, _ field: String) throws(Groth16Error) -> Fp2 {
        guard let a = v as? [Any], a.count == 2 else { throw .malformedJSON("\(field): expected [c0, c1]") }
        return Fp2(try fp(a[0], field + ".c0"), try fp(a[1], field + ".c1"))
    }

    /// A G1 point `[x, y, "1"]` (or snarkjs's infinity `["0", "1", "0"]`), checked on the curve.
    public static func g1(_ v: Any?, _ field: String) throws(Groth16Error) -> G1Affine {
        guard let a = v as? [Any], a.count == 3 || a.count == 2 else { throw .malformedJSON("\(field): expected [x, y, z]") }
        let x = try fp(a[0], field + ".x"), y = try fp(a[1], field + ".y")
        let z = a.count == 3 ? try fp(a[2], field + ".z") : Fp.one
        if z.isZero {
            guard x.isZero && y == .one else { throw .notAffine(field: field) }
            return .infinity
        }
        guard z == .one else { throw .notAffine(field: field) }
        let p = G1Affine(x: x, y: y)
        guard p.isOnCurve else { throw .notOnCurve(field: field) }
        return p
    }

    /// A G2 point `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`, checked on the twist and in G2.
    public static func g2(_ v: Any?, _ field: String) throws(Groth16Error) -> G2Affine {
        guard let a = v as? [Any], a.count == 3 || a.count == 2 else { throw .malformedJSON("\(field): expected [x, y, z]") }
        let x = try fp2(a[0], field + ".x"), y = try fp2(a[1], field + ".y")
        let z = a.count == 3 ? try fp2(a[2], field + ".z") : Fp2.one
        if z.isZero {
            guard x.isZero && y == .one else { throw .notAffine(field: field) }
            return .infinity
        }
        guard z == .one else { throw .notAffine(field: field) }
        let p = G2Affine(x: x, y: y)
        guard p.isOnCurve else { throw .notOnCurve(field: field) }
        guard p.isInSubgroup else { throw .notInSubgroup(field: field) }
        return p
    }

    static func object(_ data: Data, what: String) throws(Groth16Error) -> [String: Any] {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw .malformedJSON("\(what): \(reason(error))")
        }
        guard let obj = parsed as? [String: Any] else { throw .malformedJSON("\(what): expected a JSON object") }
        return obj
    }

    static func checkProtocol(_ obj: [String: Any]) throws(Groth16Error) {
        if let p = obj["protocol"] {
            guard let s = p as? String, s == "groth16" else { throw .unsupported("protocol \(p) (expected \"groth16\")") }
        }
        if let c = obj["curve"] {
            guard let s = c as? String, ["bn128", "bn254", "alt_bn128"].contains(s.lowercased()) else {
                throw .unsupported("curve \(c) (expected \"bn128\")")
            }
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return d }
        return "not valid JSON"
    }

    // MARK: Encoding (the byte layout snarkjs writes: JSON.stringify(…, null, 1))

    public static func encode(_ vk: VerifyingKey) -> Data {
        var out = "{\n \"protocol\": \"groth16\",\n \"curve\": \"bn128\",\n \"nPublic\": \(vk.publicInputCount),\n"
        for (key, value) in [("vk_alpha_1", g1JSON(vk.alpha)), ("vk_beta_2", g2JSON(vk.beta)), ("vk_gamma_2", g2JSON(vk.gamma)),
                             ("vk_delta_2", g2JSON(vk.delta)), ("vk_alphabeta_12", fp12JSON(snarkjsAlphaBeta(vk))),
                             ("IC", .list(vk.ic.map(g1JSON)))] {
            out += " \"\(key)\": "
            value.render(depth: 1, into: &out)
            out += key == "IC" ? "\n}" : ",\n"
        }
        return Data(out.utf8)
    }

    /// Called once per admitted transfer (the ledger keeps the canonical proof.json), so it
    /// writes the text directly instead of re-indenting nested strings.
    public static func encode(_ proof: Proof) -> Data {
        var out = "{\n \"pi_a\": "
        out.reserveCapacity(1100)
        g1JSON(proof.a).render(depth: 1, into: &out)
        out += ",\n \"pi_b\": "
        g2JSON(proof.b).render(depth: 1, into: &out)
        out += ",\n \"pi_c\": "
        g1JSON(proof.c).render(depth: 1, into: &out)
        out += ",\n \"protocol\": \"groth16\",\n \"curve\": \"bn128\"\n}"
        return Data(out.utf8)
    }

    public static func encode(publicInputs: [Fr]) -> Data {
        var out = ""
        JSONText.list(publicInputs.map { .leaf("\"\($0.decimalString)\"") }).render(depth: 0, into: &out)
        return Data(out.utf8)
    }

    /// snarkjs's `vk_alphabeta_12`: e(α, β)^k with k = 2x(6x² + 3x + 1), because its final
    /// exponentiation uses the Fuentes-Castañeda hard part (see Tests/Vectors/README.md).
    public static func snarkjsAlphaBeta(_ vk: VerifyingKey) -> Fp12 {
        let x = GMPInteger(UInt(bnParameterX))
        let k = GMPInteger(2) * x * (GMPInteger(6) * x * x + GMPInteger(3) * x + GMPInteger(1))
        return Pairing.pairing(vk.alpha, vk.beta).value.pow(k.limbs)
    }

    static func g1JSON(_ p: G1Affine) -> JSONText {
        if p.isInfinity { return .list([.leaf("\"0\""), .leaf("\"1\""), .leaf("\"0\"")]) }
        return .list([.leaf("\"\(p.x)\""), .leaf("\"\(p.y)\""), .leaf("\"1\"")])
    }

    static func fp2JSON(_ a: Fp2) -> JSONText { .list([.leaf("\"\(a.c0)\""), .leaf("\"\(a.c1)\"")]) }

    static func g2JSON(_ p: G2Affine) -> JSONText {
        if p.isInfinity { return .list([fp2JSON(.zero), fp2JSON(.one), fp2JSON(.zero)]) }
        return .list([fp2JSON(p.x), fp2JSON(p.y), fp2JSON(.one)])
    }

    static func fp12JSON(_ f: Fp12) -> JSONText {
        .list([f.c0, f.c1].map { s in .list([s.c0, s.c1, s.c2].map(fp2JSON)) })
    }
}

/// Nested arrays of already-encoded scalars, written as `JSON.stringify(value, null, 1)` does:
/// one item per line, each nesting level indented by one more space.
indirect enum JSONText {
    case leaf(String)
    case list([JSONText])

    func render(depth: Int, into out: inout String) {
        switch self {
        case .leaf(let s): out += s
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: " ", count: depth + 1)
                item.render(depth: depth + 1, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: depth) + "]"
        }
    }
}
