import BN254
import Foundation
import Testing
import TestSupport

/// MSM against the naive Σ sᵢ·Pᵢ (optimised versus reference, as gnark-crypto and arkworks test theirs): random inputs with a
/// printed seed, plus the inputs that break bucket code: zero scalars, r − 1 (digit carries in
/// every window), repeated points (doublings inside a bucket), P and −P in one bucket (sums to
/// infinity), and points at infinity.
@Suite struct MSMTests {
    static func naive<C: CurveParameters>(_ points: [AffinePoint<C>], _ scalars: [Fr]) -> JacobianPoint<C> {
        var acc = JacobianPoint<C>.infinity
        for (p, s) in zip(points, scalars) { acc = acc + p.jacobian.multiplied(by: s) }
        return acc
    }

    /// n points: a random start Q, then Q + i·G (cheap to make, all distinct).
    static func points<C: CurveParameters>(_ n: Int, _ rng: inout SeededGenerator, _ gen: JacobianPoint<C>) -> [AffinePoint<C>] {
        var p = gen.multiplied(by: rng.fr())
        var out: [JacobianPoint<C>] = []
        for _ in 0..<n { out.append(p); p = p + gen }
        return JacobianPoint<C>.batchAffine(out)
    }

    /// Scalars with the awkward values planted among random ones.
    static func scalars(_ n: Int, _ rng: inout SeededGenerator) -> [Fr] {
        var s = (0..<n).map { _ in rng.fr() }
        let special: [Fr] = [.zero, -Fr.one, .one, Fr(2), -Fr(2), Fr(1 << 40)]
        for (i, v) in special.enumerated() where i * 3 < n { s[i * 3] = v }
        return s
    }

    /// Repeats, negations and infinity planted among the points.
    static func awkward<C: CurveParameters>(_ p: inout [AffinePoint<C>]) {
        let n = p.count
        if n > 10 { p[4] = p[1]; p[5] = p[1]; p[7] = -p[2]; p[8] = .infinity; p[9] = p[2] }
    }

    @Test(arguments: [0, 1, 7, 100, 1000])
    func g1MatchesNaiveSum(n: Int) {
        var rng = SeededGenerator(label: "msm-g1-\(n)")
        var pts = Self.points(n, &rng, G1Jacobian.generator)
        Self.awkward(&pts)
        let s = Self.scalars(n, &rng)
        let expected = Self.naive(pts, s)
        #expect(MSM.g1(pts, s) == expected, "seed \(rng.seed)")
        #expect(MSM.g1(pts, s, parallelism: 1) == expected, "seed \(rng.seed)")
        #expect(MSM.multiply(pts, s) == expected)
    }

