import ArgumentParser
import Foundation
import Groth16
import Protocol
import TerminalUI

/// `zksettle-admin`: the operator's and auditor's tool.
///
/// Exit codes: `ExitStatus` (the table shared by the three tools).
@main
struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zksettle-admin",
        abstract: "Inspect and check ZKSettle data: the ledger (nullifiers, batches, payouts, integrity), proofs, the circuit.",
        discussion: """
            \(ExitStatus.table)

            LEDGER ACCESS
              --data DIR     the server's data directory, opened read-only (safe while it runs)
              --server URL   a running server's admin routes, with --token-file F or ZKSETTLE_ADMIN_TOKEN
              --database URL a cluster's shared PostgreSQL ledger (password: PGPASSWORD)

            EXAMPLES
              zksettle-admin db verify --proofs --data zksettle-data
              zksettle-admin nullifiers check 1234… --data zksettle-data
              zksettle-admin deposits voucher --amount 100 --data zksettle-data
              zksettle-admin export payouts --pending --format csv --data zksettle-data
              zksettle-admin payouts mark-paid 7 --server URL --token-file admin-token
              zksettle-admin params fingerprint --data zksettle-data
            """,
        version: ZKSettleVersion.string,
        subcommands: [NullifiersCommand.self, BatchesCommand.self, PayoutsCommand.self, DBCommand.self, ExportCommand.self,
                      StatsCommand.self, DepositsCommand.self, ProofCommand.self, CircuitCommand.self, ParamsCommand.self,
                      CeremonyCommand.self, KeysCommand.self])

    static func main() {
        ToolMain.run(Self.self)
    }
}

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof", abstract: "Work with Groth16 proof files (snarkjs JSON).",
        subcommands: [VerifyProof.self, ProveProof.self])
}
