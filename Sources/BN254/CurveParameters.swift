/// A short Weierstrass curve y² = x³ + b over a coordinate field (a = 0).
public protocol CurveParameters: Sendable {
    associatedtype Field: CurveField
    /// The constant b of the curve equation.
    static var b: Field { get }
    /// The generator of the order-r subgroup, affine.
    static var generator: (x: Field, y: Field) { get }
    /// Short name ("G1", "G2") for messages.
    static var name: String { get }
}

/// G1: y² = x³ + 3 over Fp, cofactor 1, generator (1, 2).
public enum G1Curve: CurveParameters {
    public typealias Field = Fp
    @inlinable public static var b: Fp { Fp(3) }
    public static var generator: (x: Fp, y: Fp) { (Fp(1), Fp(2)) }
    public static var name: String { "G1" }
}

/// G2: the D-type sextic twist y² = x³ + 3/ξ over Fp2, ξ = 9 + u; its order-r subgroup.
public enum G2Curve: CurveParameters {
    public typealias Field = Fp2
    static let twistB: Fp2 = Fp2(Fp(3), .zero) * Fp2(Fp(9), Fp(1)).inverse()
    public static var b: Fp2 { twistB }
    static let gen: (x: Fp2, y: Fp2) = (
        Fp2(try! Fp(decimal: "10857046999023057135944570762232829481370756359578518086990519993285655852781"),
            try! Fp(decimal: "11559732032986387107991004021392285783925812861821192530917403151452391805634")),
        Fp2(try! Fp(decimal: "8495653923123431417604973247489272438418190587263600148770280649306958101930"),
            try! Fp(decimal: "4082367875863433681332203403145435568316851327593401208105741076214120093531")))
    public static var generator: (x: Fp2, y: Fp2) { gen }
    public static var name: String { "G2" }
}