    /// Every window size, including tiny ones where buckets hold long chains of collisions.
    @Test func g1AllWindowSizes() {
        var rng = SeededGenerator(label: "msm-windows")
        var pts = Self.points(64, &rng, G1Jacobian.generator)
        Self.awkward(&pts)
        pts += Array(repeating: pts[3], count: 20) + Array(repeating: -pts[3], count: 19)
        let s = Self.scalars(pts.count, &rng).enumerated().map { i, x in i >= 64 ? Fr(UInt64(i % 3)) : x }
        let expected = Self.naive(pts, s)
        for c in 1...15 { #expect(MSM.g1(pts, s, windowBits: c) == expected, "c = \(c), seed \(rng.seed)") }
    }

    @Test func allScalarsEqualOrZero() {
        var rng = SeededGenerator(label: "msm-equal")
        let pts = Self.points(300, &rng, G1Jacobian.generator)
        let minusOne = [Fr](repeating: -Fr.one, count: 300)
        #expect(MSM.g1(pts, minusOne) == Self.naive(pts, minusOne))
        #expect(MSM.g1(pts, [Fr](repeating: .zero, count: 300)).isInfinity)
        #expect(MSM.g1([G1Affine](repeating: .infinity, count: 50), (0..<50).map { _ in rng.fr() }).isInfinity)
        // P·1 + P·(r − 1) = infinity through a bucket holding P and −P.
        let p = pts[0]
        #expect(MSM.g1([p, p], [.one, -Fr.one], windowBits: 4).isInfinity)
    }

    @Test(arguments: [0, 1, 7, 60])
    func g2MatchesNaiveSum(n: Int) {
        var rng = SeededGenerator(label: "msm-g2-\(n)")
        var pts = Self.points(n, &rng, G2Jacobian.generator)
        Self.awkward(&pts)
        let s = Self.scalars(n, &rng)
        let expected = Self.naive(pts, s)
        #expect(MSM.g2(pts, s) == expected, "seed \(rng.seed)")
        #expect(MSM.g2(pts, s, windowBits: 3, parallelism: 1) == expected, "seed \(rng.seed)")
    }

    /// Several MSMs scheduled together come back in input order.
    @Test func batchOfMixedCurves() {
        var rng = SeededGenerator(label: "msm-batch")
        let a = Self.points(200, &rng, G1Jacobian.generator), sa = Self.scalars(200, &rng)
        let b = Self.points(31, &rng, G1Jacobian.generator), sb = Self.scalars(31, &rng)
        let c = Self.points(40, &rng, G2Jacobian.generator), sc = Self.scalars(40, &rng)
        let out = MSM.run(g1: [.init(a, sa), .init(b, sb)], g2: [.init(c, sc)])
        #expect(out.g1 == [Self.naive(a, sa), Self.naive(b, sb)], "seed \(rng.seed)")
        #expect(out.g2 == [Self.naive(c, sc)], "seed \(rng.seed)")
    }

    /// Progress (issue 19: a prover's bar moves through the MSM): one report per window, every
    /// one in (0, 1], the last one 1, and the results unchanged.
    @Test func progressIsReportedPerWindow() {
        var rng = SeededGenerator(label: "msm-progress")
        let a = Self.points(300, &rng, G1Jacobian.generator), sa = Self.scalars(300, &rng)
        let c = Self.points(40, &rng, G2Jacobian.generator), sc = Self.scalars(40, &rng)
        let seen = Reports()
        let out = MSM.run(g1: [.init(a, sa)], g2: [.init(c, sc)], progress: { seen.add($0) })
        #expect(out.g1 == [Self.naive(a, sa)] && out.g2 == [Self.naive(c, sc)])
        let values = seen.values
        #expect(values.count >= 10 && values.allSatisfy { $0 > 0 && $0 <= 1 }, "\(values)")
        #expect(abs((values.max() ?? 0) - 1) < 1e-12 && values.filter { $0 < 1 }.count == values.count - 1, "\(values)")
    }

    /// Affine batch addition against Jacobian addition, with every special case in one batch.
    @Test func batchAddMatchesJacobianAddition() {
        var rng = SeededGenerator(label: "batch-add")
        let p = Self.points(40, &rng, G1Jacobian.generator)
        var q = Self.points(40, &rng, G1Jacobian.generator)
        var left = p
        left[0] = .infinity; q[1] = .infinity; q[2] = p[2]; q[3] = -p[3]; left[4] = .infinity; q[4] = .infinity
        let expected = zip(left, q).map { ($0.jacobian + $1.jacobian).affine }
        AffinePoint.batchAdd(&left, q)
        #expect(left == expected, "seed \(rng.seed)")
        var g2 = Self.points(5, &rng, G2Jacobian.generator)
        let h2 = [g2[0], -g2[1], .infinity] + Self.points(2, &rng, G2Jacobian.generator)
        let e2 = zip(g2, h2).map { ($0.jacobian + $1.jacobian).affine }
        AffinePoint.batchAdd(&g2, h2)
        #expect(g2 == e2)
    }

    @Test func windowSizeGrowsWithN() {
        let sizes = [1, 16, 256, 4096, 1 << 14, 1 << 16, 1 << 20].map(MSM.windowBits(for:))
        #expect(sizes == sizes.sorted())
        #expect(sizes.allSatisfy { (2...15).contains($0) })
    }
}

/// Progress values reported from the MSM's workers.
final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Double] = []
    func add(_ v: Double) { lock.lock(); list.append(v); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return list }
}
