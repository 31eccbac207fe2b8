import BN254
import Dispatch
import Foundation
import Groth16
import Primitives
import R1CS

/// Why a proving key was refused: what was wrong and where.
public struct ProvingKeyRefusal: Error, CustomStringConvertible, Equatable, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "the proving key is refused: \(reason)" }
}

/// Checks a proving key that came from someone else (a wallet's server) against the verifying
/// key the wallet pinned and the R1CS it proves, before any witness touches it. Once per key:
/// the wallet records the accepted key's hash.
///
/// The key's layout (`DevelopmentSetup`): α₁ β₁ δ₁ in G1, β₂ γ₂ δ₂ in G2, and per variable k
/// A_k = u_k(τ)·G₁, B_k = v_k(τ)·G₁ and ·G₂; IC_k = ((β·u_k + α·v_k + w_k)/γ)·G₁ for public k
/// (k ≤ publicCount, with the input rows in u_k), L_k = (…/δ)·G₁ for private k, and
/// H_i = (τⁱ·Z(τ)/δ)·G₁ for i < domainSize − 1. With G₁, G₂ the generators and e the pairing,
/// the check is, in order:
///
/// 1. **Identity.** The key's circuit id is the pinned one; its sizes are the R1CS's
///    (variables, public inputs, constraints, domain) and its point counts follow from them.
/// 2. **The pinned verifying key.** α₁ = α, β₂ = β, γ₂ = γ, δ₂ = δ and IC = IC of the pinned
///    key, point for point (the key file carries IC and γ: they must be the pinned ones).
/// 3. **Points.** Every point on its curve; every G2 point in the order-r subgroup (G1 has
///    cofactor 1 on BN254, so on the curve is in the subgroup). α₁, β₁, δ₁, β₂, γ₂, δ₂ are not
///    the identity, and no H_i is (τ ≠ 0 and Z(τ) ≠ 0 make every honest H_i nonzero).
/// 4. **G1/G2 copies agree.** e(β₁, G₂) = e(G₁, β₂), e(δ₁, G₂) = e(G₁, δ₂), and
///    e(B_k(G1), G₂) = e(G₁, B_k(G2)) for every variable k, all in one equation with
///    independent random 128-bit weights ρ (OpenSSL's CSPRNG):
///        e(ρ_β·β₁ + ρ_δ·δ₁ + Σ ρ_k·B_k(G1), G₂) · e(−G₁, ρ_β·β₂ + ρ_δ·δ₂ + Σ ρ_k·B_k(G2)) = 1
///    (two MSMs of n + 2 points, two Miller loops, one final exponentiation).
/// 5. **L and IC against A and B where the R1CS allows it.** δ·L_k = β·u_k + α·v_k + w_k needs
///    w_k(τ)·G₁, which the key does not carry. For every variable whose C column is empty
///    (it is in no constraint's C, so w_k = 0 exactly) the relation is checkable:
///        private k:  e(L_k, δ₂) = e(A_k, β₂) · e(α₁, B_k(G2))
///        public k:   e(IC_k, γ₂) = e(A_k, β₂) · e(α₁, B_k(G2))
///    batched with random weights σ_k into four Miller loops:
///        e(Σσ·L, δ₂) · e(Σσ·IC, γ₂) · e(−Σσ·A, β₂) · e(−α₁, Σσ·B(G2)) = 1.
/// 6. **A, B and L against the R1CS, through the key's own row points.** Every query point is
///    a fixed linear combination of the row points P_j = L_j(τ)·G₁ (the Lagrange basis at τ,
///    one per constraint row and per input row): A_k = Σ_j A'[j][k]·P_j (A' with the input
///    rows), B_k = Σ_j B[j][k]·P_j, and δ·L_k = β·A_k + α·B_k + W_k with W_k = Σ_j C[j][k]·P_j.
///    The key does not carry P, but a variable whose A' (or B) column has one entry c at row j
///    gives it away: P_j = c⁻¹·A_k (or c⁻¹·B_k), and a column with one row left unknown gives
///    that row (peeled until nothing changes). With the row points so recovered, for every
///    variable whose rows are all recovered (per query; the columns that gave a row point
///    satisfy their own equation by construction, the others are the evidence):
///        A_k = Σ_j A'[j][k]·P_j  and  B_k(G1) = Σ_j B[j][k]·P_j           (one MSM = O)
///        e(L_k, δ₂) = e(A_k, β₂)·e(α₁, B_k(G2))·e(W_k, G₂)   (IC_k and γ₂ for public k)
///    each family in one weighted equation (an MSM that must be the identity; five Miller
///    loops). An empty column is covered by no rows: its point must be the identity.
///    A false key passes 4, 5 or 6 with probability at most about 2⁻¹²⁸ per equation.
///
/// **What this proves.** With the wallet's self-check (every proof is verified against the
/// pinned verifying key before it is sent), a proof that leaves the wallet is distributed
/// independently of the witness whatever else the key holds: A = α + Σz·A_k + r·δ₁ and
/// B = β + Σz·B_k + s·δ₂ with r, s uniform and δ₁, δ₂ ≠ O (step 3) are uniform and
/// independent, and C is then the one point that satisfies the verification equation (δ ≠ O
/// in the pinned key makes it unique). That is the core of Fuchsbauer 2018's subversion-ZK
/// argument for Groth16; full subversion zero knowledge (a simulator) additionally rests on a
/// knowledge assumption to extract the trapdoor, which no check can supply. What a subverted
/// key can still do is make proving *fail* for some witnesses and not others (a selective
/// failure the server may notice as a transfer that never arrives: at most one bit per
/// attempt). Steps 4 and 5 close that for the parts
/// they cover: the B query is one polynomial evaluation in both groups, β₁/δ₁ match β₂/δ₂,
/// and L, IC and A agree for the variables with empty C columns. Soundness is the server's
/// business: the pinned verifying key decides what it accepts, and no proving key changes that.
///
/// **What it cannot prove** (the key format carries no powers of τ in G2, and checking these
/// needs them: the CRS verification of Abdolmaleki et al. 2017 and Fuchsbauer 2018 adds exactly
/// such elements): that the row points step 6 recovers are L_j(τ)·G₁ for one τ rather than
/// arbitrary points; A, B and L of variables whose rows are not all recovered (the report
/// counts those covered); and that H is the sequence τⁱ·Z(τ)/δ (a ratio τ between consecutive
/// H_i is a DDH relation in G1, which no pairing in this key can test without [τ]₂). Those
/// parts are exercised, for the witness at hand, by the self-check of every proof.
public enum ProvingKeyCheck {
    public enum Stage: String, Sendable { case points, pairings }

