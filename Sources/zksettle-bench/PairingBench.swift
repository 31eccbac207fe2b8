import ArgumentParser
import BN254

/// `zksettle-bench pairing`: one pairing, its parts, and a 4-pair product.
struct PairingBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pairing", abstract: "Optimal ate pairing: ms per pairing and per part.")

    @Option(help: "Samples (the median is reported).") var iterations = 200

    func run() {
        let p = G1Jacobian.generator.multiplied(by: Fr(123_456_789)).affine
        let q = G2Jacobian.generator.multiplied(by: Fr(987_654_321)).affine
        let prepared = G2Prepared(q)
        let pairs4 = (1...4).map { i in
            (G1Jacobian.generator.multiplied(by: Fr(UInt64(i) * 1001)).affine, G2Jacobian.generator.multiplied(by: Fr(UInt64(i) * 7)).affine)
        }
        let ml = Pairing.multiMillerLoop([(p, prepared)])
        let pairing = Timer.median(samples: iterations) { blackHole(Pairing.pairing(p, q)) }
        let miller = Timer.median(samples: iterations) { blackHole(Pairing.multiMillerLoop([(p, prepared)])) }
        let prepare = Timer.median(samples: iterations) { blackHole(G2Prepared(q)) }
        let finalExp = Timer.median(samples: iterations) { blackHole(Pairing.finalExponentiation(ml)) }
        let product4 = Timer.median(samples: iterations) { blackHole(Pairing.pairingProductIsOne(pairs4)) }
        emit([
            "benchmark": "pairing",
            "ms_per_op": round4(pairing),
            "ms_miller_loop_prepared": round4(miller),
            "ms_prepare_g2_lines": round4(prepare),
            "ms_final_exponentiation": round4(finalExp),
            "ms_pairing_product_4": round4(product4),
            "iterations": iterations,
        ])
    }
}
