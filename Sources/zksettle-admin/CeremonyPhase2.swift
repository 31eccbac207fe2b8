import ArgumentParser
import BN254
import Ceremony
import Circuits
import DataDirectory
import Foundation
import Groth16
import Primitives
import Protocol
import R1CS
import TerminalUI

/// Options shared by the phase-2 commands that need the circuit: the transfer circuit of this
/// build unless `--r1cs` names another.
struct CircuitChoice: ParsableArguments {
    @Option(help: ArgumentHelp("Another circuit's iden3 .r1cs (default: this build's transfer circuit)", valueName: "file"))
    var r1cs: String?

    func load() throws -> (R1CS, String) {
        guard let r1cs else { return (TransferCircuit.r1cs, "the transfer circuit") }
        let bytes = try readInputFile(r1cs, what: "R1CS file")
        do { return (try R1CSFile.decode(bytes).r1cs, r1cs) } catch { throw AdminError.usage("\(r1cs) is not a usable .r1cs file: \(error)") }
    }
}

/// Reads a `.ptau`; a format error is a usage error naming the file (exit 64).
func readPTau(_ path: String) throws -> PowersOfTau {
    let bytes = try readInputFile(path, what: ".ptau file")
    do { return try PowersOfTau.read(bytes) } catch { throw AdminError.usage("\(path) is not a usable .ptau file: \(error)") }
}

/// A progress bar for library steps that report (stage, fraction). Off a terminal (a log, CI)
/// each new stage is also one line with the seconds so far, as phase 1's `powersProgress`
/// prints its stages, so minutes of work show their steps.
func stageProgress(_ title: String) -> (ProgressBar, (String, Double) -> Void) {
    let bar = ProgressBar(title: title)
    let start = Date()
    var last = ""
    return (bar, { stage, fraction in
        bar.update(fraction, detail: stage)
        if !Terminal.standardErrorIsTerminal && stage != last {
            last = stage
            Terminal.note(String(format: "%@ [%6.1f s] %@", title, Date().timeIntervalSince(start), stage))
        }
    })
}

func writeZKey(_ key: ZKey, to path: String) throws {
    try writeOutputFile(key.encoded(), to: path, what: ".zkey")
}

/// `ceremony new --ptau F.ptau --out 0000.zkey`: snarkjs's `zkey new`.
struct CeremonyNew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Phase 2: the initial .zkey of the transfer circuit from a phase-1 .ptau (snarkjs `zkey new`).",
        discussion: """
            The ptau must have power ≥ the circuit's domain power + 1 (the transfer circuit: 15). \
            The initial key has γ = δ = 1: it is not safe to use until at least one participant \
            has contributed. Prints the circuit hash, which every participant can recompute.

            EXAMPLES
              zksettle-admin ceremony new --ptau pot15_final.ptau --out transfer_0000.zkey
              zksettle-admin ceremony contribute transfer_0000.zkey transfer_0001.zkey --name alice
            """)

    @Option(help: ArgumentHelp("The phase-1 Powers-of-Tau file", valueName: "file")) var ptau: String
    @Option(help: ArgumentHelp("Where to write the initial .zkey", valueName: "file")) var out: String
    @OptionGroup var circuit: CircuitChoice
    @Flag(help: "Print one JSON object describing the key.") var json = false

    func run() throws {
        let (r1cs, what) = try circuit.load()
        let accumulator = try readPTau(ptau)
        let start = Date()
        let (bar, progress) = stageProgress("initial key")
        let key: ZKey
        do { key = try Phase2.newKey(r1cs: r1cs, ptau: accumulator, progress: progress) } catch {
            bar.abandon()
            throw AdminError("cannot make the initial key from \(ptau): \(error)")
        }
        bar.finish("initial key made")
        try writeZKey(key, to: out)
        let seconds = Date().timeIntervalSince(start)
        if json {
            Terminal.printJSON(["out": out, "circuit_hash": Hex.encode(key.circuitHash), "constraints": r1cs.constraints.count,
                                "domain_size": key.domainSize, "seconds": (seconds * 100).rounded() / 100])
        } else {
            print("wrote \(out): the initial key of \(what) (\(r1cs.constraints.count) constraints, domain \(key.domainSize)) in \(String(format: "%.1f", seconds)) s")
            print("circuit hash: \(Hex.encode(key.circuitHash))")
        }
    }
}

