import BN254
import Testing
import TestSupport

@Suite struct TowerTests {
    @Test func fp12FieldLaws() {
        var rng = SeededGenerator(label: "fp12")
        for _ in 0..<5 {
            let a = rng.fp12(), b = rng.fp12(), c = rng.fp12()
            #expect((a * b) * c == a * (b * c))
            #expect(a * (b + c) == a * b + a * c)
            #expect(a.squared() == a * a)
            #expect(a * a.inverse() == .one)
            let s = Fp6(rng.fp2(), rng.fp2(), rng.fp2())
            #expect(s.squared() == s * s)
            #expect(s * s.inverse() == .one)
        }
    }

    @Test func frobeniusIsThePPower() {
        var rng = SeededGenerator(label: "frobenius")
        let a = rng.fp12()
        let p = GMPInteger.p
        #expect(a.frobenius(1) == a.pow(p.limbs))
        #expect(a.frobenius(2) == a.pow(p.power(2).limbs))
        #expect(a.frobenius(3) == a.frobenius(1).frobenius(2))
    }

    @Test func sparseLineProductMatchesDenseProduct() {
        var rng = SeededGenerator(label: "line")
        let f = rng.fp12()
        let (l0, l1, l2) = (rng.fp2(), rng.fp2(), rng.fp2())
        let dense = Fp12(Fp6(l0, .zero, .zero), Fp6(l1, l2, .zero))
        #expect(f.mulByLine(l0, l1, l2) == f * dense)
    }

    @Test func twoLinesAtOnceMatchTwoLineProducts() {
        var rng = SeededGenerator(label: "two-lines")
        for _ in 0..<8 {
            let f = rng.fp12()
            let (a0, a1, a3, b0, b1, b3) = (rng.fp2(), rng.fp2(), rng.fp2(), rng.fp2(), rng.fp2(), rng.fp2())
            let twice = f.mulByLine(a0, a1, a3).mulByLine(b0, b1, b3)
            #expect(f.mulByLines(a0, a1, a3, b0, b1, b3) == twice)
            #expect(f.mulByLines(b0, b1, b3, a0, a1, a3) == twice)
            // A coefficient in the wrong place is not the same product.
            #expect(f.mulByLines(a0, a3, a1, b0, b1, b3) != twice)
        }
    }

    @Test func cyclotomicSquaringMatchesSquaring() {
        var rng = SeededGenerator(label: "cyclotomic")
        let f = rng.fp12()
        // Map into the cyclotomic subgroup with the easy part of the final exponentiation.
        var g = f.conjugate() * f.inverse()
        g = g.frobenius(2) * g
        #expect(g.cyclotomicSquared() == g.squared())
        #expect(g.cyclotomicPow(bnParameterX) == g.pow([UInt(bnParameterX)]))
        #expect(g.cyclotomicPowNAF(bnParameterX) == g.pow([UInt(bnParameterX)]))
        #expect(g.cyclotomicPowNAF(0b1011_0111) == g.pow([0b1011_0111]))
        // Width-4 digits from 2^16 up: the first such exponent, all ones (every digit −1 or a
        // long carry), and one with digits of every magnitude ±1…±7.
        for e: UInt64 in [1 << 16, 0xFFFF_FFFF_FFFF_FFFF, 0x7B5D_3C1F_9E0A_4467] {
            #expect(g.cyclotomicPowNAF(e) == g.pow([UInt(e)]), "exponent \(e)")
        }
        #expect(g * g.conjugate() == .one)
    }
}

@Suite struct GroupLawTests {
    @Test func g1Laws() { laws(G1Jacobian.self, label: "g1") { $0.g1() } }
    @Test func g2Laws() { laws(G2Jacobian.self, label: "g2") { $0.g2() } }

    func laws<C>(_: JacobianPoint<C>.Type, label: String, random: (inout SeededGenerator) -> JacobianPoint<C>) {
        var rng = SeededGenerator(label: label)
        let p = random(&rng), q = random(&rng), s = random(&rng)
        let o = JacobianPoint<C>.infinity
        #expect(p.isOnCurve && q.isOnCurve)
        #expect((p + q) + s == p + (q + s))
        #expect(p + q == q + p)
        #expect(p + o == p && o + p == p)
        #expect((p - p).isInfinity)
        #expect(p + p == p.doubled())
        #expect(p.adding(q.affine) == p + q)
        #expect(p.adding(p.affine) == p.doubled())
        #expect(p.adding((-p).affine).isInfinity)
        #expect(p.multiplied(by: FrParameters.modulus).isInfinity)  // [r]P = O
        let a = rng.fr(), b = rng.fr()
        #expect(p.multiplied(by: a).multiplied(by: b) == p.multiplied(by: a * b))
        #expect(p.multiplied(by: a) + p.multiplied(by: b) == p.multiplied(by: a + b))
        #expect(p.multiplied(by: Fr(3)) == p + p + p)
        let batch = [p, o, q, p + q]
        #expect(JacobianPoint<C>.batchAffine(batch) == batch.map(\.affine))
    }

