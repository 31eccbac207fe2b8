import ArgumentParser
import BN254
import Ceremony
import Foundation
import Groth16
import Groth16Prover
import Primitives
import R1CS
import TerminalUI

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Groth16 keys from other tools (snarkjs .zkey).",
        subcommands: [ImportZKey.self])
}

/// Reads a file named on the command line, or fails with what to check (exit 64).
func readInputFile(_ path: String, what: String) throws -> [UInt8] {
    do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw AdminError.usage("cannot read the \(what) \(path): \((error as NSError).localizedDescription) (check the path and permissions)")
    }
}

/// Writes an output file atomically (public files: keys, proofs, circuits).
func writeOutputFile(_ bytes: [UInt8], to path: String, what: String) throws {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw AdminError("cannot write the \(what) to \(path): \((error as NSError).localizedDescription) (check that the directory exists and is writable)")
    }
}

/// Reads a `.zkey`, turning a format error into a usage error that names the file.
func readZKey(_ path: String) throws -> (ZKey, [UInt8]) {
    let bytes = try readInputFile(path, what: ".zkey file")
    do { return (try ZKey(bytes: bytes), bytes) } catch {
        throw AdminError.usage("\(path) is not a usable Groth16 .zkey: \(error)")
    }
}

/// `zksettle-admin keys import-zkey F.zkey --r1cs F.r1cs --out DIR`: a snarkjs key, checked
/// against its circuit, in this project's prover form.
struct ImportZKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-zkey",
        abstract: "Check a snarkjs Groth16 .zkey against its R1CS and write it as a proving key and verification_key.json.",
        discussion: """
            Checks: every point on its curve and in its subgroup; the sizes and the A and B \
            coefficients (section 4) are exactly the R1CS's, input rows included; and the key's \
            points against the R1CS and each other with random-weighted pairing equations (the \
            wallet's proving-key check: G1 and G2 copies of B agree, L and IC follow from A and B \
            where the R1CS allows). A key that passes proves statements of this circuit only.

            Writes into DIR: proving_key.zkspk (this project's format, H on the odd coset as \
            snarkjs has it), verification_key.json (snarkjs layout) and circuit-id (the SHA-256 \
            of the .r1cs file).

            EXAMPLES
              zksettle-admin keys import-zkey circuit_final.zkey --r1cs circuit.r1cs --out keys/
              zksettle-admin proof prove --zkey circuit_final.zkey --witness witness.wtns \\
                  --proof proof.json --public public.json
            """)

    @Argument(help: ArgumentHelp("The snarkjs .zkey file", valueName: "zkey"))
    var zkey: String
    @Option(help: ArgumentHelp("The circuit's iden3 .r1cs file", valueName: "file"))
    var r1cs: String
    @Option(help: ArgumentHelp("Directory to write into (created if missing)", valueName: "dir"))
    var out: String
    @Flag(help: "Print one JSON object describing the key and what was written.") var json = false

    func run() throws {
        let (key, _) = try readZKey(zkey)
        let r1csBytes = try readInputFile(r1cs, what: "R1CS file")
        let system: R1CS
        do { system = try R1CSFile.decode(r1csBytes).r1cs } catch { throw AdminError.usage("\(r1cs) is not a usable .r1cs file: \(error)") }
        let circuitID = SHA256.hex(r1csBytes)
        do { try ZKeyCircuitCheck.check(key, against: system) } catch {
            throw AdminError("\(zkey) does not fit \(r1cs): \(error)")
        }
        let pk = key.provingKey(circuitID: circuitID)
        let bar = ProgressBar(title: "checking the key")
        do {
            _ = try ProvingKeyCheck.check(pk, r1cs: system, circuitID: circuitID, verifyingKey: key.verifyingKey) { stage, f in
                bar.update(f, detail: "\(stage)")
            }
        } catch {
            bar.abandon()
            throw AdminError("\(zkey) is not a well-formed key for \(r1cs): \(error)")
        }
        bar.finish("key checked")
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw AdminError("cannot create \(out): \((error as NSError).localizedDescription)")
        }
        let dir = URL(fileURLWithPath: out)
        try writeOutputFile(pk.serialized(), to: dir.appendingPathComponent("proving_key.zkspk").path, what: "proving key")
        try writeOutputFile(Array(SnarkJS.encode(key.verifyingKey)), to: dir.appendingPathComponent("verification_key.json").path, what: "verification key")
        try writeOutputFile(Array((circuitID + "\n").utf8), to: dir.appendingPathComponent("circuit-id").path, what: "circuit id")
        let report: [String: Any] = [
            "zkey": zkey, "out": out, "circuit_id": circuitID, "variables": key.variableCount, "public_inputs": key.publicCount,
            "constraints": key.constraintCount, "domain_size": key.domainSize, "contributions": key.contributions.count,
        ]
        if json {
            Terminal.printJSON(report)
        } else {
            print("imported \(zkey): \(key.constraintCount) constraints, \(key.variableCount) signals, \(key.publicCount) public, domain \(key.domainSize), \(key.contributions.count) contributions")
            print("wrote \(out)/proving_key.zkspk, verification_key.json, circuit-id")
            print("circuit id: \(circuitID)")
        }
    }
}

