import ArgumentParser
import Foundation

/// `zksettle-admin`: the operator's and auditor's tool.
///
/// Exit status: 0 success (a proof is valid), 1 a proof is invalid or malformed,
/// 2 bad usage or an unreadable/unusable input file.
@main
struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zksettle-admin",
        abstract: "Inspect and check ZKSettle data: proofs (ledger inspection comes with the server).",
        discussion: """
            EXIT STATUS
              0  success; for `proof verify`: the proof is valid
              1  the proof is invalid or malformed
              2  bad usage, or an input file that cannot be read or used
            """,
        subcommands: [ProofCommand.self, CircuitCommand.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help, --version
                Foundation.exit(0)
            }
            if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // Usage errors: 2, as documented (ArgumentParser's default would be 64).
            Foundation.exit(2)
        }
    }
}

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof", abstract: "Work with Groth16 proof files (snarkjs JSON).",
        subcommands: [VerifyProof.self])
}