/// `ceremony contribute IN OUT [--name TEXT]`: snarkjs's `zkey contribute`.
struct CeremonyContribute: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contribute",
        abstract: "Phase 2: add your contribution to a .zkey (fresh secret from the system's CSPRNG, forgotten at once).",
        discussion: """
            Prints the contribution hash: publish it, so that anyone running `ceremony verify` can \
            see that your contribution is in the final key. One honest contributor who forgets \
            the secret is enough to make the final key safe.

            EXAMPLES
              zksettle-admin ceremony contribute transfer_0000.zkey transfer_0001.zkey --name alice
            """)

    @Argument(help: ArgumentHelp("The .zkey to contribute to", valueName: "in")) var input: String
    @Argument(help: ArgumentHelp("Where to write the new .zkey", valueName: "out")) var output: String
    @Option(help: ArgumentHelp("Your name in the transcript (at most 64 characters)", valueName: "text")) var name: String?
    @Flag(help: "Print one JSON object {out, contribution_hash, contributions}.") var json = false

    func run() throws {
        let (key, _) = try readZKey(input)
        let (bar, progress) = stageProgress("contribution")
        let result: (ZKey, [UInt8])
        do { result = try Phase2.contribute(key, name: name, progress: progress) } catch {
            bar.abandon()
            throw AdminError("cannot contribute to \(input): \(error)")
        }
        bar.finish("contributed")
        try writeZKey(result.0, to: output)
        report(result.0, hash: result.1, output: output, json: json)
    }
}

func report(_ key: ZKey, hash: [UInt8], output: String, json: Bool) {
    if json {
        Terminal.printJSON(["out": output, "contribution_hash": Hex.encode(hash), "contributions": key.contributions.count])
    } else {
        print("wrote \(output): contribution #\(key.contributions.count)")
        print("contribution hash: \(Hex.encode(hash))")
    }
}

/// `ceremony beacon IN OUT --hash HEX --iterations-exp N`: snarkjs's `zkey beacon`.
struct CeremonyBeacon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon",
        abstract: "Phase 2: a last contribution from public randomness (snarkjs `zkey beacon`).",
        discussion: """
            The secret is derived from HEX (say, a future block hash announced in advance) by \
            2^N rounds of SHA-256, so anyone can recompute it: it rules out that the last \
            participant chose their contribution after seeing the others.

            EXAMPLES
              zksettle-admin ceremony beacon transfer_0002.zkey transfer_final.zkey \\
                  --hash 0000000000000000000a1b2c… --iterations-exp 10
            """)

    @Argument(help: ArgumentHelp("The .zkey to finish", valueName: "in")) var input: String
    @Argument(help: ArgumentHelp("Where to write the new .zkey", valueName: "out")) var output: String
    @Option(help: ArgumentHelp("The beacon's value, hexadecimal (1 to 255 bytes)", valueName: "hex")) var hash: String
    @Option(name: .customLong("iterations-exp"), help: ArgumentHelp("2^N SHA-256 rounds (10 to 63)", valueName: "n")) var iterationsExp: Int
    @Option(help: ArgumentHelp("A name for the beacon in the transcript", valueName: "text")) var name: String?
    @Flag(help: "Print one JSON object {out, contribution_hash, contributions}.") var json = false

    func validate() throws {
        guard (10...63).contains(iterationsExp) else { throw ValidationError("--iterations-exp must be 10…63 (as snarkjs requires)") }
        guard let bytes = Hex.decode(hash), !bytes.isEmpty, bytes.count < 256 else {
            throw ValidationError("--hash must be 1 to 255 bytes of hexadecimal")
        }
    }

    func run() throws {
        let (key, _) = try readZKey(input)
        let result: (ZKey, [UInt8])
        do { result = try Phase2.beacon(key, hashHex: hash, iterationsExponent: iterationsExp, name: name) } catch {
            throw AdminError("cannot apply the beacon to \(input): \(error)")
        }
        try writeZKey(result.0, to: output)
        report(result.0, hash: result.1, output: output, json: json)
    }
}

/// `ceremony verify F.zkey --ptau F.ptau`: snarkjs's `zkey verify`.
struct CeremonyVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Phase 2: check a .zkey's whole transcript against the circuit and the ptau.",
        discussion: """
            Re-derives the initial key from the R1CS and the ptau and checks every contribution \
            (its transcript, its proof of knowledge, that it applied its secret to delta, a \
            beacon's recomputed key), then the final key's points. Lists every contribution with \
            its hash, for participants to find theirs. Exit 0 valid, 1 invalid (naming the \
            contribution or the part that breaks), 64 unreadable files.

            EXAMPLES
              zksettle-admin ceremony verify transfer_final.zkey --ptau pot15_final.ptau
            """)

    @Argument(help: ArgumentHelp("The .zkey to check", valueName: "zkey")) var zkey: String
    @Option(help: ArgumentHelp("The phase-1 Powers-of-Tau file the ceremony started from", valueName: "file")) var ptau: String
    @OptionGroup var circuit: CircuitChoice
    @Flag(help: "Print one JSON object {valid, contributions: [{index, name, beacon, hash}], circuit_hash}.") var json = false

    func run() throws {
        let (key, bytes) = try readZKey(zkey)
        let (r1cs, _) = try circuit.load()
        let accumulator = try readPTau(ptau)
        let (bar, progress) = stageProgress("verifying")
        let result: Phase2.Report
        do { result = try Phase2.verify(key, r1cs: r1cs, ptau: accumulator, progress: progress) } catch {
            bar.abandon()
            if json { Terminal.printJSON(["valid": false, "reason": "\(error)"]) }
            throw AdminError("\(zkey) is invalid: \(error)")
        }
        bar.finish("verified")
        let transcript = Hex.encode(BLAKE2b.hash(bytes))
        if json {
            Terminal.printJSON(["valid": true, "circuit_hash": Hex.encode(result.circuitHash), "transcript_hash": transcript,
                                "contributions": result.contributions.map { e -> [String: Any] in
                                    ["index": e.index, "name": Terminal.nullable(e.name), "beacon": e.isBeacon, "hash": Hex.encode(e.contributionHash)]
                                }])
        } else {
            print("valid: \(zkey), \(result.contributions.count) contribution(s)")
            for e in result.contributions {
                print("  #\(e.index) \(e.isBeacon ? "beacon " : "")\(e.name.map { "\"\(DisplayText.escaped($0))\"" } ?? "(no name)"): \(Hex.encode(e.contributionHash))")
            }
            print("circuit hash: \(Hex.encode(result.circuitHash))")
            print("transcript hash (BLAKE2b-512 of the file): \(transcript)")
        }
    }
}