    @Test func g2SubgroupCriteriaAgree() {
        var rng = SeededGenerator(label: "g2-subgroup")
        // Random points of the twist: almost none lie in the order-r subgroup.
        var outside = 0
        for _ in 0..<6 {
            var x = rng.fp2()
            var y = (x.squared() * x + G2Curve.b).squareRoot()
            while y == nil { x = rng.fp2(); y = (x.squared() * x + G2Curve.b).squareRoot() }
            let q = G2Affine(x: x, y: y!)
            #expect(q.isOnCurve)
            #expect(q.isInSubgroup == q.isInSubgroupReference)
            #expect(q.isInSubgroupPsi6x2 == q.isInSubgroupReference)
            if !q.isInSubgroup { outside += 1 }
            // Clearing the cofactor 2p − r lands in the subgroup.
            let h = (GMPInteger.p + GMPInteger.p - GMPInteger.r).limbs
            let cleared = q.jacobian.multiplied(by: h).affine
            #expect(cleared.isInSubgroup && cleared.isInSubgroupReference && cleared.isInSubgroupPsi6x2)
            #expect(G2Jacobian(cleared.psi()) == cleared.jacobian.psi())
        }
        #expect(outside == 6)
        let g = rng.g2().affine
        #expect(g.isInSubgroup && g.isInSubgroupReference)
    }
}

@Suite struct PairingTests {
    @Test func bilinearity() {
        var rng = SeededGenerator(label: "bilinear")
        let p = G1Jacobian.generator.multiplied(by: rng.fr()).affine
        let q = G2Jacobian.generator.multiplied(by: rng.fr()).affine
        let a = rng.fr(), b = rng.fr()
        let e = Pairing.pairing(p, q)
        let eab = Pairing.pairing(p.jacobian.multiplied(by: a).affine, q.jacobian.multiplied(by: b).affine)
        #expect(eab == e.pow(a * b))
        #expect(!e.isOne)  // non-degenerate
        #expect(e.pow(Fr.zero - Fr.one) * e == GT(.one))  // e^r = 1
        // e(P, Q1 + Q2) = e(P, Q1)·e(P, Q2)
        let q2 = rng.g2().affine
        #expect(Pairing.pairing(p, (q.jacobian + q2.jacobian).affine) == e * Pairing.pairing(p, q2))
        #expect(Pairing.pairing(.infinity, q).isOne && Pairing.pairing(p, .infinity).isOne)
    }

    @Test func finalExponentiationLandsInGT() {
        var rng = SeededGenerator(label: "final-exp")
        let f = rng.fp12()
        let g = Pairing.finalExponentiation(MillerLoopResult(f))
        #expect(g.value.pow(GMPInteger.r.limbs) == .one)
    }

    @Test func multiMillerLoopIsTheProductOfLoops() {
        var rng = SeededGenerator(label: "multi-miller")
        let pairs = (0..<3).map { _ in (rng.g1().affine, G2Prepared(rng.g2().affine)) }
        let joint = Pairing.multiMillerLoop(pairs)
        let separate = pairs.map { Pairing.multiMillerLoop([$0]) }.reduce(MillerLoopResult(.one), *)
        #expect(Pairing.finalExponentiation(joint) == Pairing.finalExponentiation(separate))
    }
}

@Suite struct EndomorphismTests {
    @Test func glvConstantsAreCubeRootsThatMatch() {
        let beta = G1Endomorphism.beta, lambda = G1Endomorphism.lambda
        #expect(!beta.isOne && beta * beta * beta == .one)
        #expect(!lambda.isOne && lambda * lambda * lambda == .one)
        var rng = SeededGenerator(label: "glv")
        let p = rng.g1()
        #expect(p.endomorphism() == p.multiplied(by: lambda))
        #expect(G1Jacobian(p.affine.endomorphism()) == p.endomorphism())
        #expect(G1Affine.infinity.endomorphism().isInfinity)
    }

    @Test func glvMultiplicationIsTheScalarMultiplication() {
        var rng = SeededGenerator(label: "glv-mul")
        for _ in 0..<20 {
            let p = rng.g1()
            let a = rng.next(), b = rng.next()
            let k = Fr(a) + Fr(b) * G1Endomorphism.lambda
            #expect(p.multipliedGLV(a, b) == p.multiplied(by: k))
        }
        let p = rng.g1()
        #expect(p.multipliedGLV(0, 0).isInfinity)
        #expect(p.multipliedGLV(1, 0) == p)
        #expect(p.multipliedGLV(UInt64.max, UInt64.max) == p.multiplied(by: Fr(UInt64.max) * (Fr.one + G1Endomorphism.lambda)))
    }

    @Test func glvLinearCombinationIsTheSumOfItsTerms() {
        var rng = SeededGenerator(label: "glv-sum")
        var points = (0..<9).map { _ in rng.g1().affine }
        var weights = (0..<9).map { _ in (a: rng.next(), b: rng.next()) }
        // A repeated point (the chain adds a table entry to itself), the point at infinity,
        // a zero weight, extreme weights and the negation of another term.
        points[3] = points[2]; weights[3] = weights[2]
        points[4] = .infinity
        weights[5] = (0, 0)
        weights[6] = (UInt64.max, UInt64.max)
        weights[7] = (1, 0)
        points[8] = -points[0]; weights[8] = weights[0]
        var expected = G1Jacobian.infinity
        for (p, w) in zip(points, weights) { expected += G1Jacobian(p).multipliedGLV(w.a, w.b) }
        #expect(G1Jacobian.linearCombinationGLV(points, weights) == expected)
        #expect(G1Jacobian.linearCombinationGLV([], []).isInfinity)
        // Terms that cancel leave the point at infinity; one changed weight does not.
        #expect(G1Jacobian.linearCombinationGLV([points[0], points[8]], [weights[0], weights[0]]).isInfinity)
        #expect(!G1Jacobian.linearCombinationGLV([points[0], points[8]], [weights[0], (weights[0].a ^ 1, weights[0].b)]).isInfinity)
    }
}
