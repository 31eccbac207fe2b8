/// The optimal ate pairing on BN254: e(P, Q) = f_{6x+2,Q}(P) · ℓ_{[6x+2]Q,π(Q)}(P) ·
/// ℓ_{[6x+2]Q+π(Q),−π²(Q)}(P), raised to (p¹² − 1)/r.
///
/// Lines: G2 points stay on the twist E': y² = x³ + b' in homogeneous projective coordinates
/// (Costello, Lange, Naehrig, "Faster pairing computations on curves with high-degree twists").
/// Untwisting (x', y') ↦ (x'w², y'w³), a line through T with slope λ evaluated at P = (xP, yP) is
/// yP − λxP·w + (λxT − yT)·vw: sparse, with Fp2 coefficients at 1, w and vw. After clearing
/// denominators (elements of Fp2, which the final exponentiation kills) every line is
/// r0·yP + r1·xP·w + r2·vw with (r0, r1, r2) depending on Q only: precomputable for fixed Q.
public enum Pairing {
    /// The signed binary digits of 6x + 2, least significant first (NAF).
    static let loopNAF: [Int8] = {
        let x = UInt64(bnParameterX)
        let (lo, o1) = x.multipliedReportingOverflow(by: 6)
        var hi: UInt64 = x.multipliedFullWidth(by: 6).high
        _ = o1
        let (lo2, c) = lo.addingReportingOverflow(2)
        if c { hi += 1 }
        return wnaf([UInt(lo2), UInt(hi)], width: 2)
    }()
}

/// One line's coefficients (see `Pairing`).
@frozen
public struct LineCoefficients: Sendable {
    public var r0: Fp2
    public var r1: Fp2
    public var r2: Fp2
}

/// A G2 point with its Miller-loop lines computed once (for γ, δ, β of a verifying key).
public struct G2Prepared: Sendable {
    public let point: G2Affine
    public let lines: [LineCoefficients]

    public var isInfinity: Bool { point.isInfinity }

    public init(_ q: G2Affine) {
        point = q
        if q.isInfinity { lines = []; return }
        var lines: [LineCoefficients] = []
        lines.reserveCapacity(Pairing.loopNAF.count + 24)
        let threeB = G2Curve.b.doubled() + G2Curve.b
        var tx = q.x, ty = q.y, tz = Fp2.one
        let negQ = -q

        func doubleStep() {
            let a = (tx * ty).halved()
            let b = ty.squared()
            let c = tz.squared()
            let e = threeB * c
            let f = e.doubled() + e
            let g = (b + f).halved()
            let h = (ty + tz).squared() - (b + c)
            let j = tx.squared()
            let ee = e.squared()
            tx = a * (b - f)
            ty = g.squared() - (ee.doubled() + ee)
            tz = b * h
            lines.append(LineCoefficients(r0: -h, r1: j.doubled() + j, r2: e - b))
        }
        func addStep(_ p: G2Affine) {
            let o = ty - p.y * tz
            let l = tx - p.x * tz
            let c = o.squared()
            let d = l.squared()
            let e = l * d
            let f = tz * c
            let g = tx * d
            let h = e + f - g.doubled()
            tx = l * h
            ty = o * (g - h) - ty * e
            tz = e * tz
            lines.append(LineCoefficients(r0: l, r1: -o, r2: o * p.x - l * p.y))
        }

        let naf = Pairing.loopNAF
        for i in stride(from: naf.count - 2, through: 0, by: -1) {
            doubleStep()
            if naf[i] == 1 { addStep(q) } else if naf[i] == -1 { addStep(negQ) }
        }
        addStep(q.psi())
        addStep(-q.psi2())
        self.lines = lines
    }
}

/// The value of a (multi-)Miller loop, before the final exponentiation.
@frozen
public struct MillerLoopResult: Sendable, Equatable {
    public var value: Fp12
    public init(_ value: Fp12) { self.value = value }
    public static func * (a: Self, b: Self) -> Self { Self(a.value * b.value) }
}

/// An element of the target group GT ⊂ Fp12 (a finished pairing value).
@frozen
public struct GT: Sendable, Equatable {
    public var value: Fp12
    public init(_ value: Fp12) { self.value = value }
    public var isOne: Bool { value.isOne }
    public static func * (a: GT, b: GT) -> GT { GT(a.value * b.value) }
    /// a^k for a scalar k (cyclotomic squarings).
    public func pow(_ k: Fr) -> GT {
        let e = k.canonical
        var result = Fp12.one
        var started = false
        for i in stride(from: 255, through: 0, by: -1) {
            if started { result = result.cyclotomicSquared() }
            if e.bit(i) { result = started ? result * value : value; started = true }
        }
        return GT(result)
    }
}

