import ArgumentParser
import BN254
import Foundation
import Ledger
import Primitives
import Protocol
import TerminalUI

func parseNullifier(_ text: String) throws -> Fr {
    do { return try Fr(decimal: text) } catch {
        throw ValidationError("\(text) is not a nullifier: expected a decimal field element below r (as /v1/nullifiers and `nullifiers list` print it)")
    }
}

// MARK: nullifiers

struct NullifiersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nullifiers", abstract: "Spent nullifiers: how many, which, spent by what and when.",
        subcommands: [Count.self, List.self, Show.self, Check.self])

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many nullifiers are spent.")
        @OptionGroup var ledger: LedgerOptions
        func run() throws {
            let n = try ledger.open().counts().nullifiers
            if ledger.json { Terminal.printJSON(["count": n]) } else { print(n) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Spent nullifiers in spending order.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "Only those spent in this batch.") var batch: Int64?
        @Option(help: "Only those spent at or after this time (ISO 8601, or 15m, 2h, 7d back from now).") var since: String?
        @Option(help: "At most this many.") var limit = 100
        @Option(help: "Skip this many first.") var offset = 0
        func validate() throws {
            guard limit >= 1, offset >= 0 else { throw ValidationError("--limit must be ≥ 1 and --offset ≥ 0") }
        }
        func run() throws {
            let records = try ledger.open().nullifiers(batch: batch, since: try since.map { try parseTime($0) }, limit: limit, offset: offset)
            if ledger.json { Terminal.printJSON(records.map(\.json)); return }
            Terminal.printTable(["NULLIFIER", "BATCH", "SPENT AT (UTC)", "TRANSFER"],
                       records.map { [ledger.cell($0.nullifier.decimalString, head: 12, tail: 6), String($0.batch), Terminal.isoTime($0.spentAt), ledger.cell($0.transferID.hex)] }, rule: true)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A spent nullifier: the transfer that spent it, its batch, when (error if unspent).")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The nullifier, decimal.") var nullifier: String
        func run() throws {
            let nf = try parseNullifier(nullifier)
            guard let r = try ledger.open().nullifier(nf) else {
                throw AdminError.notFound("nullifier \(nf.decimalString) is not spent (`nullifiers check` answers either way)")
            }
            if ledger.json { Terminal.printJSON(r.json); return }
            print("nullifier  \(r.nullifier.decimalString)\nspent      yes\ntransfer   \(r.transferID.hex)\nbatch      \(r.batch)\nspent at   \(Terminal.isoTime(r.spentAt))")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether a nullifier is spent; if so by which transfer, in which batch, when.")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The nullifier, decimal.") var nullifier: String
        func run() throws {
            let nf = try parseNullifier(nullifier)
            let r = try ledger.open().nullifier(nf)
            if ledger.json { Terminal.printJSON(r?.json ?? ["nullifier": nf.decimalString, "spent": false]); return }
            if let r {
                print("spent: by transfer \(r.transferID.hex) in batch \(r.batch) at \(Terminal.isoTime(r.spentAt))")
            } else {
                print("not spent")
            }
        }
    }
}

// MARK: batches

struct BatchesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches", abstract: "Settled batches: root, size, transfers, hash chain.",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Batch headers in order.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "First batch number.") var from: Int64 = 1
        @Option(help: "At most this many.") var limit = 100
        func run() throws {
            let headers = try ledger.open().batchHeaders(from: max(1, from), limit: max(1, limit))
            if ledger.json { Terminal.printJSON(headers.map(\.json)); return }
            Terminal.printTable(["BATCH", "TRANSFERS", "TREE", "LEAVES", "CREATED (UTC)", "HASH", "ROOT"],
                       headers.map { [String($0.number), String($0.transferIDs.count), String($0.tree), String($0.leafCount), Terminal.isoTime($0.createdAt),
                                      ledger.cell(Hex.encode($0.hash)), ledger.cell($0.root.decimalString)] }, rule: true)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One batch header with its transfers and the previous batch's hash.")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The batch number.") var number: Int64
        func run() throws {
            guard let h = try ledger.open().batchHeader(number) else {
                throw AdminError.notFound("no batch \(number): `zksettle-admin batches list` shows the batches there are")
            }
            if ledger.json { Terminal.printJSON(h.json); return }
            print("""
                batch          \(h.number)
                created        \(Terminal.isoTime(h.createdAt))
                tree           \(h.tree)
                root           \(h.root.decimalString)
                leaves after   \(h.leafCount) (in tree \(h.tree))
                hash           \(Hex.encode(h.hash))
                previous hash  \(Hex.encode(h.previousHash))
                transfers      \(h.transferIDs.count)
                """)
            for id in h.transferIDs { print("  \(id.hex)") }
        }
    }
}

