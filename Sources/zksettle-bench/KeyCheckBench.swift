import BN254
import ArgumentParser
import Circuits
import Foundation
import Groth16
import Groth16Prover

/// `zksettle-bench pkcheck`: what a wallet pays once per proving key: `ProvingKeyCheck` of a
/// development key for the transfer circuit against its verifying key (points, G2 subgroup,
/// the batched pairing relations), after a setup that is not timed.
struct KeyCheckBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pkcheck", abstract: "Check a transfer-circuit proving key as a wallet does before first use; ms per check.")

    @Option(help: "Checks to time (median reported).")
    var iterations = 1

    func run() throws {
        let r1cs = TransferCircuit.r1cs
        let (pk, vk) = try DevelopmentSetup.generate(r1cs: r1cs, circuitID: TransferCircuit.circuitID)
        var times: [Double] = [], pointsMs: [Double] = []
        var last: ProvingKeyCheck.Report?
        for _ in 0..<max(1, iterations) {
            let start = Timer.now()
            var pointsDone = start
            last = try ProvingKeyCheck.check(pk, r1cs: r1cs, circuitID: TransferCircuit.circuitID, verifyingKey: vk) { stage, f in
                if stage == .points && f == 1 { pointsDone = Timer.now() }
            }
            times.append(Double(Timer.now() - start) / 1e6)
            pointsMs.append(Double(pointsDone - start) / 1e6)
        }
        times.sort(); pointsMs.sort()
        emit([
            "benchmark": "pkcheck",
            "circuit": "transfer (2-in/2-out, depth 20)",
            "variables": r1cs.variableCount,
            "points": last?.points ?? 0,
            "g2_subgroup_checks": last?.subgroupChecks ?? 0,
            "linked_variables": last?.linkedVariables ?? 0,
            "recovered_rows": last?.recoveredRows ?? 0,
            "rows": last?.rowCount ?? 0,
            "row_checked_a": last?.rowCheckedA ?? 0,
            "row_checked_b": last?.rowCheckedB ?? 0,
            "row_checked_l": last?.rowCheckedL ?? 0,
            "iterations": times.count,
            "ms_per_check": round4(times[times.count / 2]),
            "ms_points": round4(pointsMs[pointsMs.count / 2]),
            "threads": coreCount,
        ])
    }
}