/// `zksettle-admin proof prove --zkey F.zkey --witness W --proof P --public X`: snarkjs's
/// `groth16 prove`, for any circom circuit.
struct ProveProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Prove with a snarkjs Groth16 .zkey and a full witness (.wtns or JSON): writes proof.json and public.json.",
        discussion: """
            The counterpart of `proof verify`, and of snarkjs's `groth16 prove`: the witness is \
            circom's full assignment (1, the public signals, the rest), as a .wtns file or a JSON \
            array of decimal strings. The proof is checked against the key's own verification key \
            before it is written, so a witness that does not satisfy the circuit is refused (exit 1).

            EXAMPLES
              zksettle-admin proof prove --zkey multiplier.zkey --witness witness.wtns \\
                  --proof proof.json --public public.json
              zksettle-admin proof verify --vk verification_key.json --proof proof.json --public public.json
            """)

    @Option(help: ArgumentHelp("The snarkjs .zkey file", valueName: "file"))
    var zkey: String
    @Option(help: ArgumentHelp("The full witness: .wtns, or .json (an array of decimal strings)", valueName: "file"))
    var witness: String
    @Option(help: ArgumentHelp("Where to write proof.json", valueName: "file"))
    var proof: String
    @Option(name: .customLong("public"), help: ArgumentHelp("Where to write public.json", valueName: "file"))
    var publicInputs: String
    @Flag(help: "Print one JSON object {proof, public, seconds} describing what was written.") var json = false

    func run() throws {
        let (key, _) = try readZKey(zkey)
        let z = try readWitness(witness)
        let start = Date()
        let result: (proof: Proof, publicInputs: [Fr])
        do { result = try key.prove(witness: z) } catch { throw AdminError("cannot prove: \(error)") }
        let seconds = Date().timeIntervalSince(start)
        try writeOutputFile(Array(SnarkJS.encode(result.proof)), to: proof, what: "proof")
        try writeOutputFile(Array(SnarkJS.encode(publicInputs: result.publicInputs)), to: publicInputs, what: "public inputs")
        if json {
            Terminal.printJSON(["proof": proof, "public": publicInputs, "seconds": (seconds * 1000).rounded() / 1000,
                              "public_inputs": result.publicInputs.map(\.decimalString)])
        } else {
            print("wrote \(proof) and \(publicInputs) (\(result.publicInputs.count) public inputs) in \(String(format: "%.2f", seconds)) s")
        }
    }

    func readWitness(_ path: String) throws -> [Fr] {
        let bytes = try readInputFile(path, what: "witness")
        if bytes.starts(with: Array("wtns".utf8)) {
            do { return try WitnessFile.decode(bytes) } catch { throw AdminError.usage("\(path) is not a usable .wtns file: \(error)") }
        }
        guard let values = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [Any] else {
            throw AdminError.usage("\(path) is neither a .wtns file nor a JSON array of decimal strings")
        }
        do { return try SnarkJS.publicInputs(values) } catch {
            throw AdminError.usage("\(path): \(error)")
        }
    }
}
