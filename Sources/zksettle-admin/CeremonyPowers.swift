import ArgumentParser

// Phase 1 (issue 18): being written; the subcommands land here.
struct PowersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powers", abstract: "Phase 1: a Powers-of-Tau ceremony (snarkjs .ptau files).",
        subcommands: [])
}