// MARK: payouts

struct PayoutsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payouts", abstract: "Payouts owed to withdrawal recipients.",
        subcommands: [List.self, MarkPaid.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Payouts, oldest first.")
        @OptionGroup var ledger: LedgerOptions
        @Flag(help: "Only those not yet paid.") var pending = false
        func run() throws {
            let payouts = try ledger.open().payouts(pendingOnly: pending)
            if ledger.json { Terminal.printJSON(payouts.map(\.json)); return }
            Terminal.printTable(["ID", "AMOUNT", "RECIPIENT", "STATUS", "CREATED (UTC)", "TRANSFER"],
                       payouts.map { [String($0.id), String($0.amount), ledger.wide || $0.recipient.count <= 24 ? $0.recipient : String($0.recipient.prefix(23)) + "…",
                                      $0.status.rawValue, Terminal.isoTime($0.createdAt), ledger.cell($0.transferID.hex)] }, rule: true)
        }
    }

    struct MarkPaid: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mark-paid", abstract: "Record that a pending payout was paid (through the server: the one write).")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The payout id (from `payouts list --pending`).") var id: Int64
        func run() throws {
            let paidAt = try ledger.markPaid(id)
            if ledger.json { Terminal.printJSON(["id": id, "status": "paid", "paid_at": paidAt]) } else { print("payout \(id) marked paid at \(Terminal.isoTime(paidAt))") }
        }
    }
}

// MARK: db verify

struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db", abstract: "Check the ledger's integrity.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the tree and every root and stored frontier, the batch hash chain, nullifier uniqueness and transfer/batch consistency.",
            discussion: """
                Prints `ledger OK` or each fault by name (batch_root, chain, nullifier_duplicate, …) and
                exits 1 when there is any. --proofs also re-verifies every stored proof with the batch
                verifier (about 0.5 ms per proof per core).
                """)
        @OptionGroup var ledger: LedgerOptions
        @Flag(help: "Also re-verify every stored proof.") var proofs = false
        func run() throws {
            let (source, report) = try ledger.audit(proofs: proofs)
            if ledger.json {
                var out: [String: Any] = ["ok": report.faults.isEmpty, "faults": report.faults.map(\.json),
                                          "counts": report.counts.json, "seconds": report.seconds, "notes": report.notes]
                out["proofs_checked"] = report.proofsChecked ?? NSNull()
                Terminal.printJSON(out)
            } else {
                let c = report.counts
                print("ledger \(source): \(c.batches) batches, \(c.transfers) transfers, \(c.nullifiers) nullifiers, \(c.leaves) leaves")
                if let n = report.proofsChecked { print("proofs re-verified: \(n)") }
                for note in report.notes { print("note: " + DisplayText.escaped(note)) }
                if report.faults.isEmpty {
                    print("ledger OK (\(String(format: "%.2f", report.seconds)) s)")
                } else {
                    for f in report.faults { print("FAULT " + DisplayText.escaped("\(f)")) }
                    print("ledger FAILED: \(report.faults.count) fault\(report.faults.count == 1 ? "" : "s") (kinds: \(Set(report.faults.map(\.kind.rawValue)).sorted().joined(separator: ", ")))")
                }
            }
            if !report.faults.isEmpty { throw ExitCode(1) }
        }
    }
}

