import ArgumentParser
import BN254
import DataDirectory
import Foundation
import Groth16
import Ledger
import Primitives
import Protocol
import PostgresLedger
import SQLiteLedger
import SettlementClient
import TerminalUI

/// Where the ledger is read from: the server's data directory (its SQLite file opened
/// read-only, safe while the server runs thanks to WAL) or a running server's admin routes.
struct LedgerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server's data directory (default ./zksettle-data when neither --data nor --server is given).", valueName: "dir"))
    var data: String?
    @Option(help: ArgumentHelp("A running server's base URL, reached through its admin routes (with --token).", valueName: "url"))
    var server: String?
    @Option(name: .customLong("database"), help: ArgumentHelp("A PostgreSQL ledger, read directly: postgres://USER@HOST:PORT/DATABASE (env ZKSETTLE_DATABASE; a password goes there or in PGPASSWORD, never on the command line). --data then names the data directory whose keys the audit checks signatures with.", valueName: "url"))
    var databaseOption: String?
    /// `--database`, else $ZKSETTLE_DATABASE (not with --server).
    var database: String? { databaseOption ?? (server == nil ? ProcessInfo.processInfo.environment["ZKSETTLE_DATABASE"] : nil) }
    @Option(help: ArgumentHelp("The admin token for --server (default: $ZKSETTLE_ADMIN_TOKEN). Prefer --token-file or the environment: a command line is seen by others.", valueName: "token"))
    var token: String?
    @Option(help: ArgumentHelp("A file holding the admin token for --server (the server's <data>/admin-token).", valueName: "file"))
    var tokenFile: String?
    @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM file of the CA to trust for an https:// --server instead of the system's (env ZKSETTLE_CA_FILE).", valueName: "file"))
    var caFileOption: String?
    /// `--ca-file`, else $ZKSETTLE_CA_FILE. (An optional option takes no default of its own.)
    var caFile: String? { caFileOption ?? ProcessInfo.processInfo.environment["ZKSETTLE_CA_FILE"] }
    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Flag(help: "Full nullifiers, hashes, roots and ids in tables (wider than 100 columns).")
    var wide = false

    /// An id for a table cell: whole with `--wide`, else cut in the middle (`Terminal.shortened`).
    func cell(_ text: String, head: Int = 10, tail: Int = 4) -> String { wide ? text : Terminal.shortened(text, head: head, tail: tail) }

    func validate() throws {
        if data != nil && server != nil { throw ValidationError("give --data DIR or --server URL, not both") }
        if databaseOption != nil && server != nil { throw ValidationError("give --database URL or --server URL, not both") }
        if let url = databaseOption, URLComponents(string: url)?.password != nil {
            throw ValidationError("--database carries a password, which other users can read on the command line: put the URL in ZKSETTLE_DATABASE, or the password in PGPASSWORD")
        }
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
    }

    /// The admin token: `--token`, `--token-file` (trailing newline dropped) or $ZKSETTLE_ADMIN_TOKEN.
    func adminToken() throws -> String? {
        if let token { return token }
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { throw AdminError.usage("--token-file \(tokenFile): cannot read the file") }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw AdminError.usage("--token-file \(tokenFile): the file is empty") }
            return text
        }
        return ProcessInfo.processInfo.environment["ZKSETTLE_ADMIN_TOKEN"]
    }

    /// The ledger's listings: the file (read-only) or the server's admin routes.
    func open() throws -> any LedgerListing {
        if let remote = try remote() { return remote }
        return try LocalLedger(directory: data ?? "zksettle-data", database: database).ledger
    }

    /// `payouts mark-paid`: a write, so only through a running server.
    func markPaid(_ id: Int64) throws -> Int64 {
        if let remote = try remote() { return try remote.markPaid(id) }
        _ = try LocalLedger(directory: data ?? "zksettle-data", database: database)
        throw AdminError.usage("mark-paid is a write, and the server is the ledger's only writer: run it with --server URL --token T")
    }

    /// `db verify`: the audit of the file here, or the server's own; with where it ran.
    func audit(proofs: Bool) throws -> (source: String, report: AuditReport) {
        if let remote = try remote() { return (remote.description, try remote.audit(proofs: proofs)) }
        let local = try LocalLedger(directory: data ?? "zksettle-data", database: database)
        return (local.description, try local.audit(proofs: proofs))
    }

    /// The server's admin routes, with `--server`; nil without.
    private func remote() throws -> RemoteLedger? {
        guard let server else { return nil }
        guard let token = try adminToken(), !token.isEmpty else {
            throw AdminError.usage("--server needs the admin token: --token-file FILE or ZKSETTLE_ADMIN_TOKEN (it is in the server's data directory, file admin-token)")
        }
        return try RemoteLedger(server: server, token: token, caFile: caFile)
    }
}

