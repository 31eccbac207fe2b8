import BN254
import Foundation
import Groth16
import Groth16Prover
import R1CS
import TestSupport
import Testing

/// `ProvingKeyCheck` on real development keys: the honest key passes, and every alteration the
/// check claims to catch is refused with its reason, through the file format (the checksum is
/// recomputed, so only the check can catch it). One test pins down what it cannot catch.
@Suite struct ProvingKeyCheckTests {
    /// x³ + x + 5 = y: variables 0 (constant, public) and 2 (x, private) are in no C column,
    /// so step 5 links IC[0] and L[0] to their A and B points.
    static let cubicCircuit = cubic(Fr(3))
    static let keys: (ProvingKey, VerifyingKey) = try! DevelopmentSetup.generate(r1cs: cubicCircuit.0, circuitID: "cubic")
    static let otherKeys: (ProvingKey, VerifyingKey) = try! DevelopmentSetup.generate(r1cs: cubicCircuit.0, circuitID: "cubic")

    /// `pk` altered by `change`, written and read back as a file would be (checksum recomputed).
    static func altered(_ change: (inout ProvingKey) -> Void) throws -> ProvingKey {
        var pk = keys.0
        change(&pk)
        return try ProvingKey(serialized: pk.serialized())
    }

    static func refusal(_ pk: ProvingKey, vk: VerifyingKey = keys.1, circuitID: String = "cubic") -> String? {
        do {
            _ = try ProvingKeyCheck.check(pk, r1cs: cubicCircuit.0, circuitID: circuitID, verifyingKey: vk)
            return nil
        } catch {
            return error.reason  // check throws ProvingKeyRefusal only (typed throws)
        }
    }

    /// p + G: a valid curve point, not the right one.
    static func moved(_ p: G1Affine) -> G1Affine { (p.jacobian + G1Affine.generator.jacobian).affine }
    static func moved(_ p: G2Affine) -> G2Affine { (p.jacobian + G2Affine.generator.jacobian).affine }

