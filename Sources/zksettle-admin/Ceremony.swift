import ArgumentParser

/// `zksettle-admin ceremony`: production keys from a multi-party ceremony, in snarkjs's file
/// formats. Phase 1 (`powers`) is circuit-independent; phase 2 is for the transfer circuit.
struct CeremonyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Run or verify a Groth16 key ceremony (snarkjs .ptau and .zkey files).",
        subcommands: [PowersCommand.self])
}