/// `ceremony finalize F.zkey --ptau F.ptau --data DIR`: the server's keys from a verified ceremony.
struct CeremonyFinalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Verify a finished ceremony and install its keys in a server's data directory.",
        discussion: """
            Verifies the .zkey against the transfer circuit and the ptau (as `ceremony verify`), \
            refuses a key with no contribution, then writes keys/transfer.zkspk, \
            keys/verification_key.json, keys/circuit-id and keys/setup.json (the transcript hash: \
            BLAKE2b-512 of the .zkey, which anyone can recompute with `b2sum`). The server then \
            publishes "setup": "ceremony" and the hash at /v1/params. Refuses a directory that \
            already has keys unless --replace (a ledger stays bound to the keys it was made with).

            EXAMPLES
              zksettle-admin ceremony finalize transfer_final.zkey --ptau pot15_final.ptau --data zksettle-data
              zksettle-server --data zksettle-data --require-ceremony-keys
            """)

    @Argument(help: ArgumentHelp("The ceremony's final .zkey", valueName: "zkey")) var zkey: String
    @Option(help: ArgumentHelp("The phase-1 Powers-of-Tau file the ceremony started from", valueName: "file")) var ptau: String
    @Option(help: ArgumentHelp("The server's data directory (created if missing)", valueName: "dir")) var data: String
    @Flag(help: "Replace keys already in the directory.") var replace = false
    @Flag(help: "Print one JSON object describing what was written.") var json = false

    func run() throws {
        let (key, bytes) = try readZKey(zkey)
        let accumulator = try readPTau(ptau)
        guard !key.contributions.isEmpty else {
            throw AdminError("\(zkey) has no contribution: its delta is the generator, so anyone can forge proofs with it (run `ceremony contribute` first)")
        }
        let directory: DataDirectory
        do { directory = try DataDirectory(path: data) } catch { throw AdminError("cannot use \(data): \(error)") }
        if !replace && FileManager.default.fileExists(atPath: directory.verifyingKeyURL.path) {
            throw AdminError("\(data)/keys already holds keys: pass --replace to overwrite them (a ledger made under the old keys will not start with new ones; use a fresh data directory for a new ledger)")
        }
        let (bar, progress) = stageProgress("verifying")
        let report: Phase2.Report
        do { report = try Phase2.verify(key, r1cs: TransferCircuit.r1cs, ptau: accumulator, progress: progress) } catch {
            bar.abandon()
            throw AdminError("\(zkey) is not a valid ceremony for the transfer circuit: \(error)")
        }
        bar.finish("verified")
        let pk = key.provingKey(circuitID: TransferStatement.circuitID)
        let transcript = Hex.encode(BLAKE2b.hash(bytes))
        let setup = KeySetup.ceremony(transcriptHash: transcript, zkey: URL(fileURLWithPath: zkey).lastPathComponent,
                                      contributions: key.contributions.count)
        do {
            // The old record first, the new one last: a crash in between leaves keys without a
            // record (published as development), never a record beside keys it does not describe.
            if FileManager.default.fileExists(atPath: directory.setupURL.path) {
                try FileManager.default.removeItem(at: directory.setupURL)
            }
            try directory.writePrivate(Data(pk.serialized()), to: directory.provingKeyURL)
            try directory.writePrivate(SnarkJS.encode(key.verifyingKey), to: directory.verifyingKeyURL)
            try directory.writePrivate(Data((TransferStatement.circuitID + "\n").utf8), to: directory.circuitIDURL)
            try setup.write(to: directory.setupURL)
        } catch {
            throw AdminError("cannot write the keys into \(data): \(error)")
        }
        if json {
            Terminal.printJSON(["data": data, "transcript_hash": transcript, "contributions": report.contributions.count,
                                "circuit_id": TransferStatement.circuitID])
        } else {
            print("installed the ceremony's keys in \(data)/keys (\(report.contributions.count) contribution(s))")
            print("transcript hash: \(transcript)")
        }
    }
}
