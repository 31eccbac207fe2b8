import ArgumentParser
import BN254
import Circuits
import Foundation
import TerminalUI
import R1CS

struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit", abstract: "Work with the transfer circuit (iden3 file formats).",
        subcommands: [CircuitExport.self])
}

/// `zksettle-admin circuit export`: the transfer circuit as iden3 `.r1cs` (version 1) and the
/// witness of a random honest transfer as `.wtns` (version 2), with its public inputs as
/// snarkjs `public.json`, so other Groth16 tools (snarkjs, arkworks, groth16py) can set up,
/// prove and verify the same statement.
struct CircuitExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the transfer circuit's R1CS and a random honest transfer's witness and public inputs.",
        discussion: """
            The R1CS is the one the server's keys are made for (its SHA-256 circuit id is printed).
            The witness is a fresh random transfer (two notes in a small tree); public.json holds
            its 7 public inputs in circuit order, as decimal strings.
            """)

    @Option(name: .long, help: ArgumentHelp("Where to write the iden3 .r1cs file", valueName: "file"))
    var r1cs: String
    @Option(name: .long, help: ArgumentHelp("Where to write the .wtns witness of a random honest transfer", valueName: "file"))
    var witness: String?
    @Option(name: .customLong("public"), help: ArgumentHelp("Where to write that witness's public.json", valueName: "file"))
    var publicInputs: String?
    @Flag(name: .long, help: "Print one JSON object describing what was written.")
    var json = false

    func validate() throws {
        if (witness == nil) != (publicInputs == nil) {
            throw ValidationError("--witness and --public go together (the public inputs are the witness's)")
        }
    }

    func run() throws {
        let system = TransferCircuit.r1cs
        try writeOutputFile(R1CSFile.encode(system), to: r1cs, what: "R1CS")
        var report: [String: Any] = [
            "r1cs": r1cs, "constraints": system.constraints.count, "wires": system.variableCount,
            "public_inputs": system.publicCount, "circuit_id": TransferCircuit.circuitID,
        ]
        if let witness, let publicInputs {
            var rng = SystemRandomNumberGenerator()
            let w = TransferExample.random(using: &rng)
            let z: [Fr]
            do { z = try TransferCircuit.assignment(w) } catch {
                throw AdminError("internal error: the random transfer does not satisfy the circuit: \(error)")
            }
            try writeOutputFile(WitnessFile.encode(z), to: witness, what: "witness")
            let publicJSON = try JSONSerialization.data(withJSONObject: w.publicInputs.map(\.decimalString), options: [.prettyPrinted])
            try writeOutputFile(Array(publicJSON), to: publicInputs, what: "public inputs")
            report["witness"] = witness
            report["public"] = publicInputs
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("R1CS: \(r1cs) (\(system.constraints.count) constraints, \(system.variableCount) wires, \(system.publicCount) public inputs)")
            if let witness, let publicInputs { print("witness: \(witness)\npublic inputs: \(publicInputs)") }
            print("circuit id: \(TransferCircuit.circuitID)")
        }
    }
}

/// A runtime failure of an admin command: printed as `error: <message>`, with its exit code
/// (`ExitStatus`: 1 unless it says otherwise).
struct AdminError: ExitStatusError {
    let description: String
    let exitStatus: ExitStatus
    init(_ message: String, status: ExitStatus = .failure) { description = message; exitStatus = status }
    /// What was named does not exist (exit 3).
    static func notFound(_ message: String) -> AdminError { AdminError(message, status: .notFound) }
    /// A value or file given on the command line that cannot be used (exit 64).
    static func usage(_ message: String) -> AdminError { AdminError(message, status: .usage) }
}