extension Pairing {
    /// ∏ f_Q(P) over all pairs sharing one squaring chain. Pairs with P or Q at infinity
    /// contribute 1 and are skipped.
    public static func multiMillerLoop(_ pairs: [(G1Affine, G2Prepared)]) -> MillerLoopResult {
        let active = pairs.filter { !$0.0.isInfinity && !$0.1.isInfinity }
        if active.isEmpty { return MillerLoopResult(.one) }
        let xs = active.map { $0.0.x }
        let ys = active.map { $0.0.y }
        let lineSets = active.map { $0.1.lines }
        var f = Fp12.one
        var idx = 0
        let naf = loopNAF
        // The lines of one step (one per pair, two per pair where the step also adds) are
        // multiplied into f two at a time (`mulByLines`, 23 Fp2 products for two lines instead
        // of 26); an odd one out goes alone.
        var pending: (Fp2, Fp2, Fp2)? = nil
        @inline(__always) func take(_ l: (Fp2, Fp2, Fp2)) {
            if let p = pending {
                f = f.mulByLines(p.0, p.1, p.2, l.0, l.1, l.2)
                pending = nil
            } else {
                pending = l
            }
        }
        @inline(__always) func collectLines() {
            for k in 0..<lineSets.count {
                let l = lineSets[k][idx]
                take((l.r0.scaled(by: ys[k]), l.r1.scaled(by: xs[k]), l.r2))
            }
            idx += 1
        }
        @inline(__always) func flush() {
            if let p = pending { f = f.mulByLine(p.0, p.1, p.2); pending = nil }
        }
        for i in stride(from: naf.count - 2, through: 0, by: -1) {
            if i != naf.count - 2 { f = f.squared() }
            collectLines()
            if naf[i] != 0 { collectLines() }
            flush()
        }
        collectLines()
        collectLines()
        flush()
        return MillerLoopResult(f)
    }

    /// f ↦ f^((p¹² − 1)/r). Easy part (p⁶ − 1)(p² + 1) by conjugation, inversion and Frobenius;
    /// hard part (p⁴ − p² + 1)/r by the addition chain of Scott, Benger, Charlemagne, Dominguez
    /// Perez, Kachisa ("On the final exponentiation for calculating pairings on ordinary elliptic
    /// curves", 2009) with three exponentiations by x.
    public static func finalExponentiation(_ m: MillerLoopResult) -> GT {
        let f = m.value
        var t = f.conjugate() * f.inverse()
        t = t.frobenius(2) * t
        let x = bnParameterX
        let fx = t.cyclotomicPowNAF(x)
        let fx2 = fx.cyclotomicPowNAF(x)
        let fx3 = fx2.cyclotomicPowNAF(x)
        let y0 = t.frobenius(1) * t.frobenius(2) * t.frobenius(3)
        let y1 = t.conjugate()
        let y2 = fx2.frobenius(2)
        let y3 = fx.frobenius(1).conjugate()
        let y4 = (fx * fx2.frobenius(1)).conjugate()
        let y5 = fx2.conjugate()
        let y6 = (fx3 * fx3.frobenius(1)).conjugate()
        var t0 = y6.cyclotomicSquared() * y4 * y5
        var t1 = y3 * y5 * t0
        t0 = t0 * y2
        t1 = (t1.cyclotomicSquared() * t0).cyclotomicSquared()
        t0 = t1 * y1
        t1 = t1 * y0
        t0 = t0.cyclotomicSquared()
        return GT(t1 * t0)
    }

    /// e(P, Q).
    public static func pairing(_ p: G1Affine, _ q: G2Affine) -> GT {
        finalExponentiation(multiMillerLoop([(p, G2Prepared(q))]))
    }

    /// Is ∏ e(Pᵢ, Qᵢ) = 1? One shared Miller loop, one final exponentiation.
    public static func pairingProductIsOne(_ pairs: [(G1Affine, G2Affine)]) -> Bool {
        finalExponentiation(multiMillerLoop(pairs.map { ($0.0, G2Prepared($0.1)) })).isOne
    }

    public static func pairingProductIsOne(prepared pairs: [(G1Affine, G2Prepared)]) -> Bool {
        finalExponentiation(multiMillerLoop(pairs)).isOne
    }
}