// MARK: export

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export ledger records for audits.", subcommands: [Nullifiers.self, Payouts.self])

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json }

    /// Writes `text` to `output` (atomically), or to stdout.
    static func write(_ text: String, to output: String?, count: Int, what: String) throws {
        if let output {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw AdminError.usage("cannot write \(output): \((error as NSError).localizedDescription)")
            }
            FileHandle.standardError.write(Data("exported \(count) \(what) to \(output)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }


    struct Payouts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every payout owed to a withdrawal's recipient (or only the pending ones), for the operator's bank run.",
            discussion: """
                EXAMPLES
                  zksettle-admin export payouts --pending --format csv --output payouts.csv --data zksettle-data
                  zksettle-admin payouts mark-paid ID --server URL --token-file zksettle-data/admin-token
                """)
        @OptionGroup var ledger: LedgerOptions
        @Flag(help: "Only payouts not yet paid.") var pending = false
        @Option(help: "csv or json.") var format: Format = .csv
        @Option(help: ArgumentHelp("Write here instead of stdout.", valueName: "file")) var output: String?
        func run() throws {
            let payouts = try ledger.open().payouts(pendingOnly: pending)
            let text: String
            switch format {
            case .csv:
                text = "id,amount,recipient,status,created_at_ms,created_at,paid_at_ms,transfer_id\n" + payouts.map {
                    "\($0.id),\($0.amount),\(Terminal.csvField($0.recipient)),\($0.status.rawValue),\($0.createdAt),\(Terminal.isoTime($0.createdAt)),"
                        + "\($0.paidAt.map(String.init) ?? ""),\($0.transferID.hex)\n"
                }.joined()
            case .json:
                let data = try JSONSerialization.data(withJSONObject: payouts.map(\.json), options: [.sortedKeys, .prettyPrinted])
                text = String(decoding: data, as: UTF8.self) + "\n"
            }
            try ExportCommand.write(text, to: output, count: payouts.count, what: "payouts")
        }
    }

    struct Nullifiers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every spent nullifier with its transfer, batch and time.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "csv or json.") var format: Format = .csv
        @Option(help: ArgumentHelp("Write here instead of stdout.", valueName: "file")) var output: String?
        func run() throws {
            let source = try ledger.open()
            var all: [NullifierRecord] = []
            while true {
                let page = try source.nullifiers(batch: nil, since: nil, limit: 10_000, offset: all.count)
                all += page
                if page.count < 10_000 { break }
            }
            let text: String
            switch format {
            case .csv:
                text = "nullifier,transfer_id,batch,spent_at_ms,spent_at\n"
                    + all.map { "\($0.nullifier.decimalString),\($0.transferID.hex),\($0.batch),\($0.spentAt),\(Terminal.isoTime($0.spentAt))\n" }.joined()
            case .json:
                let data = try JSONSerialization.data(withJSONObject: all.map(\.json), options: [.sortedKeys, .prettyPrinted])
                text = String(decoding: data, as: UTF8.self) + "\n"
            }
            try ExportCommand.write(text, to: output, count: all.count, what: "nullifiers")
        }
    }
}

// MARK: stats

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counts, fees accrued, settlement rates and the last batch.")
    @OptionGroup var ledger: LedgerOptions
    func run() throws {
        let source = try ledger.open()
        let c = try source.counts()
        // With several open trees batch numbers interleave by lane and are not their count.
        let local = source as? any LedgerReader
        let lastNumber = try local?.lastBatchNumber() ?? c.batches
        let last = lastNumber > 0 ? try source.batchHeader(lastNumber) : nil
        // Rates from the batches of the last hour (read back from the newest).
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var lastMinute = 0, lastHour = 0
        var from = lastNumber
        scan: while from >= 1 {
            let start = max(1, from - 499)
            let headers = try source.batchHeaders(from: start, limit: Int(from - start + 1))
            for h in headers.reversed() where h.number <= from {
                if h.createdAt < now - 3_600_000 { break scan }
                lastHour += h.transferIDs.count
                if h.createdAt >= now - 60_000 { lastMinute += h.transferIDs.count }
            }
            from = start - 1
        }
        if ledger.json {
            var out = c.json
            out["transfers_last_minute"] = lastMinute
            out["transfers_last_hour"] = lastHour
            out["last_batch"] = last?.json ?? NSNull()
            if let local { out["open_trees"] = local.openTrees }
            Terminal.printJSON(out)
            return
        }
        var rows: [[String]] = [
            ["batches", String(c.batches)], ["transfers", String(c.transfers)], ["nullifiers spent", String(c.nullifiers)],
            ["leaves", String(c.leaves)], ["pending payouts", String(c.pendingPayouts)], ["deposit vouchers used", String(c.vouchersUsed)],
            ["fees accrued", String(c.feesAccrued)],
            ["transfers, last minute", String(lastMinute)], ["transfers, last hour", String(lastHour)],
            ["last batch", last.map { "\($0.number) at \(Terminal.isoTime($0.createdAt)), \($0.transferIDs.count) transfers" } ?? "none yet"],
            ["root", last.map { ledger.cell($0.root.decimalString, head: 16, tail: 8) } ?? "(empty tree)"],
        ]
        if let local { rows.append(["open trees", String(local.openTrees)]) }
        Terminal.printTable(["WHAT", "VALUE"], rows, rule: true)
    }
}
