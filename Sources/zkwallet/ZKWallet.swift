import ArgumentParser
import Protocol
import SettlementClient
import TerminalUI

/// `zkwallet`: a peer's wallet on the command line (DESIGN.md section 4).
///
/// Exit codes: `ExitStatus` (the table shared by the three tools).
@main
struct ZKWallet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkwallet",
        abstract: "Private payments on a ZKSettle server: notes, proofs and receipts on your machine.",
        discussion: """
            The wallet lives in a directory (--wallet, default ~/.zkwallet): key.json (mode 0600, \
            optionally encrypted with a passphrase), wallet.sqlite (notes, history, sync position) \
            and the proving key cached from the server. Human tables by default, --json for scripts.

            The wallet pins the server's parameters fingerprint (circuit id, verifying key, receipt \
            key) on first contact, or the one given to `init --trust`; another fingerprint later \
            stops every command (exit 1) until `zkwallet trust --reset`. A proving key is checked \
            against the pinned verifying key before its first use, and every proof before it is sent. \
            The server's word on its keys' setup (development or a ceremony's transcript) is pinned \
            too; on development keys every command warns once on stderr.

            \(ExitStatus.table)
            """,
        version: ZKSettleVersion.string,
        subcommands: [Init.self, AddressCommand.self, ViewingKeyCommand.self, Deposit.self, Send.self, Withdraw.self,
                      Request.self, Sync.self, BalanceCommand.self, History.self, Notes.self, Status.self, Trust.self, Config.self])

    static func main() {
        Interrupt.install()
        ToolMain.run(Self.self, hints: ["receive": "address", "pay": "send", "transfer": "send"], classify: { error in
            (error as? WalletError).map { _ in walletExitStatus(error) }
        })
    }
}
