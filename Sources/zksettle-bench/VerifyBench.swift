import ArgumentParser
import BN254
import Foundation
import Groth16

/// `zksettle-bench verify`: Groth16 verification of a snarkjs proof, single or batched.
struct VerifyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Groth16 verification: ms per proof, proofs per second.",
        discussion: """
            Each timed call decodes proof.json and public.json from bytes (canonical, on-curve
            and subgroup checks), as the arkworks anchor does, then verifies. With --batch N the
            same proof is verified N times in one randomized batch (independent weights).
            """)

    @Option(help: ArgumentHelp("verification_key.json", valueName: "file")) var vk: String
    @Option(help: ArgumentHelp("proof.json", valueName: "file")) var proof: String
    @Option(name: .customLong("public"), help: ArgumentHelp("public.json", valueName: "file")) var publicInputs: String
    @Option(help: "Proofs per batch (1 = single verification).") var batch = 1
    @Option(help: "Timed samples (the median is reported).") var iterations = 50

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
    }

    func run() throws {
        let key = try SnarkJS.verifyingKey(from: Data(contentsOf: URL(fileURLWithPath: vk)))
        let proofData = try Data(contentsOf: URL(fileURLWithPath: proof))
        let publicData = try Data(contentsOf: URL(fileURLWithPath: publicInputs))
        let t0 = Timer.now()
        let pvk = PreparedVerifyingKey(key)
        let prepareMs = Double(Timer.now() - t0) / 1e6
        // Warm up and make sure the proof is valid: timing a rejection would be meaningless.
        guard try Groth16.verify(pvk, proof: SnarkJS.proof(from: proofData), publicInputs: SnarkJS.publicInputs(from: publicData)) else {
            throw ValidationError("the proof does not verify; benchmark a valid proof")
        }
        var ok = true
        let ms: Double
        if batch == 1 {
            ms = Timer.median(samples: iterations) {
                let p = try! SnarkJS.proof(from: proofData)
                let x = try! SnarkJS.publicInputs(from: publicData)
                ok = ok && (try! Groth16.verify(pvk, proof: p, publicInputs: x))
            }
        } else {
            // Decoding (with its subgroup checks) runs on all cores, as request intake does.
            let n = batch
            ms = Timer.median(samples: iterations) {
                let decoded = Decoded(n)
                DispatchQueue.concurrentPerform(iterations: n) { i in
                    decoded.set(i, (try! SnarkJS.proof(from: proofData), try! SnarkJS.publicInputs(from: publicData)))
                }
                ok = ok && Groth16.batchVerify(pvk, decoded.items).allValid
            }
        }
        precondition(ok, "a valid proof was rejected during the benchmark")
        let perProof = ms / Double(batch)
        emit([
            "benchmark": "verify",
            "batch": batch,
            "public_inputs": key.publicInputCount,
            "iterations": iterations,
            "ms_per_batch": round4(ms),
            "ms_per_proof": round4(perProof),
            "proofs_per_second": (1000 / perProof).rounded(),
            "ms_prepare_key": round4(prepareMs),
            "cores": coreCount,
        ])
    }
}

/// Decoded proofs written by concurrent decoders, one slot each.
final class Decoded: @unchecked Sendable {
    private var slots: [(Proof, [Fr])?]
    private let lock = NSLock()
    init(_ n: Int) { slots = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ v: (Proof, [Fr])) { lock.lock(); slots[i] = v; lock.unlock() }
    var items: [(proof: Proof, publicInputs: [Fr])] { slots.map { (proof: $0!.0, publicInputs: $0!.1) } }
}
