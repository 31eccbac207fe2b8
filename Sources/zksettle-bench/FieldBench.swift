import ArgumentParser
import BN254

/// `zksettle-bench field`: the cost of each arithmetic operation (ms per operation).
struct FieldBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "field", abstract: "Field, tower and curve operations: ms per operation.")

    @Option(help: "Operations per sample for cheap operations.") var iterations = 200_000
    @Option(help: "Samples (the median is reported).") var samples = 7

    func run() {
        let n = iterations
        var ms: [String: Double] = [:]
        let a = Fp.sample(1), b = Fp.sample(2)
        func chain(_ name: String, _ count: Int, _ body: () -> Void) {
            ms[name] = round6(Timer.median(samples: samples) { body() } / Double(count))
        }
        chain("fp_mul", n) { var x = a; for _ in 0..<n { x = x * b }; blackHole(x) }
        chain("fp_square", n) { var x = a; for _ in 0..<n { x = x.squared() }; blackHole(x) }
        chain("fp_add", n) { var x = a; for _ in 0..<n { x = x + b }; blackHole(x) }
        chain("fp_inverse", n / 100) { var x = a; for _ in 0..<(n / 100) { x = x.inverse() + b }; blackHole(x) }
        let ra = Fr(unchecked: a.canonical), rb = Fr(unchecked: b.canonical)
        chain("fr_mul", n) { var x = ra; for _ in 0..<n { x = x * rb }; blackHole(x) }
        let a2 = Fp2(a, b), b2 = Fp2(b, a)
        chain("fp2_mul", n / 4) { var x = a2; for _ in 0..<(n / 4) { x = x * b2 }; blackHole(x) }
        chain("fp2_square", n / 4) { var x = a2; for _ in 0..<(n / 4) { x = x.squared() }; blackHole(x) }
        let f = Fp12(Fp6(a2, b2, a2), Fp6(b2, a2, b2)), g = Fp12(Fp6(b2, a2, b2), Fp6(a2, a2, b2))
        chain("fp12_mul", n / 100) { var x = f; for _ in 0..<(n / 100) { x = x * g }; blackHole(x) }
        chain("fp12_square", n / 100) { var x = f; for _ in 0..<(n / 100) { x = x.squared() }; blackHole(x) }
        var cyc = f.conjugate() * f.inverse()
        cyc = cyc.frobenius(2) * cyc
        let c0 = cyc
        chain("fp12_cyclotomic_square", n / 100) { var x = c0; for _ in 0..<(n / 100) { x = x.cyclotomicSquared() }; blackHole(x) }
        let p1 = G1Jacobian.generator.multiplied(by: Fr(12345)), q1 = G1Jacobian.generator.multiplied(by: Fr(777))
        chain("g1_add", n / 20) { var x = p1; for _ in 0..<(n / 20) { x = x + q1 }; blackHole(x) }
        chain("g1_double", n / 20) { var x = p1; for _ in 0..<(n / 20) { x = x.doubled() }; blackHole(x) }
        let k = Fr(unchecked: Fp.sample(9).canonical)
        chain("g1_scalar_mul", 50) { var x = p1; for _ in 0..<50 { x = x.multiplied(by: k) }; blackHole(x) }
        let p2 = G2Jacobian.generator.multiplied(by: Fr(4242))
        chain("g2_double", n / 50) { var x = p2; for _ in 0..<(n / 50) { x = x.doubled() }; blackHole(x) }
        chain("g2_scalar_mul", 20) { var x = p2; for _ in 0..<20 { x = x.multiplied(by: k) }; blackHole(x) }
        let q2 = p2.affine
        chain("g2_subgroup_check", 20) { var ok = true; for _ in 0..<20 { ok = ok && q2.isInSubgroup }; blackHole(ok) }
        emit(["benchmark": "field", "ms_per_op": ms, "iterations": n, "samples": samples,
              "limbs": 4, "backend": "GMP mpn (Montgomery, 4x64-bit limbs)"])
    }
}
