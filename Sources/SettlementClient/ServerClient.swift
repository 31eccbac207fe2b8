import BN254
import Foundation
import Groth16
import Protocol

/// A failure the wallet explains to its user: what happened and what to do about it.
public struct WalletError: Error, CustomStringConvertible {
    public let description: String
    /// The server's error code when the server refused something (`unknown_root`, …).
    public let code: String?
    public init(_ description: String, code: String? = nil) { self.description = description; self.code = code }
}

/// The server's API v1 as the wallet uses it, over one kept-alive `HTTPConnection`.
public final class ServerClient {
    public let base: String
    let connection: HTTPConnection

    /// `timeoutSeconds`: the longest one request may take, its answer included (a transfer's
    /// answer waits for its batch).
    public init(_ base: String, caFile: String? = nil, timeoutSeconds: Int = 120) throws {
        self.base = base
        do { connection = try HTTPConnection(base, timeoutSeconds: timeoutSeconds, caFile: caFile) } catch {
            throw WalletError("--server \(base): \(error) (expected e.g. http://127.0.0.1:8080 or https://host)")
        }
    }

    func call(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> HTTPConnection.Response {
        do {
            if method == "POST" { return try connection.post(path, body: body ?? Data(), headers: headers) }
            return try connection.get(path, headers: headers)
        } catch {
            throw WalletError("cannot reach the server at \(base): \(error). Check the address (--server URL), or ask the server's operator whether it is up.",
                              code: "unreachable")
        }
    }

    /// The body of a 200 response, or the server's error explained.
    func body(_ path: String) throws -> Data {
        let r = try call("GET", path)
        guard r.status == 200 else { throw Self.explain(r) }
        return r.body
    }

    /// A decoded answer, or an error that says the server's answer made no sense.
    func decode<T>(_ path: String, _ decoder: (Data) throws(ServerAnswer.Malformed) -> T) throws -> T {
        let data = try body(path)
        do { return try decoder(data) } catch {
            throw WalletError("the server's answer is malformed or inconsistent (\(base)): \(error.description)", code: "inconsistent")
        }
    }

    /// A refusal explained from the server's error envelope (`ErrorEnvelope`, decoded here once
    /// for the wallet).
    static func explain(_ r: HTTPConnection.Response) -> WalletError {
        let envelope = ErrorEnvelope.explaining(r.body, status: r.status)
        // The server's words are shown, never obeyed: escaped before they reach a terminal.
        let code = DisplayText.escaped(envelope.code)
        let message = DisplayText.escaped(envelope.message)
        let advice: String
        switch code {
        case "unknown_root": advice = "the tree moved on while proving; run the command again"
        case "double_spend": advice = "a note was already spent (is this key used by another wallet?); run `zkwallet sync` and try again"
        case "unauthorized": advice = "the server refused the deposit voucher: ask the operator for a voucher for exactly this amount (zksettle-admin deposits voucher --amount N)"
        case "voucher_used": advice = "nothing was deposited"
        case "overloaded", "unavailable": advice = "the server is busy; try again in \(r.headers["retry-after"] ?? "a few") s"
        case "invalid_proof": advice = "this proof verifies under the verifying key this wallet pinned, so the server is not judging by the parameters it published; do not use it until its operator explains"
        default: advice = "see the server's log for details"
        }
        return WalletError("the server refused (\(code), HTTP \(r.status)): \(message) — \(advice)", code: code)
    }

    /// A server's public parameters (`GET /v1/params`): what the wallet pins (the wire's
    /// `ServerParameters`).
    public typealias Params = ServerParameters

    public func params() throws -> Params {
        do { return try ServerParameters.decode(try body("/v1/params")) } catch let e as ServerAnswer.Malformed {
            throw WalletError("\(base) does not look like a zksettle server: \(e.description)")
        }
    }

    /// The largest proving key accepted (the transfer circuit's is about 5 MiB).
    public static let maxProvingKeyBytes = 256 << 20

    /// Streams the proving key into `file` (written whole, then renamed into place), reporting
    /// (received, expected) bytes.
    public func downloadProvingKey(to file: URL, progress: @escaping @Sendable (Int, Int?) -> Void) throws {
        let r: HTTPConnection.Response
        do { r = try connection.download("/v1/params/proving-key", to: file, maxBytes: Self.maxProvingKeyBytes, progress: progress) } catch {
            throw WalletError("downloading the proving key from \(base) failed: \(error)", code: "unreachable")
        }
        guard r.status == 200 else { throw Self.explain(r) }
    }

    public func tree() throws -> (root: Fr, leafCount: Int) {
        let t = try decode("/v1/tree", TreeAnswer.decode)
        return (t.root, t.leafCount)
    }

    public typealias EncryptedLeaf = ServerAnswer.EncryptedLeaf
    public typealias Spend = ServerAnswer.Spend

    /// A page of all notes from leaf `from` on (the same question from every wallet).
    public func notes(from: Int, limit: Int) throws -> ServerAnswer.NotesPage {
        try decode("/v1/notes?from=\(from)&limit=\(limit)") { data throws(ServerAnswer.Malformed) in
            try ServerAnswer.notesPage(data, from: from, limit: limit)
        }
    }

    /// A page of tree `tree`'s notes from position `from` on (the same question from every
    /// wallet): how wallets page a server of several open trees, and of one.
    public func notes(tree: Int, from: Int, limit: Int) throws -> ServerAnswer.NotesPage {
        try decode("/v1/notes?tree=\(tree)&from=\(from)&limit=\(limit)") { data throws(ServerAnswer.Malformed) in
            try ServerAnswer.treeNotesPage(data, tree: tree, from: from, limit: limit)
        }
    }

    /// Published nodes at `height` (5 or 10) of complete subtrees from `from` on, and how many
    /// complete subtrees there are. The same question from every wallet.
    public func subtrees(height: Int, from: Int, limit: Int, tree: Int = 0) throws -> (roots: [Fr], complete: Int) {
        try decode("/v1/tree/subtrees?height=\(height)&from=\(from)&limit=\(limit)&tree=\(tree)") { data throws(ServerAnswer.Malformed) in
            try ServerAnswer.subtrees(data, height: height, from: from, limit: limit, tree: tree)
        }
    }

    /// The public list of spent nullifiers from position `from` on, in settlement order.
    /// Every wallet pages through the same list and matches its own nullifiers locally.
    public func spends(from: Int, limit: Int) throws -> ServerAnswer.SpendsPage {
        try decode("/v1/nullifiers?from=\(from)&limit=\(limit)") { data throws(ServerAnswer.Malformed) in
            try ServerAnswer.spendsPage(data, from: from, limit: limit)
        }
    }

    /// The spent nullifiers of the transfers whose outputs lie in tree `tree`, from position
    /// `from` (even) of that tree on; `Spend.index` is global.
    public func spends(tree: Int, from: Int, limit: Int, capacity: Int) throws -> ServerAnswer.SpendsPage {
        try decode("/v1/nullifiers?tree=\(tree)&from=\(from)&limit=\(limit)") { data throws(ServerAnswer.Malformed) in
            try ServerAnswer.spendsPage(data, from: from, limit: limit, tree: tree, capacity: capacity)
        }
    }

    /// A batch header's root and leaf count (the root the wallet's own tree must reach).
    public func batch(_ number: Int64) throws -> (root: Fr, leafCount: Int, tree: Int) {
        try decode("/v1/batches/\(number)") { data throws(ServerAnswer.Malformed) in try ServerAnswer.batch(data, number: number) }
    }

    // There is deliberately no call for a path (`/v1/tree/path/{leaf}`), a nullifier
    // (`/v1/nullifiers/{nf}`) or another's transfer: each would name this wallet's notes.

    /// 200 for known transfers, 404 for unknown ones.
    public func transferStatus(_ id: String) throws -> Int { try call("GET", "/v1/transfers/\(id)").status }

    /// What became of this wallet's own transfer `id`: its settlement (receipt still to be
    /// checked), `.inFlight`, or `.unknown` (404: it never reached the server, or was refused).
    public enum TransferOutcome { case settled(SettlementAnswer), inFlight, unknown }
    public func transferOutcome(_ id: String) throws -> TransferOutcome {
        let r = try call("GET", "/v1/transfers/\(id)")
        if r.status == 404 { return .unknown }
        guard r.status == 200 else { throw Self.explain(r) }
        if let answer = try? SettlementAnswer.decode(r.body) { return .settled(answer) }
        return .inFlight
    }

    /// Posts a transfer body and waits for its settlement: the answer with its receipt, still
    /// to be checked against the pinned key (`SettlementAnswer.checkReceipt`). A 200 without a
    /// readable receipt is `unreadable_receipt`: the transfer may have settled.
    public func submit(_ body: Data, voucher: DepositVoucher?) throws -> SettlementAnswer {
        var headers: [String: String] = [:]
        if let voucher { headers[TransferBody.voucherHeader] = voucher.text }
        let r = try call("POST", "/v1/transfers", body: body, headers: headers)
        guard r.status == 200 else { throw Self.explain(r) }
        do { return try SettlementAnswer.decode(r.body) } catch {
            throw WalletError("the server answered without a readable receipt (\(error.description)); run `zkwallet sync` to see whether the transfer settled",
                              code: "unreadable_receipt")
        }
    }
}
