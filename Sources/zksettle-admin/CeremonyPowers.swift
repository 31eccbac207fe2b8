import ArgumentParser
import Ceremony
import Foundation
import Primitives
import Protocol
import TerminalUI

// Phase 1 (issue 18): a Powers-of-Tau ceremony in snarkjs's .ptau format.
struct PowersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powers", abstract: "Phase 1: a Powers-of-Tau ceremony (snarkjs .ptau files).",
        discussion: """
            The circuit-independent phase of a Groth16 ceremony, file-compatible with snarkjs \
            `powersoftau` (and the Perpetual Powers of Tau / Hermez files). One honest \
            contributor who forgets their secret is enough.

            EXAMPLES
              zksettle-admin ceremony powers new --power 15 --out pot15_0000.ptau
              zksettle-admin ceremony powers contribute pot15_0000.ptau pot15_0001.ptau --name alice
              zksettle-admin ceremony powers beacon pot15_0001.ptau pot15_beacon.ptau --hash 0102…ff --iterations-exp 10
              zksettle-admin ceremony powers verify pot15_beacon.ptau
              zksettle-admin ceremony powers prepare pot15_beacon.ptau pot15_final.ptau
            """,
        subcommands: [PowersNew.self, PowersContribute.self, PowersBeacon.self, PowersVerify.self, PowersPrepare.self])
}

/// snarkjs's way of printing a 64-byte hash: four lines of four 32-bit words.
func formatCeremonyHash(_ h: [UInt8]) -> String {
    stride(from: 0, to: h.count, by: 16).map { row in
        "\t" + stride(from: row, to: min(row + 16, h.count), by: 4).map { Hex.encode(h[$0..<min($0 + 4, h.count)]) }.joined(separator: " ")
    }.joined(separator: "\n")
}

func powersProgress(_ step: String) -> (String) -> Void {
    let start = Date()
    return { stage in Terminal.note(String(format: "%@ [%6.1f s] %@", step, Date().timeIntervalSince(start), stage)) }
}

func reportContribution(_ result: PowersOfTauContributionResult, output: String, json: Bool, seconds: Double) {
    if json {
        Terminal.printJSON(["out": output, "contribution_hash": Hex.encode(result.responseHash),
                            "next_challenge": Hex.encode(result.nextChallenge), "contributions": result.ptau.contributions.count,
                            "power": result.ptau.power, "seconds": (seconds * 100).rounded() / 100])
    } else {
        print("wrote \(output): contribution #\(result.ptau.contributions.count) at power \(result.ptau.power) in \(String(format: "%.1f", seconds)) s")
        print("contribution hash (publish it):\n\(formatCeremonyHash(result.responseHash))")
    }
}

/// `powers new --power P --out F.ptau`: snarkjs `powersoftau new bn128 P F.ptau`.
struct PowersNew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Phase 1: the initial accumulator of 2^P powers (every point a generator, no contribution).",
        discussion: """
            P is the log2 of the largest circuit domain plus one for phase 2's H points: the \
            transfer circuit needs 15. The file is not safe to use until contributions are added. \
            Prints the first challenge hash, which snarkjs prints too.

            EXAMPLES
              zksettle-admin ceremony powers new --power 15 --out pot15_0000.ptau
            """)

    @Option(help: ArgumentHelp("log2 of the number of powers (1…28)", valueName: "p")) var power: Int
    @Option(help: ArgumentHelp("Where to write the .ptau", valueName: "file")) var out: String
    @Flag(help: "Print one JSON object {out, power, first_challenge}.") var json = false

    func run() throws {
        let initial: PowersOfTau
        do { initial = try PowersOfTau.initial(power: power) } catch { throw AdminError.usage("\(error)") }
        try writeOutputFile(initial.serialized(), to: out, what: ".ptau")
        let challenge = PowersOfTau.firstChallengeHash(power: power)
        if json {
            Terminal.printJSON(["out": out, "power": power, "first_challenge": Hex.encode(challenge)])
        } else {
            print("wrote \(out): the initial accumulator at power \(power)")
            print("first challenge hash:\n\(formatCeremonyHash(challenge))")
        }
    }
}

