import BN254
import Foundation
import Testing
import TestSupport

/// Known answers from `Tests/Vectors/bn254.json` (py_ecc, cross-checked with mcl).
@Suite struct BN254VectorTests {
    let doc = try! SharedVectors.json("bn254.json") as! [String: Any]

    @Test func moduliMatchTheVectors() {
        #expect(FpParameters.modulusDecimal == doc["fp_modulus_p"] as! String)
        #expect(FrParameters.modulusDecimal == doc["fr_modulus_r"] as! String)
        #expect(String(bnParameterX) == doc["bn_parameter_x"] as! String)
    }

    @Test func fpArithmetic() {
        let cases = doc["fp_arithmetic"] as! [[String: Any]]
        #expect(!cases.isEmpty)
        for c in cases {
            let a = fp(c["a"]!), b = fp(c["b"]!)
            #expect(a * b == fp(c["a_mul_b"]!))
            #expect(a.inverse() == fp(c["a_inv"]!))
            #expect(a + b == fp(c["a_plus_b"]!))
            #expect(a - b == fp(c["a_minus_b"]!))
        }
    }

    @Test func fp2Arithmetic() {
        let cases = doc["fp2_arithmetic"] as! [[String: Any]]
        #expect(!cases.isEmpty)
        for c in cases {
            let a = fp2(c["a"]!), b = fp2(c["b"]!)
            #expect(a * b == fp2(c["a_mul_b"]!))
            #expect(a.inverse() == fp2(c["a_inv"]!))
            #expect(a.squared() == fp2(c["a_squared"]!))
        }
    }

    @Test func generatorsAndTwistConstant() {
        let g = doc["g1"] as! [String: Any]
        #expect(G1Affine.generator == g1(g["generator"]!))
        let h = doc["g2"] as! [String: Any]
        #expect(G2Curve.b == fp2(h["b2"]!))
        #expect(G2Affine.generator == g2(h["generator"]!))
        #expect(G2Affine.generator.isOnCurve && G2Affine.generator.isInSubgroup)
    }

    @Test func g1ScalarMultiplication() {
        let cases = (doc["g1_scalar_mul"] as! [String: Any])["cases"] as! [[String: Any]]
        #expect(cases.count >= 10)
        for c in cases {
            let k = limbs(c["scalar"]!)
            #expect(G1Jacobian.generator.multiplied(by: k).affine == g1(c["result"]!), "k = \(k.decimalString)")
        }
    }

    @Test func g2ScalarMultiplication() {
        let cases = (doc["g2_scalar_mul"] as! [String: Any])["cases"] as! [[String: Any]]
        #expect(cases.count >= 10)
        for c in cases {
            let k = limbs(c["scalar"]!)
            #expect(G2Jacobian.generator.multiplied(by: k).affine == g2(c["result"]!), "k = \(k.decimalString)")
        }
    }

    @Test func g1Addition() {
        let cases = doc["g1_addition"] as! [[String: Any]]
        #expect(!cases.isEmpty)
        for c in cases {
            let p = g1(c["p"]!), q = g1(c["q"]!)
            #expect((p.jacobian + q.jacobian).affine == g1(c["sum"]!))
            #expect(p.jacobian.adding(q).affine == g1(c["sum"]!))
        }
    }

    @Test func invalidPointsAreRejected() {
        let bad = doc["g1_not_on_curve"] as! [String: Any]
        #expect(!g1(bad["point"]!).isOnCurve)
        let ns = doc["g2_not_in_subgroup"] as! [String: Any]
        let q = g2(ns["point"]!)
        #expect(q.isOnCurve)
        #expect(!q.isInSubgroup)
        #expect(!q.isInSubgroupReference)
        #expect(q.jacobian.multiplied(by: FrParameters.modulus).affine == g2(ns["r_times_point"]!))
        let swapped = g2(doc["g2_generator_fp2_swapped_not_on_twist"]!)
        #expect(!swapped.isOnCurve)
    }

    @Test func pairingProductChecks() {
        let cases = (doc["pairing_product_checks"] as! [String: Any])["cases"] as! [[String: Any]]
        #expect(cases.count == 11)
        for c in cases {
            let pairs = (c["pairs"] as! [[String: Any]]).map { (g1($0["g1"]!), g2($0["g2"]!)) }
            let expected = c["product_is_one"] as! Bool
            #expect(Pairing.pairingProductIsOne(pairs) == expected, "\(c["description"]!)")
        }
    }
}
