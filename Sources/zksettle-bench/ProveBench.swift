import ArgumentParser
import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover

/// `zksettle-bench prove`: time to prove one honest random transfer (witness generation
/// included, as in the arkworks anchor), after a development setup.
struct ProveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove", abstract: "Prove transfers of the 2-in/2-out circuit; ms per proof (witness included).")

    @Option(help: "Proofs to time (median reported).")
    var iterations = 5

    @Option(help: "Write the last proof as proof.json, public.json and verification_key.json into this directory.")
    var save: String?

    func run() throws {
        let r1cs = TransferCircuit.r1cs
        let t0 = Timer.now()
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: TransferCircuit.circuitID)
        let setupMs = Double(Timer.now() - t0) / 1e6
        let pvk = PreparedVerifyingKey(vk)
        var rng = SystemRandomNumberGenerator()
        var times: [Double] = [], witnessTimes: [Double] = []
        var last: (Proof, [Fr])?
        for _ in 0..<max(1, iterations) {
            let w = TransferExample.random(using: &rng)
            let start = Timer.now()
            let z = try TransferCircuit.assignment(w)
            let mid = Timer.now()
            let proof = try Prover.prove(provingKey: pk, r1cs: r1cs, assignment: z)
            times.append(Double(Timer.now() - start) / 1e6)
            witnessTimes.append(Double(mid - start) / 1e6)
            guard try Groth16.verify(pvk, proof: proof, publicInputs: w.publicInputs) else {
                throw ValidationError("internal error: a proof did not verify")
            }
            last = (proof, w.publicInputs)
        }
        if let dir = save, let (proof, inputs) = last {
            let url = URL(fileURLWithPath: dir, isDirectory: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try SnarkJS.encode(proof).write(to: url.appendingPathComponent("proof.json"))
            try SnarkJS.encode(publicInputs: inputs).write(to: url.appendingPathComponent("public.json"))
            try SnarkJS.encode(vk).write(to: url.appendingPathComponent("verification_key.json"))
        }
        times.sort(); witnessTimes.sort()
        emit([
            "benchmark": "prove",
            "circuit": "transfer (2-in/2-out, depth 20)",
            "constraints": r1cs.constraints.count,
            "variables": r1cs.variableCount,
            "iterations": times.count,
            "ms_per_proof": round4(times[times.count / 2]),
            "ms_witness": round4(witnessTimes[witnessTimes.count / 2]),
            "ms_setup": round4(setupMs),
            "threads": coreCount,
        ])
    }
}
