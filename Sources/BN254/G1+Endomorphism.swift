/// The GLV endomorphism of G1: φ(x, y) = (β·x, y) with β a primitive cube root of unity in Fp.
/// On G1 it acts as multiplication by λ, a primitive cube root of unity in Fr
/// (Gallant, Lambert, Vanstone, "Faster point multiplication on elliptic curves with efficient
/// endomorphisms", 2001). β and λ are computed from their definition and matched to each other.
public enum G1Endomorphism {
    public static let beta: Fp = constants.beta
    public static let lambda: Fr = constants.lambda

    static let constants: (beta: Fp, lambda: Fr) = {
        let p = GMPInteger.p, r = GMPInteger.r
        var beta = Fp.one
        var g: UInt64 = 2
        while beta.isOne { beta = Fp(g).pow((p - GMPInteger(1)).exactlyDivided(by: 3).limbs); g += 1 }
        var lambda = Fr.one
        var h: UInt64 = 2
        while lambda.isOne { lambda = Fr(h).pow((r - GMPInteger(1)).exactlyDivided(by: 3).limbs); h += 1 }
        // Two cube roots in each field: pair them so that φ(G) = [λ]G.
        let gen = G1Affine.generator
        let image = G1Jacobian(x: gen.x * beta, y: gen.y, z: .one)
        if image != G1Jacobian.generator.multiplied(by: lambda) { lambda = lambda * lambda }
        precondition(image == G1Jacobian.generator.multiplied(by: lambda), "GLV constants do not match")
        return (beta, lambda)
    }()
}

extension AffinePoint where C == G1Curve {
    /// φ(x, y) = (β·x, y); infinity stays infinity.
    @inlinable
    public func endomorphism() -> Self { isInfinity ? self : Self(x: x * G1Endomorphism.beta, y: y) }
}

extension JacobianPoint where C == G1Curve {
    /// φ(P) = (β·X, Y, Z): β·x in affine terms, since x = X/Z².
    @inlinable
    public func endomorphism() -> Self { Self(x: x * G1Endomorphism.beta, y: y, z: z) }

    /// a·P + b·φ(P) = (a + b·λ)·P for 64-bit a, b: one shared chain of 64 doublings
    /// (interleaved width-4 wNAF). The batch verifier draws its 128-bit weights in this form.
    public func multipliedGLV(_ a: UInt64, _ b: UInt64) -> Self {
        if isInfinity { return self }
        let da = wnaf([UInt(a)], width: 4), db = wnaf([UInt(b)], width: 4)
        let twice = doubled()
        var table = [self]  // P, 3P, 5P, 7P
        for i in 1..<4 { table.append(table[i - 1] + twice) }
        let phiTable = table.map { $0.endomorphism() }
        var acc = Self.infinity
        for i in stride(from: max(da.count, db.count) - 1, through: 0, by: -1) {
            acc = acc.doubled()
            if i < da.count, da[i] != 0 { acc = da[i] > 0 ? acc + table[Int(da[i]) >> 1] : acc - table[Int(-da[i]) >> 1] }
            if i < db.count, db[i] != 0 { acc = db[i] > 0 ? acc + phiTable[Int(db[i]) >> 1] : acc - phiTable[Int(-db[i]) >> 1] }
        }
        return acc
    }
}

extension JacobianPoint where C == G1Curve {
    /// Σ (aᵢ + bᵢλ)·Pᵢ for 64-bit aᵢ, bᵢ (Straus): every term shares one chain of 64 doublings.
    /// Each point's table P, 3P, 5P, 7P is made affine with one inversion for all of them, its
    /// φ-images are free in affine form (β·x), and the additions are mixed. The batch verifier's
    /// Σρᵢ·Cᵢ: per proof it saves the 64 doublings a separate `multipliedGLV` spends.
    public static func linearCombinationGLV(_ points: [G1Affine], _ weights: [(a: UInt64, b: UInt64)]) -> Self {
        precondition(points.count == weights.count, "\(points.count) points and \(weights.count) weights")
        let live = points.indices.filter { !points[$0].isInfinity && (weights[$0].a | weights[$0].b) != 0 }
        if live.isEmpty { return .infinity }
        var jacobianTables: [Self] = []
        jacobianTables.reserveCapacity(4 * live.count)
        for i in live {
            let p = points[i]
            let twice = Self(p).doubled()
            var t = Self(p)
            jacobianTables.append(t)
            for _ in 1..<4 { t = t + twice; jacobianTables.append(t) }
        }
        let tables = batchAffine(jacobianTables)
        let phiTables = tables.map { $0.endomorphism() }
        let digitsA = live.map { wnaf([UInt(weights[$0].a)], width: 4) }
        let digitsB = live.map { wnaf([UInt(weights[$0].b)], width: 4) }
        let length = (digitsA + digitsB).map(\.count).max() ?? 0
        var acc = Self.infinity
        @inline(__always) func add(_ entry: G1Affine, _ digit: Int8) {
            acc = acc.adding(digit > 0 ? entry : -entry)
        }
        for bit in stride(from: length - 1, through: 0, by: -1) {
            acc = acc.doubled()
            for k in live.indices {
                if bit < digitsA[k].count, digitsA[k][bit] != 0 {
                    add(tables[4 * k + Int(digitsA[k][bit].magnitude) >> 1], digitsA[k][bit])
                }
                if bit < digitsB[k].count, digitsB[k][bit] != 0 {
                    add(phiTables[4 * k + Int(digitsB[k][bit].magnitude) >> 1], digitsB[k][bit])
                }
            }
        }
        return acc
    }
}
