import ArgumentParser
import Foundation
import Groth16
import Protocol

/// `zksettle-admin`: the operator's and auditor's tool.
///
/// Exit status: 0 success (a proof is valid), 1 a proof is invalid or malformed,
/// 2 bad usage or an unreadable/unusable input file.
@main
struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zksettle-admin",
        abstract: "Inspect and check ZKSettle data: the ledger (nullifiers, batches, payouts, integrity), proofs, the circuit.",
        discussion: """
            EXIT STATUS
              0  success; for `proof verify`: the proof is valid; for `db verify`: no fault
              1  the proof is invalid or malformed; `db verify` found a fault
              2  bad usage, an input that cannot be read or used, or a server error

            LEDGER ACCESS
              --data DIR     the server's data directory, opened read-only (safe while it runs)
              --server URL   a running server's admin routes, with --token T or ZKSETTLE_ADMIN_TOKEN
            """,
        version: ZKSettleVersion.string,
        subcommands: [NullifiersCommand.self, BatchesCommand.self, PayoutsCommand.self, DBCommand.self, ExportCommand.self,
                      StatsCommand.self, DepositsCommand.self, ProofCommand.self, CircuitCommand.self, ParamsCommand.self])

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
            // A message may carry a server's words (remote ledgers); controls are made visible.
            FileHandle.standardError.write(Data((DisplayText.escapedLines(fullMessage(for: error)) + "\n").utf8))
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