/// `powers contribute IN OUT [--name TEXT]`: snarkjs `powersoftau contribute`.
struct PowersContribute: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contribute",
        abstract: "Phase 1: add your contribution (fresh τ, α, β from the system's CSPRNG, forgotten at once).",
        discussion: """
            Multiplies every power by your secrets, signs the current challenge with a proof of \
            knowledge and appends your record. Prints the contribution hash: publish it, so that \
            anyone running `powers verify` sees your contribution in the transcript.

            EXAMPLES
              zksettle-admin ceremony powers contribute pot15_0000.ptau pot15_0001.ptau --name alice
            """)

    @Argument(help: ArgumentHelp("The .ptau to contribute to", valueName: "in")) var input: String
    @Argument(help: ArgumentHelp("Where to write the new .ptau", valueName: "out")) var output: String
    @Option(help: ArgumentHelp("Your name in the transcript (snarkjs keeps 64 characters)", valueName: "text")) var name: String?
    @Flag(help: "Print one JSON object {out, contribution_hash, next_challenge, contributions, power, seconds}.") var json = false

    func run() throws {
        let accumulator = try readPTau(input)
        let start = Date()
        let result: PowersOfTauContributionResult
        do { result = try accumulator.contribute(name: name, progress: powersProgress("contribute")) } catch {
            throw AdminError("cannot contribute to \(input): \(error)")
        }
        try writeOutputFile(result.ptau.serialized(), to: output, what: ".ptau")
        reportContribution(result, output: output, json: json, seconds: Date().timeIntervalSince(start))
    }
}

/// `powers beacon IN OUT --hash HEX --iterations-exp N [--name]`: snarkjs `powersoftau beacon`.
struct PowersBeacon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon",
        abstract: "Phase 1: a contribution from public randomness (e.g. a future block hash), anyone can recompute it.",
        discussion: """
            The secrets come from SHA-256 applied 2^N times to the beacon hash, then snarkjs's \
            ChaCha generator: `powers verify` (and snarkjs) re-derive them. N is 10…63.

            EXAMPLES
              zksettle-admin ceremony powers beacon pot15_0003.ptau pot15_beacon.ptau \\
                  --hash 0000000000000000000a1f5b2c6c1a5cfbcd8a4c0c8e6c1b2e4b1c0d9e8f7a6b --iterations-exp 10 --name "final beacon"
            """)

    @Argument(help: ArgumentHelp("The .ptau to apply the beacon to", valueName: "in")) var input: String
    @Argument(help: ArgumentHelp("Where to write the new .ptau", valueName: "out")) var output: String
    @Option(help: ArgumentHelp("The beacon value, hexadecimal (at most 255 bytes)", valueName: "hex")) var hash: String
    @Option(name: .customLong("iterations-exp"), help: ArgumentHelp("log2 of the SHA-256 iterations (10…63)", valueName: "n")) var iterationsExp: Int
    @Option(help: ArgumentHelp("The beacon's name in the transcript", valueName: "text")) var name: String?
    @Flag(help: "Print one JSON object {out, contribution_hash, next_challenge, contributions, power, seconds}.") var json = false

    func validate() throws {
        guard (10...63).contains(iterationsExp) else { throw ValidationError("--iterations-exp must be within 10…63") }
        guard Hex.decode(hash) != nil, !hash.isEmpty, hash.count % 2 == 0 else { throw ValidationError("--hash must be non-empty hexadecimal") }
    }

    func run() throws {
        let accumulator = try readPTau(input)
        let start = Date()
        let result: PowersOfTauContributionResult
        do { result = try accumulator.beacon(hashHex: hash, iterationsExp: iterationsExp, name: name, progress: powersProgress("beacon")) } catch {
            if case .badBeacon = error { throw AdminError.usage("\(error)") }
            throw AdminError("cannot apply the beacon to \(input): \(error)")
        }
        try writeOutputFile(result.ptau.serialized(), to: output, what: ".ptau")
        reportContribution(result, output: output, json: json, seconds: Date().timeIntervalSince(start))
    }
}