/// What `db verify` found.
struct AuditReport {
    var faults: [LedgerFault]
    var proofsChecked: Int?
    var counts: LedgerCounts
    var seconds: Double
    var notes: [String] = []
}

/// The data directory's ledger.sqlite, read-only (its listings are the ledger's own,
/// `LedgerListing`), and the audit run on it here.
final class LocalLedger {
    let layout: DataDirectory
    let ledger: any LedgerReader
    let database: String?

    init(directory path: String, database: String? = nil) throws {
        layout = DataDirectory(existing: path)
        self.database = database
        if let database {
            do { ledger = try PostgresLedger(url: database, readOnly: true, readers: 1, statementTimeout: 3600) } catch {
                throw AdminError("cannot open the PostgreSQL ledger: \(error)")
            }
            return
        }
        let file = URL(fileURLWithPath: layout.ledgerPath)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw AdminError.usage("no ledger at \(file.path): pass --data with the server's data directory (the server makes ledger.sqlite there on first start), or --server URL")
        }
        do { ledger = try SQLiteLedger(path: file.path, readOnly: true) } catch {
            throw AdminError("cannot open \(file.path) read-only: \(error)")
        }
    }

    var description: String {
        if let ledger = ledger as? PostgresLedger { return ledger.displayURL }
        return layout.url.path
    }

    func audit(proofs: Bool) throws -> AuditReport {
        let start = Date()
        var notes: [String] = []
        // Receipts are checked when the receipt key is readable (the operator's case).
        var receiptPublicKey: [UInt8]?
        let keyFile = layout.receiptKeyURL
        if let text = try? String(contentsOf: keyFile, encoding: .utf8), let key = Ed25519Key(hex: text) {
            receiptPublicKey = key.publicKey
        } else {
            notes.append("receipt signatures not checked: \(keyFile.path) is not readable")
        }
        // Voucher signatures likewise, with the deposit key (absent with --no-deposits).
        var depositPublicKey: [UInt8]?
        let depositFile = layout.depositKeyURL
        if let text = try? String(contentsOf: depositFile, encoding: .utf8), let key = Ed25519Key(hex: text) {
            depositPublicKey = key.publicKey
        } else {
            notes.append("voucher signatures not checked: \(depositFile.path) is not readable")
        }
        var faults = try ledger.audit(receiptPublicKey: receiptPublicKey, depositPublicKey: depositPublicKey)
        var checked: Int?
        if proofs {
            let vkFile = layout.verifyingKeyURL
            let vk: VerifyingKey
            do { vk = try SnarkJS.verifyingKey(from: Data(contentsOf: vkFile)) } catch {
                throw AdminError("--proofs needs the verifying key at \(vkFile.path): \(error)")
            }
            let total = Int(try ledger.counts().transfers)
            // Drawn on a terminal only: a script reading stderr sees no progress lines.
            let bar = ProgressBar(title: "verifying proofs", log: { _ in })
            let r = try ledger.auditProofs(verifyingKey: vk, chunk: 256) { done, _ in
                bar.update(Double(done) / Double(max(total, 1)), detail: "\(done)/\(total)")
            }
            bar.finish("verified \(r.checked) proofs in")
            faults += r.faults
            checked = r.checked
        }
        return AuditReport(faults: faults, proofsChecked: checked, counts: try ledger.counts(),
                           seconds: Date().timeIntervalSince(start), notes: notes)
    }
}

/// A running server's admin routes.
final class RemoteLedger: LedgerListing {
    let server: String
    let token: String
    let connection: HTTPConnection

    init(server: String, token: String, caFile: String?) throws {
        self.server = server
        self.token = token
        do { connection = try HTTPConnection(server, timeoutSeconds: 600, caFile: caFile, maxResponseBytes: 256 << 20) } catch { throw AdminError("\(error)") }
    }

    var description: String { server }

