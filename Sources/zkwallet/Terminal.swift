import ArgumentParser
import Foundation
import Protocol
import SettlementClient
import Wallet
import TerminalUI

/// What zkwallet shows: progress, notices and errors on stderr (`printToStderr`), results on
/// stdout (`print`, `printJSON`, `printTable`, `describe`).

/// Writes one line to stderr: progress and notices, never a result.
func printToStderr(_ s: String) { Terminal.note(s) }

/// Runs a command's `body`, turning failures into a message on stderr and their exit code
/// (`ExitStatus`: 64 for a value that cannot be used, 3 for what does not exist, else 1).
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode {
        throw e
    } catch let e as ReportedFailure {
        throw e
    } catch {
        printToStderr("error: " + DisplayText.escapedLines("\(error)"))
        throw ReportedFailure(walletExitStatus(error))
    }
}

/// The exit code of a wallet error: a server's or the wallet's code names its kind.
func walletExitStatus(_ error: Error) -> ExitStatus {
    if error is ValidationError { return .usage }
    switch (error as? WalletError)?.code {
    case "usage": return .usage
    case "not_found": return .notFound
    default: return .failure
    }
}

func parseAmount(_ s: String) throws -> UInt64 {
    guard let v = UInt64(s), v > 0 else { throw ValidationError("AMOUNT must be a whole number of units, at least 1 (got \(s))") }
    return v
}

/// What a payment did, said in one line a person reads first (`sent 30 to zks1q98r…uez5 (memo
/// "lunch") · batch 2 · spendable now 70`), then the receipt, the fee and one total time for
/// the whole command (`started`: when it began, merges and syncs included). `--json` has the
/// same facts.
func describe(_ outcome: PeerWallet.Outcome, wallet: PeerWallet, what: Payment, started: Date, json: Bool) throws {
    let total = Date().timeIntervalSince(started)
    switch outcome {
    case .settled(let s):
        // The change counts once the wallet has checked it in the tree: a quiet sync first.
        _ = try? wallet.sync(quiet: true)
        let spendable = try wallet.balance().spendable
        if json {
            var obj: [String: Any] = [
                "status": "settled", "kind": what.kind, "amount": what.amount, "transfer_id": s.transferID, "batch": s.batch,
                "leaf_indices": s.leafIndices, "receipt_verified": s.receiptVerified, "fee": s.fee, "prove_seconds": s.proveSeconds,
                "total_seconds": total, "spendable_after": spendable,
            ]
            if let to = what.to { obj["to"] = to }
            if what.kind == "withdraw" { obj["payout_id"] = Terminal.nullable(s.payoutID) }
            if let memo = what.memo { obj["memo"] = memo }
            Terminal.printJSON(obj)
            return
        }
        var line: String
        switch what.kind {
        case "deposit": line = "deposited \(what.amount)"
        case "withdraw": line = "withdrew \(what.amount) to \(what.to.map { Terminal.shortened($0, head: 24, tail: 4) } ?? "")"
        default: line = "sent \(what.amount) to \(what.to.map { Terminal.shortened($0) } ?? "")"
        }
        if let memo = what.memo, !memo.isEmpty { line += " (memo \"\(memo)\")" }
        line += " · batch \(s.batch)"
        if what.kind == "withdraw" { line += s.payoutID.map { " · payout \($0)" } ?? " · payout owed for transfer \(s.transferID.prefix(16))…" }
        line += " · spendable now \(spendable)"
        print(DisplayText.escaped(line))
        print("receipt signature verified with the pinned receipt key; transfer \(s.transferID)")
        if s.fee > 0 { print("fee paid to the operator: \(s.fee)") }
        print(String(format: "proof %.2f s, total %.2f s", s.proveSeconds, total))
    case .saved(let path, let id):
        if json { Terminal.printJSON(["status": "saved", "kind": what.kind, "amount": what.amount, "path": path, "transfer_id": id]) } else {
            print("request saved to \(path) (transfer \(id)); nothing was submitted")
            print("submit it with: curl -s -H 'Content-Type: application/json' --data-binary @\(path) <server>/v1/transfers")
        }
    }
}

/// What the person asked for, as `describe` says it back.
struct Payment {
    var kind: String
    var amount: UInt64
    var to: String? = nil
    var memo: String? = nil
}