    public struct Report: Sendable {
        public var seconds: Double
        /// Points checked on their curve (G1 and G2).
        public var points: Int
        /// G2 points checked for order-r subgroup membership.
        public var subgroupChecks: Int
        /// Variables whose L (or IC) relation step 5 checked, out of `variableCount`.
        public var linkedVariables: Int
        public var variableCount: Int
        /// Step 6: row points recovered (of `rowCount`), and variables whose A, B and L (or IC)
        /// points were checked against the R1CS through them. `recoveredRows` of the A and B
        /// columns counted gave a row point and hold by construction.
        public var recoveredRows = 0
        public var rowCount = 0
        public var rowCheckedA = 0
        public var rowCheckedB = 0
        public var rowCheckedL = 0
    }

    /// Runs steps 1–5 (see the type's documentation) on all cores. `progress` is called on the
    /// calling thread with fractions from 0 to 1 within each stage (`points`, then `pairings`).
    public static func check(_ pk: ProvingKey, r1cs: R1CS, circuitID: String, verifyingKey vk: VerifyingKey,
                             progress: ((Stage, Double) -> Void)? = nil) throws(ProvingKeyRefusal) -> Report {
        let start = Date()
        // 1. Identity and sizes.
        guard pk.circuitID == circuitID else { throw .init("it is for circuit \(pk.circuitID), the pinned parameters are for \(circuitID)") }
        let n = r1cs.variableCount, pub = r1cs.publicCount, m = r1cs.constraints.count
        let domain = EvaluationDomain(minimumSize: m + pub + 1).size
        guard pk.variableCount == n, pk.publicCount == pub, pk.constraintCount == m, pk.domainSize == domain else {
            throw .init("its sizes (\(pk.variableCount) variables, \(pk.publicCount) public, \(pk.constraintCount) constraints, domain \(pk.domainSize)) are not the circuit's (\(n), \(pub), \(m), \(domain))")
        }
        guard pk.a.count == n, pk.b1.count == n, pk.b2.count == n, pk.l.count == n - pub - 1, pk.h.count == pk.hQuery.count(domainSize: domain),
              pk.verifyingKey.ic.count == pub + 1 else {
            throw .init("its query lengths do not follow from its sizes")
        }
        // 2. The pinned verifying key.
        guard vk.ic.count == pub + 1 else { throw .init("the pinned verifying key has \(vk.ic.count - 1) public inputs, the circuit \(pub)") }
        guard pk.alpha1 == vk.alpha, pk.verifyingKey.alpha == vk.alpha else { throw .init("its α differs from the pinned verifying key's") }
        guard pk.beta2 == vk.beta, pk.verifyingKey.beta == vk.beta else { throw .init("its β (G2) differs from the pinned verifying key's") }
        guard pk.verifyingKey.gamma == vk.gamma else { throw .init("its γ differs from the pinned verifying key's") }
        guard pk.delta2 == vk.delta, pk.verifyingKey.delta == vk.delta else { throw .init("its δ (G2) differs from the pinned verifying key's") }
        if let i = vk.ic.indices.first(where: { pk.verifyingKey.ic[$0] != vk.ic[$0] }) {
            throw .init("its IC[\(i)] differs from the pinned verifying key's")
        }

        // 3. Points: non-identity, on the curve, G2 in the subgroup.
        for (p, name) in [(pk.alpha1, "α₁"), (pk.beta1, "β₁"), (pk.delta1, "δ₁")] where p.isInfinity {
            throw .init("\(name) is the point at infinity")
        }
        for (p, name) in [(pk.beta2, "β₂"), (pk.verifyingKey.gamma, "γ₂"), (pk.delta2, "δ₂")] where p.isInfinity {
            throw .init("\(name) is the point at infinity")
        }
        if let i = pk.h.firstIndex(where: \.isInfinity) { throw .init("H[\(i)] is the point at infinity (no honest key has one)") }
        let g1Groups: [(String, [G1Affine])] = [("α₁/β₁/δ₁", [pk.alpha1, pk.beta1, pk.delta1]), ("IC", pk.verifyingKey.ic),
                                                ("A", pk.a), ("B (G1)", pk.b1), ("L", pk.l), ("H", pk.h)]
        let g2Groups: [(String, [G2Affine])] = [("β₂/γ₂/δ₂", [pk.beta2, pk.verifyingKey.gamma, pk.delta2]), ("B (G2)", pk.b2)]
        let g1Total = g1Groups.reduce(0) { $0 + $1.1.count }, g2Total = g2Groups.reduce(0) { $0 + $1.1.count }
        try checkPoints(g1Groups, g2Groups, progress: progress)

        // 4. G1/G2 copies: β, δ and the B query, in one weighted equation.
        progress?(.pairings, 0)
        let rho = (0..<(n + 2)).map { _ in SecureRandom.weight128() }
        let sums = MSM.run(g1: [.init([pk.beta1, pk.delta1] + pk.b1, rho)], g2: [.init([pk.beta2, pk.delta2] + pk.b2, rho)])
        if !sameExponent(sums.g1[0].affine, sums.g2[0].affine) {
            // Name the culprit: the two single points first (cheap), else the B query.
            if !sameExponent(pk.beta1, pk.beta2) { throw .init("β₁ and β₂ are not the same scalar: e(β₁, G₂) ≠ e(G₁, β₂)") }
            if !sameExponent(pk.delta1, pk.delta2) { throw .init("δ₁ and δ₂ are not the same scalar: e(δ₁, G₂) ≠ e(G₁, δ₂)") }
            throw .init("its B query in G1 and in G2 disagree: e(B_k(G1), G₂) ≠ e(G₁, B_k(G2)) for some variable k")
        }
        progress?(.pairings, 0.5)

        // 5. L / IC against A and B for the variables no constraint has in C (w_k = 0).
        let linked = emptyCColumns(r1cs)
        if !linked.isEmpty {
            let sigma = linked.map { _ in SecureRandom.weight128() }
            // An empty sum is the point at infinity with a zero scalar (MSM allows both).
            var lBases: [G1Affine] = [.infinity], lScalars: [Fr] = [.zero], icBases: [G1Affine] = [.infinity], icScalars: [Fr] = [.zero]
            for (k, s) in zip(linked, sigma) {
                if k <= pub { icBases.append(pk.verifyingKey.ic[k]); icScalars.append(s) } else { lBases.append(pk.l[k - pub - 1]); lScalars.append(s) }
            }
            let r = MSM.run(g1: [.init(lBases, lScalars), .init(icBases, icScalars), .init(linked.map { pk.a[$0] }, sigma)],
                            g2: [.init(linked.map { pk.b2[$0] }, sigma)])
            let g1 = G1Jacobian.batchAffine([r.g1[0], r.g1[1], -r.g1[2]])
            let ok = Pairing.pairingProductIsOne([(g1[0], pk.delta2), (g1[1], pk.verifyingKey.gamma), (g1[2], pk.beta2),
                                                  (-pk.alpha1, r.g2[0].affine)])
            guard ok else {
                throw .init("its L/IC points do not match its A and B points: e(L_k, δ₂) ≠ e(A_k, β₂)·e(α₁, B_k(G2)) (or the IC form with γ₂) for some variable k that is in no constraint's C")
            }
        }
        progress?(.pairings, 0.75)

        // 6. A, B, L against the R1CS through the recovered row points.
        var report = Report(seconds: 0, points: g1Total + g2Total, subgroupChecks: g2Total, linkedVariables: linked.count, variableCount: n)
        try checkRows(pk, r1cs, &report)
        progress?(.pairings, 1)
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// c·P, with the common coefficients ±1 free.
    static func times(_ p: G1Jacobian, _ c: Fr) -> G1Jacobian {
        if c.isOne { return p }
        if (-c).isOne { return -p }
        return p.multiplied(by: c)
    }

    /// One column of a matrix: (row, coefficient), rows ascending, repeated terms summed, zeros dropped.
    typealias Column = [(row: Int, coefficient: Fr)]

    /// The columns of A' (A with the input rows), B and C.
    static func columns(_ r1cs: R1CS) -> (a: [Column], b: [Column], c: [Column]) {
        let n = r1cs.variableCount, m = r1cs.constraints.count
        var a = [Column](repeating: [], count: n), b = a, c = a
        func add(_ col: inout Column, _ row: Int, _ x: Fr) {
            if let last = col.last, last.row == row { col[col.count - 1].coefficient += x } else { col.append((row, x)) }
        }
        for (j, con) in r1cs.constraints.enumerated() {
            for t in con.a { add(&a[t.variable], j, t.coefficient) }
            for t in con.b { add(&b[t.variable], j, t.coefficient) }
            for t in con.c { add(&c[t.variable], j, t.coefficient) }
        }
        for k in 0...r1cs.publicCount { add(&a[k], m + k, .one) }
        let clean: (Column) -> Column = { $0.filter { !$0.coefficient.isZero } }
        return (a.map(clean), b.map(clean), c.map(clean))
    }

    /// The row points P_j recovered from the key, in affine form, with each row's position.
    struct RowPoints {
        var points: [G1Affine]
        /// row → position in `points`, or −1 where the row could not be recovered.
        var index: [Int]
        func covers(_ col: Column) -> Bool { col.allSatisfy { index[$0.row] >= 0 } }
    }

    /// Step 6 (see the type's documentation).
    static func checkRows(_ pk: ProvingKey, _ r1cs: R1CS, _ report: inout Report) throws(ProvingKeyRefusal) {
        let n = r1cs.variableCount
        let rows = r1cs.constraints.count + r1cs.publicCount + 1
        let (aCols, bCols, cCols) = columns(r1cs)
        let known = recoverRows(pk, aCols: aCols, bCols: bCols, variables: n, rows: rows)
        var recoveredRows: [Int] = []
        var scaled: [G1Jacobian] = []
        for j in 0..<rows {
            guard let p = known[j] else { continue }
            recoveredRows.append(j)
            scaled.append(p)
        }
        var index = [Int](repeating: -1, count: rows)
        for (i, j) in recoveredRows.enumerated() { index[j] = i }
        let rowPoints = RowPoints(points: G1Jacobian.batchAffine(scaled), index: index)
        report.recoveredRows = recoveredRows.count
        report.rowCount = rows
        try checkAB(pk, rowPoints, aCols: aCols, bCols: bCols, &report)
        try checkL(pk, rowPoints, aCols: aCols, bCols: bCols, cCols: cCols, publicCount: r1cs.publicCount, &report)
    }

    /// Row points from columns with one row not yet known (first the unit columns), peeled
    /// until nothing changes: P_j = c⁻¹·(A_k − Σ_{i ≠ j} A'[i][k]·P_i) (or from B_k).
    static func recoverRows(_ pk: ProvingKey, aCols: [Column], bCols: [Column], variables n: Int, rows: Int) -> [G1Jacobian?] {
        var known = [G1Jacobian?](repeating: nil, count: rows)
        var pending = Array(0..<(2 * n))  // column q: A' of q for q < n, B of q − n
        while true {
            var next: [Int] = []
            var found = 0
            for q in pending {
                let col = q < n ? aCols[q] : bCols[q - n]
                if col.isEmpty { continue }
                var unknown: Int?
                var many = false
                for (i, e) in col.enumerated() where known[e.row] == nil {
                    if unknown != nil { many = true; break }
                    unknown = i
                }
                guard let u = unknown else { continue }  // every row known: nothing to learn
                if many { next.append(q); continue }
                var acc = (q < n ? pk.a[q] : pk.b1[q - n]).jacobian
                for (i, e) in col.enumerated() where i != u { acc = acc + (-Self.times(known[e.row]!, e.coefficient)) }
                known[col[u].row] = Self.times(acc, col[u].coefficient.inverse())
                found += 1
            }
            pending = next
            if found == 0 || pending.isEmpty { return known }
        }
    }

    /// A_k and B_k(G1) against Σ coefficient·P_j: Σρ·A_k + Σρ'·B_k − Σ_j s_j·P_j = O.
    static func checkAB(_ pk: ProvingKey, _ rows: RowPoints, aCols: [Column], bCols: [Column],
                        _ report: inout Report) throws(ProvingKeyRefusal) {
        var rowScalars = [Fr](repeating: .zero, count: rows.points.count)
        var bases: [G1Affine] = [], scalars: [Fr] = []
        for k in 0..<aCols.count where rows.covers(aCols[k]) {
            let w = SecureRandom.weight128()
            bases.append(pk.a[k]); scalars.append(w)
            for e in aCols[k] { rowScalars[rows.index[e.row]] -= w * e.coefficient }
            report.rowCheckedA += 1
        }
        for k in 0..<bCols.count where rows.covers(bCols[k]) {
            let w = SecureRandom.weight128()
            bases.append(pk.b1[k]); scalars.append(w)
            for e in bCols[k] { rowScalars[rows.index[e.row]] -= w * e.coefficient }
            report.rowCheckedB += 1
        }
        if bases.isEmpty { return }
        let sum = MSM.run(g1: [.init(bases + rows.points, scalars + rowScalars)], g2: []).g1[0]
        guard sum.isInfinity else {
            throw .init("its A or B points are not the R1CS's combinations of the row points its own unit columns give: A_k ≠ Σ_j A[j][k]·P_j or B_k ≠ Σ_j B[j][k]·P_j for some variable k")
        }
    }

    /// δ·L_k = β·A_k + α·B_k + W_k (γ·IC_k for public k), W_k = Σ_j C[j][k]·P_j.
    static func checkL(_ pk: ProvingKey, _ rows: RowPoints, aCols: [Column], bCols: [Column], cCols: [Column], publicCount pub: Int,
                       _ report: inout Report) throws(ProvingKeyRefusal) {
        var lBases: [G1Affine] = [.infinity], lScalars: [Fr] = [.zero], icBases: [G1Affine] = [.infinity], icScalars: [Fr] = [.zero]
        var aBases: [G1Affine] = [.infinity], aScalars: [Fr] = [.zero], b2Bases: [G2Affine] = [.infinity], b2Scalars: [Fr] = [.zero]
        var wScalars = [Fr](repeating: .zero, count: rows.points.count)
        for k in 0..<aCols.count where rows.covers(aCols[k]) && rows.covers(bCols[k]) && rows.covers(cCols[k]) {
            let w = SecureRandom.weight128()
            if k <= pub { icBases.append(pk.verifyingKey.ic[k]); icScalars.append(w) } else { lBases.append(pk.l[k - pub - 1]); lScalars.append(w) }
            aBases.append(pk.a[k]); aScalars.append(w)
            b2Bases.append(pk.b2[k]); b2Scalars.append(w)
            for e in cCols[k] { wScalars[rows.index[e.row]] += w * e.coefficient }
            report.rowCheckedL += 1
        }
        if report.rowCheckedL == 0 { return }
        let r = MSM.run(g1: [.init(lBases, lScalars), .init(icBases, icScalars), .init(aBases, aScalars), .init([.infinity] + rows.points, [.zero] + wScalars)],
                        g2: [.init(b2Bases, b2Scalars)])
        let g1 = G1Jacobian.batchAffine([r.g1[0], r.g1[1], -r.g1[2], -r.g1[3]])
        let ok = Pairing.pairingProductIsOne([(g1[0], pk.delta2), (g1[1], pk.verifyingKey.gamma), (g1[2], pk.beta2),
                                              (-pk.alpha1, r.g2[0].affine), (g1[3], .generator)])
        guard ok else {
            throw .init("its L/IC points do not match the R1CS through its row points: e(L_k, δ₂) ≠ e(A_k, β₂)·e(α₁, B_k(G2))·e(Σ_j C[j][k]·P_j, G₂) (or the IC form with γ₂) for some variable k")
        }
    }

    /// e(P, G₂) = e(G₁, Q), i.e. P and Q are the same multiple of the generators.
    static func sameExponent(_ p: G1Affine, _ q: G2Affine) -> Bool {
        if p.isInfinity || q.isInfinity { return p.isInfinity && q.isInfinity }
        return Pairing.pairingProductIsOne([(p, .generator), (-G1Affine.generator, q)])
    }

    /// The variables that appear in no constraint's C (the input rows have C = 0 too).
    static func emptyCColumns(_ r1cs: R1CS) -> [Int] {
        var used = [Bool](repeating: false, count: r1cs.variableCount)
        for c in r1cs.constraints { for t in c.c where !t.coefficient.isZero { used[t.variable] = true } }
        return used.indices.filter { !used[$0] }
    }

    /// Step 3's curve and subgroup checks, in slices on all cores; the first bad point (in key
    /// order) is named.
    static func checkPoints(_ g1: [(String, [G1Affine])], _ g2: [(String, [G2Affine])],
                            progress: ((Stage, Double) -> Void)?) throws(ProvingKeyRefusal) {
        // Jobs of about equal cost: a G2 subgroup check costs as much as ~100 G1 curve checks.
        var planned: [(group: Int, g2: Bool, lo: Int, hi: Int)] = []
        for (gi, g) in g1.enumerated() { for lo in stride(from: 0, to: g.1.count, by: 8192) { planned.append((gi, false, lo, min(g.1.count, lo + 8192))) } }
        for (gi, g) in g2.enumerated() { for lo in stride(from: 0, to: g.1.count, by: 128) { planned.append((gi, true, lo, min(g.1.count, lo + 128))) } }
        let jobs = planned
        let workers = max(1, MSM.defaultParallelism)
        let rounds = stride(from: 0, to: jobs.count, by: workers * 4).map { $0..<min(jobs.count, $0 + workers * 4) }
        progress?(.points, 0)
        for (done, round) in rounds.enumerated() {
            let failures = FirstFailure()
            DispatchQueue.concurrentPerform(iterations: round.count) { j in
                let job = jobs[round.lowerBound + j]
                if job.g2 {
                    let points = g2[job.group].1
                    for i in job.lo..<job.hi {
                        if !points[i].isOnCurve { failures.record(round.lowerBound + j, "\(g2[job.group].0)[\(i)] is not on the curve"); return }
                        if !points[i].isInSubgroup { failures.record(round.lowerBound + j, "\(g2[job.group].0)[\(i)] is not in the order-r subgroup"); return }
                    }
                } else {
                    let points = g1[job.group].1
                    for i in job.lo..<job.hi where !points[i].isOnCurve {
                        failures.record(round.lowerBound + j, "\(g1[job.group].0)[\(i)] is not on the curve"); return
                    }
                }
            }
            if let reason = failures.first { throw .init(reason) }
            progress?(.points, Double(done + 1) / Double(rounds.count))
        }
    }
}

/// The failure of the lowest-numbered job, from parallel workers.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var best: (Int, String)?
    func record(_ job: Int, _ reason: String) {
        lock.lock(); defer { lock.unlock() }
        if best == nil || job < best!.0 { best = (job, reason) }
    }
    var first: String? { lock.lock(); defer { lock.unlock() }; return best?.1 }
}