    private func get(_ path: String) throws -> [String: Any] {
        let r: HTTPConnection.Response
        do { r = try connection.get(path, headers: ["Authorization": "Bearer \(token)"]) } catch {
            throw AdminError("\(error) (check --server, and that zksettle-server is running)")
        }
        return try decode(r, path)
    }

    func decode(_ r: HTTPConnection.Response, _ path: String) throws -> [String: Any] {
        if r.status == 200 { return r.json as? [String: Any] ?? [:] }
        let envelope = ErrorEnvelope.explaining(r.body, status: r.status)
        // The server's words are shown, never obeyed: escaped before they reach a terminal.
        let code = DisplayText.escaped(envelope.code)
        let message = DisplayText.escaped(envelope.message)
        if code == "unauthorized" { throw AdminError("\(server) refused the admin token (\(message)): pass the token from the server's data directory, file admin-token") }
        if code == "not_found" { throw NotFound(message: message) }
        throw AdminError("\(server)\(path): \(code): \(message)")
    }

    struct NotFound: Error { let message: String }

    func counts() throws -> LedgerCounts { try LedgerCounts(json: try get("/v1/admin/stats")) }

    func nullifiers(batch: Int64?, since: Int64?, limit: Int, offset: Int) throws -> [NullifierRecord] {
        var records: [NullifierRecord] = []
        var offset = offset
        // The server pages at 10,000; ask for what is left until the limit or the end.
        while records.count < limit {
            var query = "limit=\(min(10_000, limit - records.count))&offset=\(offset)"
            if let batch { query += "&batch=\(batch)" }
            if let since { query += "&since=\(since)" }
            let page = try (get("/v1/admin/nullifiers?\(query)")["nullifiers"] as? [[String: Any]] ?? []).map(NullifierRecord.init(json:))
            records += page
            offset += page.count
            if page.isEmpty { break }
        }
        return records
    }

    func nullifier(_ nf: Fr) throws -> NullifierRecord? {
        let obj = try get("/v1/nullifiers/\(nf.decimalString)")
        return obj["spent"] as? Bool == true ? try NullifierRecord(json: obj) : nil
    }

    func batchHeaders(from: Int64, limit: Int) throws -> [BatchHeader] {
        try (get("/v1/admin/batches?from=\(from)&limit=\(min(limit, 10_000))")["batches"] as? [[String: Any]] ?? []).map(BatchHeader.init(json:))
    }

    func batchHeader(_ number: Int64) throws -> BatchHeader? {
        do { return try BatchHeader(json: try get("/v1/batches/\(number)")) } catch is NotFound { return nil }
    }

    func payoutID(forTransfer id: TransferID) throws -> Int64? {
        try payouts(pendingOnly: false).first { $0.transferID == id }?.id
    }

    func payouts(pendingOnly: Bool) throws -> [Payout] {
        try (get("/v1/admin/payouts?pending=\(pendingOnly)")["payouts"] as? [[String: Any]] ?? []).map(Payout.init(json:))
    }

    func markPaid(_ id: Int64) throws -> Int64 {
        let r: HTTPConnection.Response
        do { r = try connection.request("POST", "/v1/admin/payouts/\(id)/paid", headers: ["Authorization": "Bearer \(token)"], body: Data()) } catch {
            throw AdminError("\(error) (check --server, and that zksettle-server is running)")
        }
        do {
            let obj = try decode(r, "/v1/admin/payouts/\(id)/paid")
            return (obj["paid_at"] as? NSNumber)?.int64Value ?? 0
        } catch let e as NotFound {
            throw AdminError.notFound("\(e.message): list pending payouts with `zksettle-admin payouts list --pending`")
        }
    }

    func audit(proofs: Bool) throws -> AuditReport {
        if proofs { FileHandle.standardError.write(Data("the server is re-verifying every proof; this can take a while…\n".utf8)) }
        let obj = try get("/v1/admin/verify?proofs=\(proofs)")
        let faults = try (obj["faults"] as? [[String: Any]] ?? []).map(LedgerFault.init(json:))
        return AuditReport(faults: faults, proofsChecked: (obj["proofs_checked"] as? NSNumber)?.intValue,
                           counts: try LedgerCounts(json: obj["counts"] as? [String: Any] ?? [:]),
                           seconds: (obj["seconds"] as? NSNumber)?.doubleValue ?? 0)
    }
}