    @Test func honestKeysPass() throws {
        var stages: [ProvingKeyCheck.Stage: Double] = [:]
        let report = try ProvingKeyCheck.check(Self.keys.0, r1cs: Self.cubicCircuit.0, circuitID: "cubic", verifyingKey: Self.keys.1) { stage, f in
            stages[stage] = max(stages[stage] ?? 0, f)
        }
        #expect(stages == [.points: 1, .pairings: 1])
        #expect(report.linkedVariables == 2 && report.variableCount == 5)
        #expect(report.subgroupChecks == 3 + 5)
        // Unit columns give rows 4 (the input row of y), 1 (A of x²) and 2 (A of x³); then B of
        // x (rows 0 and 1) gives row 0 and A of the constant (rows 2 and 3) row 3: every row,
        // so every A, B and L/IC point is checked (five of the ten columns by construction).
        #expect(report.rowCount == 5 && report.recoveredRows == 5)
        #expect(report.rowCheckedA == 5 && report.rowCheckedB == 5 && report.rowCheckedL == 5)
        // A larger circuit, and the key read back from its file.
        let (r1cs, _) = SyntheticCircuit.make(constraints: 1000, publicInputs: 3, seed: 11)
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "synthetic")
        let r = try ProvingKeyCheck.check(try ProvingKey(serialized: pk.serialized()), r1cs: r1cs, circuitID: "synthetic", verifyingKey: vk)
        let n = r1cs.variableCount
        #expect(r.points == 3 + 4 + 2 * n + (n - 4) + (pk.domainSize - 1) + 3 + n)
    }

    /// One point replaced by another valid point, in each place steps 4 and 5 cover.
    @Test func movedPointsAreRefused() throws {
        let cases: [(String, (inout ProvingKey) -> Void, String)] = [
            ("B (G1)", { $0.b1[3] = Self.moved($0.b1[3]) }, "B query in G1 and in G2 disagree"),
            ("B (G2)", { $0.b2[1] = Self.moved($0.b2[1]) }, "B query in G1 and in G2 disagree"),
            ("β₁", { $0.beta1 = Self.moved($0.beta1) }, "β₁ and β₂ are not the same scalar"),
            ("δ₁", { $0.delta1 = Self.moved($0.delta1) }, "δ₁ and δ₂ are not the same scalar"),
            ("L[0]", { $0.l[0] = Self.moved($0.l[0]) }, "L/IC points do not match"),
            ("A[2]", { $0.a[2] = Self.moved($0.a[2]) }, "L/IC points do not match"),
            ("A[0]", { $0.a[0] = Self.moved($0.a[0]) }, "L/IC points do not match"),
            // Step 6: x³'s A gives row 2's point, which B of the constant must equal.
            ("A[4]", { $0.a[4] = Self.moved($0.a[4]) }, "not the R1CS's combinations of the row points"),
            // Step 6: x³ is in C (row 1, recovered), so only the row points can check its L.
            ("L[2]", { $0.l[2] = Self.moved($0.l[2]) }, "do not match the R1CS through its row points"),
            // Both copies of B of the constant moved alike pass step 4; step 5 catches it.
            ("B[0] in both groups", { $0.b1[0] = Self.moved($0.b1[0]); $0.b2[0] = Self.moved($0.b2[0]) }, "L/IC points do not match"),
        ]
        for (what, change, reason) in cases {
            let r = Self.refusal(try Self.altered(change))
            #expect(r?.contains(reason) == true, "\(what): \(r ?? "accepted")")
        }
        // IC[0] moved: the key no longer carries the pinned verifying key.
        let ic = Self.refusal(try Self.altered { $0.verifyingKey.ic[0] = Self.moved($0.verifyingKey.ic[0]) })
        #expect(ic == "its IC[0] differs from the pinned verifying key's")
        // …and pinned as moved, step 5 still sees it disagree with A and B.
        let movedIC = try Self.altered { $0.verifyingKey.ic[0] = Self.moved($0.verifyingKey.ic[0]) }
        #expect(Self.refusal(movedIC, vk: movedIC.verifyingKey)?.contains("L/IC points do not match") == true)
        // IC[1] (y, which is in C) moved and pinned as moved: step 6 sees it.
        let movedIC1 = try Self.altered { $0.verifyingKey.ic[1] = Self.moved($0.verifyingKey.ic[1]) }
        #expect(Self.refusal(movedIC1, vk: movedIC1.verifyingKey)?.contains("do not match the R1CS through its row points") == true)
    }

    @Test func pointsOffTheCurveOrSubgroupAreRefused() throws {
        let offG1 = try Self.altered { $0.l[0] = G1Affine(x: $0.l[0].x, y: $0.l[0].y + .one) }
        #expect(Self.refusal(offG1) == "L[0] is not on the curve")
        let offG2 = try Self.altered { $0.b2[4] = G2Affine(x: $0.b2[4].x, y: $0.b2[4].y + .one) }
        #expect(Self.refusal(offG2) == "B (G2)[4] is not on the curve")
        // A point of the twist outside the order-r subgroup (almost every twist point is).
        var x = Fp2(Fp(7), Fp(1))
        while (x.squared() * x + G2Curve.b).squareRoot() == nil { x = x + .one }
        let twist = G2Affine(x: x, y: (x.squared() * x + G2Curve.b).squareRoot()!)
        #expect(twist.isOnCurve && !twist.isInSubgroupReference)
        let outside = try Self.altered { $0.b2[2] = twist }
        #expect(Self.refusal(outside) == "B (G2)[2] is not in the order-r subgroup")
        let zeroDelta = try Self.altered { $0.delta1 = .infinity }
        #expect(Self.refusal(zeroDelta) == "δ₁ is the point at infinity")
        let zeroH = try Self.altered { $0.h[1] = .infinity }
        #expect(Self.refusal(zeroH)?.hasPrefix("H[1] is the point at infinity") == true)
    }

    @Test func keysThatDisagreeWithThePinnedVerifyingKeyAreRefused() throws {
        // Another setup's key against the pinned one: its α is the first thing that differs.
        #expect(Self.refusal(Self.otherKeys.0) == "its α differs from the pinned verifying key's")
        let otherAlpha = try Self.altered { $0.alpha1 = Self.otherKeys.0.alpha1; $0.verifyingKey.alpha = Self.otherKeys.0.alpha1 }
        #expect(Self.refusal(otherAlpha) == "its α differs from the pinned verifying key's")
        let otherDelta = try Self.altered { $0.delta2 = Self.otherKeys.0.delta2; $0.verifyingKey.delta = Self.otherKeys.0.delta2 }
        #expect(Self.refusal(otherDelta) == "its δ (G2) differs from the pinned verifying key's")
        let otherGamma = try Self.altered { $0.verifyingKey.gamma = Self.otherKeys.1.gamma }
        #expect(Self.refusal(otherGamma) == "its γ differs from the pinned verifying key's")
        #expect(Self.refusal(Self.keys.0, circuitID: "transfer")?.hasPrefix("it is for circuit cubic") == true)
        // The honest key against the pinned key it came with: accepted.
        #expect(Self.refusal(Self.keys.0) == nil)
    }

    /// What the check cannot see: H has no checkable structure in this key format (no [τ]₂).
    /// A moved H point passes the check, and the proof it yields fails verification, which is
    /// why the wallet verifies every proof against the pinned key before sending it.
    @Test func aMovedHPointIsLeftToTheProofSelfCheck() throws {
        let (r1cs, z) = Self.cubicCircuit
        let bad = try Self.altered { $0.h[0] = Self.moved($0.h[0]) }
        #expect(Self.refusal(bad) == nil)
        let proof = try Prover.prove(provingKey: bad, r1cs: r1cs, assignment: z)
        #expect(try !Groth16.verify(PreparedVerifyingKey(Self.keys.1), proof: proof, publicInputs: [z[1]]))
        let honest = try Prover.prove(provingKey: Self.keys.0, r1cs: r1cs, assignment: z)
        #expect(try Groth16.verify(PreparedVerifyingKey(Self.keys.1), proof: honest, publicInputs: [z[1]]))
    }
}
