import ArgumentParser
import DataDirectory
import Foundation
import Primitives
import Protocol
import TerminalUI
import SettlementClient

struct DepositsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deposits", abstract: "Authorize deposits: single-use vouchers signed by the server's deposit key.",
        subcommands: [IssueVoucher.self])
}

/// `zksettle-admin deposits voucher --amount N [--expires 24h] (--data DIR | --server URL)`:
/// one voucher that lets its holder deposit exactly N, once, before it expires. With --data it
/// is signed here with `<data>/deposit.key`; with --server, by the server (admin token).
/// The voucher is the last line of the output (`zkwallet deposit N --voucher V` takes it).
struct IssueVoucher: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voucher",
        abstract: "Print one deposit voucher (zkv1…) for an amount, valid once until it expires.",
        discussion: """
            A voucher is a bearer permission: whoever holds it can deposit its amount once. Hand it
            to one person over a private channel; the server records it as used in the deposit's
            own transaction and refuses it again (409 voucher_used).
            """)

    @Option(help: "The amount the voucher lets its holder deposit (a positive integer).")
    var amount: UInt64
    @Option(help: ArgumentHelp("How long the voucher is valid: 90s, 30m, 24h, 7d (at most 3660d).", valueName: "duration"))
    var expires: String = "24h"
    @OptionGroup var ledger: LedgerOptions

    static let maxSeconds: Int64 = 3660 * 86_400

    func validate() throws {
        guard amount >= 1, amount <= UInt64((1 << 53) - 1) else { throw ValidationError("--amount must be between 1 and 2^53 - 1") }
        guard let s = Self.seconds(expires), s >= 1, s <= Self.maxSeconds else {
            throw ValidationError("--expires \(DisplayText.escaped(expires)): expected a duration such as 90s, 30m, 24h or 7d, at most 3660d")
        }
    }

    /// Seconds of `90s`, `30m`, `24h`, `7d`, or a bare number of seconds.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text), unit: Int64 = 1
        if let last = text.last, let u = units[last] { digits = text.dropLast(); unit = u }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        return n.multipliedReportingOverflow(by: unit).overflow ? nil : n * unit
    }

    func run() throws {
        let seconds = Self.seconds(expires)!
        let voucher: DepositVoucher
        if let server = ledger.server {
            guard let token = try ledger.adminToken(), !token.isEmpty else {
                throw AdminError.usage("--server needs the admin token: --token-file FILE or ZKSETTLE_ADMIN_TOKEN (it is in the server's data directory, file admin-token)")
            }
            let remote = try RemoteLedger(server: server, token: token, caFile: ledger.caFile)
            voucher = try remote.issueVoucher(amount: amount, seconds: seconds)
        } else {
            let file = DataDirectory(existing: ledger.data ?? "zksettle-data").depositKeyURL
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw AdminError.usage("cannot read \(file.path): pass --data with the server's data directory (the server makes deposit.key on first start unless it runs with --no-deposits), or --server URL with the admin token")
            }
            guard let key = Ed25519Key(hex: text) else {
                throw AdminError.usage("\(file.path) is not a 32-byte hex Ed25519 key")
            }
            voucher = DepositVoucher.issue(amount: amount, expiresAt: Int64(Date().timeIntervalSince1970) + seconds, key: key)
        }
        if ledger.json {
            Terminal.printJSON(["voucher": voucher.text, "id": voucher.id, "amount": voucher.amount, "expires_at": voucher.expiresAt])
            return
        }
        FileHandle.standardError.write(Data("voucher \(voucher.id) for \(voucher.amount), valid until \(DepositVoucher.format(voucher.expiresAt)); single use, keep it private:\n".utf8))
        print(voucher.text)
    }
}

extension RemoteLedger {
    /// `POST /v1/admin/vouchers`; the answer is checked like any server answer: a voucher for
    /// the asked amount and about the asked validity.
    func issueVoucher(amount: UInt64, seconds: Int64) throws -> DepositVoucher {
        let path = "/v1/admin/vouchers"
        let body = VoucherOrder(amount: Int64(clamping: amount), expiresIn: seconds).encode()
        let r: HTTPConnection.Response
        do {
            r = try connection.request("POST", path, headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body)
        } catch {
            throw AdminError("\(error) (check --server, and that zksettle-server is running)")
        }
        let obj: [String: Any]
        if r.status == 201 {
            obj = r.json as? [String: Any] ?? [:]
        } else {
            do { _ = try decode(r, path) } catch let e as NotFound { throw AdminError("\(server): \(e.message)") }
            throw AdminError("\(server)\(path) answered \(r.status)")
        }
        guard let text = obj["voucher"] as? String, let voucher = try? DepositVoucher(text: text) else {
            throw AdminError("\(server) answered without a well-formed voucher")
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard voucher.amount == amount, abs(voucher.expiresAt - (now + seconds)) < 600 else {
            throw AdminError("\(server) answered with a voucher for \(voucher.amount) until \(DepositVoucher.format(voucher.expiresAt)), not what was asked")
        }
        return voucher
    }
}
