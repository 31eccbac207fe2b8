import ArgumentParser
import BN254
import Foundation
import Groth16
import Groth16Prover
import R1CS

/// `zksettle-bench msm`: Pippenger MSM in G1 and G2 and the NTT at one size, random inputs.
struct MSMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "msm", abstract: "MSM (G1, G2) of 2^k random points and scalars, and NTTs of 2^k; ms per call.")

    @Option(help: "log2 of the number of points.")
    var logSize = 14

    @Option(help: "Samples (the median is reported).")
    var samples = 5

    @Option(help: "Also time every window size in this range, e.g. 8-13 (G1 and G2).")
    var sweep: String?

    func run() throws {
        let n = 1 << logSize
        // Points Q + i·G (cheap to make); scalars pseudo-random and full-size.
        func points<C: CurveParameters>(_ g: JacobianPoint<C>) -> [AffinePoint<C>] {
            var p = g.multiplied(by: Fr(12345).pow([77]))
            var out: [JacobianPoint<C>] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(p); p = p + g }
            return JacobianPoint<C>.batchAffine(out)
        }
        let g1 = points(G1Jacobian.generator), g2 = points(G2Jacobian.generator)
        let scalars = (0..<n).map { i in Fr(UInt64(i) &* 0x9E37_79B9_7F4A_7C15 | 1).pow([5]) }
        var out: [String: Any] = [
            "benchmark": "msm", "points": n, "threads": MSM.defaultParallelism,
            "window_bits": MSM.windowBits(for: n),
        ]
        out["ms_g1"] = round4(Timer.median(samples: samples) { blackHole(MSM.g1(g1, scalars)) })
        out["ms_g1_one_thread"] = round4(Timer.median(samples: samples) { blackHole(MSM.g1(g1, scalars, parallelism: 1)) })
        out["ms_g2"] = round4(Timer.median(samples: samples) { blackHole(MSM.g2(g2, scalars)) })
        let domain = EvaluationDomain(size: n)
        var v = scalars
        out["ms_ntt"] = round4(Timer.median(samples: samples) { domain.ntt(&v) })
        out["ms_coset_intt"] = round4(Timer.median(samples: samples) { domain.cosetInverseNTT(&v) })
        if let sweep {
            let parts = sweep.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 1, parts[1] <= 15, parts[0] <= parts[1] else {
                throw ValidationError("--sweep wants a range like 8-13 within 1…15")
            }
            var table1: [String: Double] = [:], table2: [String: Double] = [:]
            for c in parts[0]...parts[1] {
                table1["c\(c)"] = round4(Timer.median(samples: samples) { blackHole(MSM.g1(g1, scalars, windowBits: c)) })
                table2["c\(c)"] = round4(Timer.median(samples: samples) { blackHole(MSM.g2(g2, scalars, windowBits: c)) })
            }
            out["ms_g1_by_window"] = table1
            out["ms_g2_by_window"] = table2
        }
        emit(out)
    }
}

/// `zksettle-bench prove-synthetic`: setup and proving time for a random satisfiable R1CS of
/// 2^k constraints (full-size witness values: the MSMs' worst case), with the time per stage.
struct SyntheticProveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove-synthetic", abstract: "Prove a random R1CS of 2^k constraints; ms per proof and per stage.")

    @Option(help: "log2 of the number of constraints.")
    var logConstraints = 14

    @Option(help: "Exact number of constraints (overrides --log-constraints); 2^k − publicInputs − 1 fills a domain of 2^k exactly.")
    var constraints: Int?

    @Option(help: "Public inputs.")
    var publicInputs = 7

    @Option(help: "Proofs to time (median reported).")
    var iterations = 5

    func run() throws {
        let count = constraints ?? (1 << logConstraints)
        guard count >= 1 else { throw ValidationError("--constraints must be positive") }
        let (r1cs, z) = SyntheticCircuit.make(constraints: count, publicInputs: publicInputs, seed: 1)
        let t0 = Timer.now()
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: "synthetic-\(count)")
        let setupMs = Double(Timer.now() - t0) / 1e6
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-bench-\(getpid()).zkspk")
        defer { try? FileManager.default.removeItem(at: url) }
        try pk.write(to: url)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let loadMs = Timer.median(samples: 3) { blackHole(try! ProvingKey.load(from: url)) }
        let pvk = PreparedVerifyingKey(vk)
        var times: [Double] = [], cpuTimes: [Double] = []
        var stageTimes: [String: [Double]] = [:]
        for _ in 0..<max(1, iterations) {
            var marks: [(String, UInt64)] = []
            let cpuStart = processCPUMilliseconds()
            let start = Timer.now()
            let proof = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z) { stage, fraction in
                if fraction == 0 { marks.append((stage.rawValue, Timer.now())) }
            }
            let end = Timer.now()
            times.append(Double(end - start) / 1e6)
            cpuTimes.append(processCPUMilliseconds() - cpuStart)
            marks.append(("end", end))
            for i in 0..<(marks.count - 1) {
                stageTimes[marks[i].0, default: []].append(Double(marks[i + 1].1 - marks[i].1) / 1e6)
            }
            guard try Groth16.verify(pvk, proof: proof, publicInputs: Array(z[1...publicInputs])) else {
                throw ValidationError("internal error: a proof did not verify")
            }
        }
        times.sort(); cpuTimes.sort()
        emit([
            "benchmark": "prove-synthetic",
            "constraints": r1cs.constraints.count, "variables": r1cs.variableCount, "domain": pk.domainSize,
            "iterations": times.count,
            "ms_per_proof": round4(times[times.count / 2]),
            "ms_per_proof_min": round4(times[0]),
            "cpu_ms_per_proof": round4(cpuTimes[cpuTimes.count / 2]),
            "ms_per_stage": stageTimes.mapValues { round4($0.sorted()[$0.count / 2]) },
            "ms_setup": round4(setupMs),
            "ms_key_load": round4(loadMs), "key_bytes": size,
            "threads": MSM.defaultParallelism,
        ])
    }
}

/// User + system CPU time of the whole process so far (all threads), in milliseconds: with
/// wall time it shows how much of the work ran in parallel, and it is robust to other load.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
    return ms(usage.ru_utime) + ms(usage.ru_stime)
}