/// `powers verify F.ptau`: snarkjs `powersoftau verify`.
struct PowersVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Phase 1: check a .ptau's whole transcript and its powers.",
        discussion: """
            Checks every contribution's proofs of knowledge and its link to the previous one \
            (beacons recomputed from their hash), the last contribution against the powers and \
            its challenge hash, the powers themselves (random linear combinations: seconds at \
            2^15) and, when present, the phase-2 Lagrange sections. Progress on standard error. \
            Exit 0 valid, 1 invalid or malformed (naming the contribution or section that \
            breaks), 64 unreadable file or bad usage.

            EXAMPLES
              zksettle-admin ceremony powers verify pot15_final.ptau
              zksettle-admin ceremony powers verify powersOfTau28_hez_final_15.ptau --json
            """)

    @Argument(help: ArgumentHelp("The .ptau to check", valueName: "file")) var file: String
    @Flag(help: "Print one JSON object {valid, reason?, power, contributions: [{index, name, beacon, hash, next_challenge}], next_challenge}.") var json = false

    func run() throws {
        let bytes = try readInputFile(file, what: ".ptau file")
        let start = Date()
        let progress = powersProgress("verify")
        let report: PowersOfTauReport
        do {
            progress("reading \(bytes.count) bytes (every point on its curve and in its subgroup)")
            let accumulator = try PowersOfTau.read(bytes)
            report = try accumulator.verify(progress: progress)
        } catch {
            if json { Terminal.printJSON(["valid": false, "reason": "\(error)"]) }
            throw AdminError("\(file) is invalid: \(error)")
        }
        let seconds = Date().timeIntervalSince(start)
        let fileHash = Hex.encode(BLAKE2b.hash(bytes))
        if json {
            Terminal.printJSON(["valid": true, "power": report.power, "ceremony_power": report.ceremonyPower,
                                "next_challenge": Hex.encode(report.nextChallenge), "prepared_phase2": report.lagrangeChecked,
                                "file_hash": fileHash, "seconds": (seconds * 100).rounded() / 100,
                                "contributions": report.contributions.map { e -> [String: Any] in
                                    ["index": e.index, "name": Terminal.nullable(e.name), "beacon": e.isBeacon,
                                     "hash": Terminal.nullable(e.responseHash.map(Hex.encode)), "next_challenge": Hex.encode(e.nextChallenge)]
                                }])
        } else {
            print("valid: \(file), power \(report.power), \(report.contributions.count) contribution(s), checked in \(String(format: "%.1f", seconds)) s")
            for e in report.contributions {
                print("  #\(e.index) \(e.isBeacon ? "beacon " : "")\(e.name.map { "\"\(DisplayText.escaped($0))\"" } ?? "(no name)")")
                if let h = e.responseHash { print(formatCeremonyHash(h)) }
            }
            print(report.lagrangeChecked ? "phase-2 Lagrange sections: present and checked"
                                         : "phase-2 Lagrange sections: absent (run `powers prepare`, or phase 2 computes them)")
            print("file hash (BLAKE2b-512): \(fileHash)")
        }
    }
}

/// `powers prepare IN OUT`: snarkjs `powersoftau prepare phase2`.
struct PowersPrepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Phase 1 → 2: add the Lagrange-basis sections (12–15) snarkjs's phase 2 reads.",
        discussion: """
            Computes the Lagrange-basis points at every level by inverse FFTs over the groups, \
            on all cores. Our own phase 2 does not need it (it computes the one level it uses), \
            snarkjs's `zkey new` does. The transcript is unchanged.

            EXAMPLES
              zksettle-admin ceremony powers prepare pot15_beacon.ptau pot15_final.ptau
            """)

    @Argument(help: ArgumentHelp("The .ptau to prepare", valueName: "in")) var input: String
    @Argument(help: ArgumentHelp("Where to write the prepared .ptau", valueName: "out")) var output: String
    @Flag(help: "Print one JSON object {out, power, seconds}.") var json = false

    func run() throws {
        let accumulator = try readPTau(input)
        let start = Date()
        let prepared = accumulator.preparedForPhase2(progress: powersProgress("prepare"))
        try writeOutputFile(prepared.serialized(), to: output, what: ".ptau")
        let seconds = Date().timeIntervalSince(start)
        if json {
            Terminal.printJSON(["out": output, "power": prepared.power, "seconds": (seconds * 100).rounded() / 100])
        } else {
            print("wrote \(output): Lagrange sections at levels 0…\(prepared.power) in \(String(format: "%.1f", seconds)) s")
        }
    }
}
