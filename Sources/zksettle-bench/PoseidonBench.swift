import ArgumentParser
import BN254

/// `zksettle-bench poseidon`: native Poseidon (circomlib parameters) hashes per second, for the
/// arities the protocol uses: 2 (Merkle nodes), 3 (note commitments, nullifiers) and 1…6 overall.
struct PoseidonBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poseidon", abstract: "Native Poseidon hashes per second, arity 1 to 6, one core.")

    @Option(help: "Hashes per sample.") var iterations = 20_000
    @Option(help: "Samples (the median is reported).") var samples = 7

    func run() {
        var perSecond: [String: Double] = [:]
        var msPerHash: [String: Double] = [:]
        for arity in 1...6 {
            let inputs = (0..<arity).map { Fr(unchecked: Fp.sample(UInt64(10 + $0)).canonical) }
            let n = iterations
            // Each hash feeds the next so the chain cannot be hoisted or skipped.
            let ms = Timer.median(samples: samples) {
                var x = inputs
                for _ in 0..<n { x[0] = Poseidon.hash(x) }
                blackHole(x[0])
            } / Double(n)
            msPerHash["arity_\(arity)"] = round6(ms)
            perSecond["arity_\(arity)"] = (1000 / ms).rounded()
        }
        emit(["benchmark": "poseidon", "hashes_per_second": perSecond, "ms_per_hash": msPerHash,
              "iterations": iterations, "samples": samples, "threads": 1,
              "parameters": "circomlib (x^5, 8 full rounds, 56-63 partial rounds for t = 2...7)"])
    }
}
