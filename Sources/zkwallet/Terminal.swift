import ArgumentParser
import Foundation
import Protocol
import SettlementClient
import Wallet

/// What zkwallet shows: progress, notices and errors on stderr (`printToStderr`), results on
/// stdout (`print`, `printJSON`, `printTable`, `describe`).

/// Writes one line to stderr: progress and notices, never a result.
func printToStderr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Runs a command's `body`, turning failures into a message on stderr and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as WalletError {
        printToStderr("error: " + DisplayText.escapedLines(e.description))
        throw ExitCode.failure
    } catch let e as ExitCode {
        throw e
    } catch {
        printToStderr("error: " + DisplayText.escapedLines("\(error)"))
        throw ExitCode.failure
    }
}

func printJSON(_ obj: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// A plain text table: a header row and left-aligned columns (numbers right-aligned). Cells
/// are shown through `DisplayText.escaped`: a memo is the payer's text and cannot be allowed
/// to move the cursor, rewrite a line or reorder the row.
func printTable(_ header: [String], _ rawRows: [[String]], numeric: Set<Int> = []) {
    let rows = rawRows.map { $0.map(DisplayText.escaped) }
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            let pad = String(repeating: " ", count: widths[i] - c.count)
            return numeric.contains(i) ? pad + c : c + pad
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

func parseAmount(_ s: String) throws -> UInt64 {
    guard let v = UInt64(s), v > 0 else { throw ValidationError("AMOUNT must be a whole number of units, at least 1 (got \(s))") }
    return v
}

func formatTime(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

func describe(_ outcome: PeerWallet.Outcome, json: Bool, extra: [String: Any] = [:]) {
    switch outcome {
    case .settled(let s):
        if json {
            printJSON(extra.merging(["status": "settled", "transfer_id": s.transferID, "batch": s.batch, "leaf_indices": s.leafIndices,
                                     "receipt_verified": s.receiptVerified, "fee": s.fee, "prove_seconds": s.proveSeconds,
                                     "total_seconds": s.totalSeconds]) { a, _ in a })
        } else {
            print("settled in batch \(s.batch): transfer \(s.transferID)")
            print("receipt signature verified with the pinned receipt key")
            if s.fee > 0 { print("fee paid to the operator: \(s.fee)") }
            print(String(format: "proof %.2f s, total %.2f s", s.proveSeconds, s.totalSeconds))
        }
    case .saved(let path, let id):
        if json { printJSON(["status": "saved", "path": path, "transfer_id": id]) } else {
            print("request saved to \(path) (transfer \(id)); nothing was submitted")
            print("submit it with: curl -s -H 'Content-Type: application/json' --data-binary @\(path) <server>/v1/transfers")
        }
    }
}
