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
    switch (error as? WalletError)?.code {
    case "usage": .usage
    case "not_found": .notFound
    default: .failure
    }
}

func parseAmount(_ s: String) throws -> UInt64 {
    guard let v = UInt64(s), v > 0 else { throw ValidationError("AMOUNT must be a whole number of units, at least 1 (got \(s))") }
    return v
}

func describe(_ outcome: PeerWallet.Outcome, json: Bool, extra: [String: Any] = [:]) {
    switch outcome {
    case .settled(let s):
        if json {
            Terminal.printJSON(extra.merging(["status": "settled", "transfer_id": s.transferID, "batch": s.batch, "leaf_indices": s.leafIndices,
                                     "receipt_verified": s.receiptVerified, "fee": s.fee, "prove_seconds": s.proveSeconds,
                                     "total_seconds": s.totalSeconds]) { a, _ in a })
        } else {
            print("settled in batch \(s.batch): transfer \(s.transferID)")
            print("receipt signature verified with the pinned receipt key")
            if s.fee > 0 { print("fee paid to the operator: \(s.fee)") }
            print(String(format: "proof %.2f s, total %.2f s", s.proveSeconds, s.totalSeconds))
        }
    case .saved(let path, let id):
        if json { Terminal.printJSON(["status": "saved", "path": path, "transfer_id": id]) } else {
            print("request saved to \(path) (transfer \(id)); nothing was submitted")
            print("submit it with: curl -s -H 'Content-Type: application/json' --data-binary @\(path) <server>/v1/transfers")
        }
    }
}
