import ArgumentParser
import Foundation
import Wallet
import TerminalUI

/// `zkwallet status`: where this wallet stands, from what it holds (no server is contacted).
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The wallet at a glance: its server, pinned parameters, how far it synced and when, notes pending. Offline.",
        discussion: """
            EXAMPLES
              zkwallet status
              zkwallet status --json
            """)
    @OptionGroup var options: WalletOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try reportingErrors {
            let w = try options.open(lock: false)
            let db = w.database
            let b = try w.balance()
            let pendingTransfers = try db.transfers().filter { $0.status == .pending }
            let lastSynced = try db.meta("last_synced_at").flatMap { Int64($0) }
            let cursors = try db.treeCursors()
            let leaves = cursors.isEmpty ? nil : cursors.reduce(0) { $0 + $1.checked }
            let setup = try w.pinnedSetup()
            let fingerprint = try w.expectedFingerprint, pinSource = try w.pinSource ?? "pinned"
            if output.json {
                Terminal.printJSON([
                    "wallet": w.directory.path, "address": w.address.encoded, "watch_only": w.isWatchOnly,
                    "server": w.serverURL, "server_source": w.serverSource,
                    "fingerprint": Terminal.nullable(try w.expectedFingerprint), "fingerprint_source": Terminal.nullable(try w.pinSource),
                    "development_keys": Terminal.nullable(setup.map { $0 == .development }),
                    "setup": Terminal.nullable(setup?.name), "transcript_hash": Terminal.nullable(setup?.transcriptHash),
                    "synced_leaves": Terminal.nullable(leaves), "last_synced_at_ms": Terminal.nullable(lastSynced),
                    "synced_trees": cursors.map { ["tree": $0.tree, "leaves_checked": $0.checked, "leaves_scanned": $0.next] },
                    "last_synced_with": Terminal.nullable(try db.meta("server")),
                    "spendable": b.spendable, "pending": b.pending, "spendable_notes": b.spendableNotes,
                    "pending_transfers": pendingTransfers.map { ["transfer_id": $0.id, "kind": $0.kind.rawValue, "amount": $0.amount] },
                ])
                return
            }
            let keys = switch setup {
            case .development?: " — DEVELOPMENT KEYS: whoever set them up can forge proofs; not for real funds"
            case .ceremony(let h)?: " — ceremony keys, transcript \(Terminal.shortened(h, head: 16, tail: 8))"
            case nil: ""
            }
            Terminal.printTable(["", ""], [
                ["wallet", w.directory.path + (w.isWatchOnly ? " (watch-only)" : "")],
                ["address", Terminal.shortened(w.address.encoded, head: 12, tail: 6)],
                ["server", "\(w.serverURL) (\(w.serverSource))"],
                ["parameters", fingerprint.map { Terminal.shortened($0, head: 16, tail: 8) + " (\(pinSource))" + keys }
                    ?? "not pinned yet (the first contact pins them)"],
                ["synced", leaves.map { "\($0) leaves in \(cursors.count) tree\(cursors.count == 1 ? "" : "s")" + (lastSynced.map { ", last at \(Terminal.utcTime($0)) UTC" } ?? "") } ?? "never"],
                ["balance", "\(b.spendable) spendable in \(b.spendableNotes) note\(b.spendableNotes == 1 ? "" : "s"), \(b.pending) pending"],
                ["pending", pendingTransfers.isEmpty ? "no transfer awaiting its outcome"
                    : pendingTransfers.map { "\($0.kind.rawValue) \($0.amount) (\($0.id.prefix(12))…)" }.joined(separator: ", ") + ": `zkwallet sync` finds out"],
            ])
        }
    }
}

/// `zkwallet config`: settings the wallet keeps (today its server).
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or change what the wallet remembers: its server.",
        discussion: """
            EXAMPLES
              zkwallet config set server https://pay.example.org
              zkwallet config get server
            """,
        subcommands: [Get.self, Set.self])

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a setting (server).")
        @Argument(help: "server") var name: String
        @OptionGroup var options: WalletOptions
        @OptionGroup var output: OutputOptions
        func validate() throws { if name != "server" { throw ValidationError("unknown setting \(name): the one setting is `server`") } }
        func run() throws {
            try reportingErrors {
                let w = try options.open(lock: false)
                let value = try w.rememberedServer ?? PeerWallet.defaultServer
                if output.json { Terminal.printJSON([name: value]) } else { print(value) }
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a setting: `server URL` (the wallet's server from now on).")
        @Argument(help: "server") var name: String
        @Argument(help: "The value (a server URL).") var value: String
        @OptionGroup var options: WalletOptions
        @OptionGroup var output: OutputOptions
        func validate() throws {
            if name != "server" { throw ValidationError("unknown setting \(name): the one setting is `server`") }
            do { _ = try PeerWallet.normalizeServer(value) } catch { throw ValidationError("\(error)") }
        }
        func run() throws {
            try reportingErrors {
                let w = try options.open()
                let before = try w.rememberedServer
                try w.rememberServer(value)
                let now = try w.rememberedServer ?? value
                if output.json { Terminal.printJSON([name: now, "was": Terminal.nullable(before)]) } else {
                    print("server: \(now)" + (before.map { $0 == now ? " (unchanged)" : " (was \($0))" } ?? ""))
                }
                if let pinned = try w.expectedFingerprint, before != nil, before != now {
                    printToStderr("note: the wallet pinned parameters \(Terminal.shortened(pinned, head: 16, tail: 8)); the new server must present the same, or `zkwallet trust --reset` after checking the operator's fingerprint")
                }
            }
        }
    }
}
