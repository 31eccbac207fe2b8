import BN254
import Foundation
import Groth16
import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import Primitives
import Prometheus
import Protocol
import Settlement

/// What `GET /v1/params` publishes: everything a wallet needs to prove and to check receipts.
public struct PublicParameters: Sendable {
    public var circuitID: String
    public var verifyingKey: VerifyingKey
    /// The server's Ed25519 receipt key (32 bytes).
    public var receiptPublicKey: [UInt8]
    /// Path of the proving-key file served by `GET /v1/params/proving-key` (nil: not served).
    /// `SettlementAPI` reads it once, when it is made, and serves the bytes from memory.
    public var provingKeyPath: String?
    /// Says that the keys come from a development setup (unsafe for real funds).
    public var developmentKeys: Bool

    public init(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8], provingKeyPath: String?, developmentKeys: Bool) {
        self.circuitID = circuitID; self.verifyingKey = verifyingKey; self.receiptPublicKey = receiptPublicKey
        self.provingKeyPath = provingKeyPath; self.developmentKeys = developmentKeys
    }
}

/// HTTP API v1 (DESIGN.md section 6; `openapi.yaml` beside this file describes it).
///
/// The handlers are thin: decode, call `SettlementService` or the ledger, encode. Every error
/// leaves through `APIError`, so every failure has the documented JSON shape and a status.
/// Ledger calls (SQLite, blocking) run on the service's reader threads (`service.read`), never
/// on the threads of Swift's cooperative pool that run the handlers.
public struct SettlementAPI: Sendable {
    public let service: SettlementService
    public let parameters: PublicParameters
    /// Bearer token for `/v1/admin/*`; nil disables the admin routes.
    public let adminToken: String?
    /// The operator's deposit key, which `POST /v1/admin/vouchers` signs with (nil: deposits
    /// are disabled, or this node issues no vouchers).
    public let depositKey: Ed25519Key?
    /// Where `/metrics` reads from (the registry the process bootstrapped swift-metrics with).
    public let registry: PrometheusCollectorRegistry

    /// The `GET /v1/params` body: fixed for the life of the server, so encoded once.
    let paramsBody: Data
    /// The proving key's bytes, read once from `parameters.provingKeyPath` (nil: not served).
    /// Every download shares this buffer: no disk read, no copy per request.
    let provingKey: ByteBuffer?

    public init(service: SettlementService, parameters: PublicParameters, adminToken: String?, registry: PrometheusCollectorRegistry,
                depositKey: Ed25519Key? = nil) {
        self.service = service; self.parameters = parameters; self.adminToken = adminToken; self.registry = registry
        self.depositKey = depositKey
        provingKey = parameters.provingKeyPath.flatMap { FileManager.default.contents(atPath: $0) }.map { ByteBuffer(bytes: $0) }
        paramsBody = encodeJSON(Self.paramsJSON(parameters, service.config, treeCapacity: service.treeCapacity, provingKeyAvailable: provingKey != nil))
    }

    public static let voucherHeader = HTTPField.Name(TransferBody.voucherHeader)!

    /// Every route as (method, pattern), as `addRoutes` registers them and `openapi.yaml`
    /// documents them (a test holds the three together). The router answers 404 for a known
    /// path with another method; this table turns that into 405 with an `Allow` header.
    public static let routeTable: [(method: String, path: String)] = [
        ("POST", "/v1/transfers"), ("GET", "/v1/transfers/:id"), ("GET", "/v1/tree"),
        ("GET", "/v1/tree/path/:leaf"), ("GET", "/v1/tree/subtrees"), ("GET", "/v1/notes"), ("GET", "/v1/nullifiers"),
        ("GET", "/v1/nullifiers/:nf"),
        ("GET", "/v1/batches/:n"), ("GET", "/v1/params"), ("GET", "/v1/params/proving-key"),
        ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/v1/admin/stats"), ("GET", "/v1/admin/payouts"),
        ("POST", "/v1/admin/payouts/:id/paid"), ("GET", "/v1/admin/nullifiers"), ("GET", "/v1/admin/batches"),
        ("GET", "/v1/admin/verify"), ("POST", "/v1/admin/vouchers"),
    ]

    /// The methods the route table allows on a concrete path (empty: no such path).
    static func methods(forPath path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return routeTable.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: true)
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }

    // MARK: Routes

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/v1/transfers") { request, context in
            await respond { try await postTransfer(request, client: Self.client(of: context)) }
        }
        router.get("/v1/transfers/:id") { _, context in await respond { try await getTransfer(context.parameters.get("id") ?? "") } }
        router.get("/v1/tree") { _, _ in await respond { getTree() } }
        router.get("/v1/tree/path/:leaf") { _, context in await respond { try await getPath(context.parameters.get("leaf") ?? "") } }
        router.get("/v1/notes") { request, _ in await respond { try await getNotes(request.uri.queryParameters) } }
        router.get("/v1/tree/subtrees") { request, _ in await respond { try await getSubtrees(request.uri.queryParameters) } }
        router.get("/v1/nullifiers") { request, _ in await respond { try await getSpends(request.uri.queryParameters) } }
        router.get("/v1/nullifiers/:nf") { _, context in await respond { try await getNullifier(context.parameters.get("nf") ?? "") } }
        router.get("/v1/batches/:n") { _, context in await respond { try await getBatch(context.parameters.get("n") ?? "") } }
        router.get("/v1/params") { _, _ in await respond { getParams() } }
        router.get("/v1/params/proving-key") { _, _ in await respond { try getProvingKey() } }
        router.get("/healthz") { _, _ in await respond { healthz() } }
        router.get("/metrics") { _, _ in metrics() }
        router.get("/v1/admin/stats") { request, _ in await respond { try authorize(request); return try await adminStats() } }
        router.get("/v1/admin/payouts") { request, _ in
            await respond { try authorize(request); return try await adminPayouts(request.uri.queryParameters) }
        }
        router.get("/v1/admin/nullifiers") { request, _ in
            await respond { try authorize(request); return try await adminNullifiers(request.uri.queryParameters) }
        }
        router.get("/v1/admin/batches") { request, _ in
            await respond { try authorize(request); return try await adminBatches(request.uri.queryParameters) }
        }
        router.get("/v1/admin/verify") { request, _ in
            await respond { try authorize(request); return try await adminVerify(request.uri.queryParameters) }
        }
        router.post("/v1/admin/vouchers") { request, _ in
            await respond { try authorize(request); return try await adminIssueVoucher(request) }
        }
        router.post("/v1/admin/payouts/:id/paid") { request, context in
            await respond { try authorize(request); return try await adminMarkPaid(context.parameters.get("id") ?? "") }
        }
    }

    /// Who sent a request, for the per-client admission limits: its source address, an IPv6
    /// one cut to its /64 (one host's usual allocation). nil for a context that does not know
    /// its peer (no per-client limits then).
    static func client<Context: RequestContext>(of context: Context) -> String? {
        client(address: (context as? any RemoteAddressRequestContext)?.remoteAddress)
    }

    /// The client a source address counts as (see `client(of:)`).
    public static func client(address: SocketAddress?) -> String? {
        guard let address else { return nil }
        switch address {
        case .v4: return address.ipAddress
        case .v6(let a):
            var sin6 = a.address.sin6_addr
            let bytes = withUnsafeBytes(of: &sin6) { Array($0) }
            // An IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is its IPv4 address: cut
            // to /64, every IPv4 client would be one.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":") + "::/64"
        case .unixDomainSocket: return "unix"
        }
    }

    /// A router with the API and a JSON 404 for everything else. Its context knows each
    /// request's source address (`client(of:)`).
    public func makeRouter() -> Router<SettlementRequestContext> {
        let router = Router(context: SettlementRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        addRoutes(to: router)
        return router
    }

    // MARK: Transfers

    func postTransfer(_ request: Request, client: String? = nil) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > TransferBody.maxBytes {
            throw APIError.payloadTooLarge
        }
        let buffer = try await collectBody(request)
        let wait = request.uri.queryParameters.get("wait").map { $0 != "false" && $0 != "0" } ?? true
        let transfer = try decodeTransfer(buffer, voucher: request.headers[Self.voucherHeader])
        let id = transfer.id
        // Admission first, with or without wait: a refusal (unknown root, double spend, a full
        // queue, …) is always answered, never lost behind a 202.
        let pending: PendingSettlement
        switch await service.admit(transfer, client: client) {
        case .success(let p): pending = p
        case .failure(let rejection): throw APIError(rejection)
        }
        if !wait, pending.outcome == nil {
            // Admitted; settlement goes on without the client. GET /v1/transfers/{id} tells the outcome.
            return jsonResponse(["status": "pending", "transfer_id": id.hex], status: .accepted)
        }
        // The admitted transfer settles whether or not this client stays to hear it.
        switch await pending.wait() {
        case .success(let settled): return jsonResponse(Self.settlementJSON(settled))
        case .failure(let rejection): throw APIError(rejection)
        }
    }

    func collectBody(_ request: Request) async throws -> ByteBuffer {
        do { return try await request.body.collect(upTo: TransferBody.maxBytes) } catch {
            if let e = error as? HTTPResponseError, e.status == .contentTooLarge { throw APIError.payloadTooLarge }
            throw error
        }
    }

    func decodeTransfer(_ buffer: ByteBuffer, voucher: String?) throws(APIError) -> TransferRequest {
        do { return try TransferBody.decode(Data(buffer: buffer), voucher: voucher) } catch { throw APIError(Rejection(error)) }
    }

    func getTransfer(_ idText: String) async throws -> Response {
        guard let id = TransferID(hex: idText.lowercased()) else {
            throw APIError.malformed("transfer id: expected 64 hex digits")
        }
        let status = try await storage { try await service.transferStatus(of: id) }
        switch status {
        case .settled(let t): return jsonResponse(Self.settlementJSON(t))
        case .pending: return jsonResponse(["status": "pending", "transfer_id": id.hex])
        case .unknown: throw APIError.notFound("no transfer \(id.hex) is settled or in flight here")
        }
    }

    /// The answer for a settled transfer: the signed receipt and the public effects.
    public static func settlementJSON(_ t: SettledTransfer) -> [String: Any] {
        [
            "status": "settled",
            "transfer_id": t.id.hex,
            "receipt": receiptJSON(t.receipt),
            "public_inputs": t.publicInputs.array.map(\.decimalString),
            "ext_amount": String(t.extData.extAmount),
            "fee": String(t.extData.fee),
        ]
    }

    /// A receipt in JSON; `signature` is Ed25519 over `Receipt.signedBytes` (hex).
    public static func receiptJSON(_ r: Receipt) -> [String: Any] {
        [
            "transfer_id": Hex.encode(r.transferID),
            "batch": r.batch,
            "tree": r.tree,
            "leaf_indices": r.leafIndices,
            "root": r.root.decimalString,
            "settled_at": r.settledAt,
            "signature": Hex.encode(r.signature),
        ]
    }

    // MARK: Tree, notes, nullifiers, batches

    func getTree() -> Response {
        let s = service.treeSummary
        return jsonResponse([
            "root": s.root.decimalString, "leaf_count": s.leafCount, "depth": MerkleTree.depth,
            "tree": s.tree, "tree_leaf_count": s.treeLeafCount, "tree_capacity": s.capacity,
            "last_batch": s.lastBatch, "accepted_roots": s.acceptedRoots.map(\.decimalString),
        ])
    }

    /// The path of a leaf (global index) in its own tree; a leaf of a closed tree is answered
    /// from that tree rebuilt off the ledger (on the reader threads).
    func getPath(_ text: String) async throws -> Response {
        guard let index = Int64(text), index >= 0 else { throw APIError.malformed("leaf index: expected a non-negative integer") }
        let service = self.service
        let p: (tree: Int64, position: Int, leaf: Fr, root: Fr, path: [Fr])
        do {
            p = try await service.read { _ in try service.path(leafIndex: index) }
        } catch let e as MerkleTreeError {
            throw APIError.notFound(e.description)
        }
        return jsonResponse([
            "leaf_index": index, "tree": p.tree, "position": p.position,
            "commitment": p.leaf.decimalString, "root": p.root.decimalString, "path": p.path.map(\.decimalString),
        ])
    }

    static let maxNotesPerPage = 10_000
    /// The largest leaf index a query may start from: leaves are numbered across trees
    /// (issue 14), so the bound is no tree's capacity; 2^40 is a million full trees.
    static let maxLeafIndex = 1 << 40

    func getNotes(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: 1000)
        guard from >= 0, from <= Self.maxLeafIndex, limit >= 1, limit <= Self.maxNotesPerPage else {
            throw APIError.malformed("from must be between 0 and \(Self.maxLeafIndex) (leaves are numbered across trees) and limit between 1 and \(Self.maxNotesPerPage)")
        }
        let leaves = try await ledgerRead { try $0.leaves(from: Int64(from), limit: limit) }
        let capacity = Int64(service.treeCapacity)
        let notes: [[String: Any]] = leaves.map {
            ["leaf_index": $0.index, "tree": $0.index / capacity, "commitment": $0.commitment.decimalString,
             "encrypted_output": Data($0.encryptedOutput).base64EncodedString(), "batch": $0.batch]
        }
        let next = from + leaves.count
        return jsonResponse(["notes": notes, "next": next, "leaf_count": service.leafCount, "tree_capacity": capacity])
    }

    /// Nodes of the complete subtrees at one of `MerkleTree.publishedHeights` of one tree
    /// (`tree`, default the open one): the same answer for every wallet, from which each checks
    /// its notes and builds its own paths. A closed tree is rebuilt off the ledger once.
    func getSubtrees(_ query: Hummingbird.Parameters) async throws -> Response {
        let height = try queryInt(query, "height", default: MerkleTree.chunkHeight)
        guard MerkleTree.publishedHeights.contains(height) else {
            throw APIError.malformed("height must be one of \(MerkleTree.publishedHeights.map(String.init).joined(separator: ", "))")
        }
        // One bound for both heights (the document cannot tie it to the height): past the last
        // node at this height the page is simply empty.
        let bound = MerkleTree.nodes(atHeight: MerkleTree.publishedHeights.min()!)
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: min(MerkleTree.nodes(atHeight: height), Self.maxSubtreesPerPage))
        guard from >= 0, from <= bound, limit >= 1, limit <= Self.maxSubtreesPerPage else {
            throw APIError.malformed("from must be between 0 and \(bound) and limit between 1 and \(Self.maxSubtreesPerPage)")
        }
        var requested: Int64?
        if query.get("tree") != nil {
            let t = try queryInt(query, "tree", default: 0)
            guard t >= 0, t <= Self.maxLeafIndex else { throw APIError.malformed("tree must be between 0 and \(Self.maxLeafIndex)") }
            requested = Int64(t)
        }
        let tree = requested
        let service = self.service
        let page: (tree: Int64, roots: [Fr], complete: Int, leafCount: Int)
        do {
            page = try await service.read { _ in try service.subtreeRoots(tree: tree, height: height, from: from, limit: limit) }
        } catch let e as SettlementService.NoSuchTree {
            throw APIError.notFound(e.description)
        }
        return jsonResponse([
            "tree": page.tree, "height": height, "from": from, "roots": page.roots.map(\.decimalString),
            "complete": page.complete, "leaf_count": page.leafCount,
        ])
    }

    static let maxSubtreesPerPage = 10_000

    static let maxSpendsPerPage = 20_000

    /// Every spent nullifier in settlement order (`PublicSpend`), paged by whole transfers:
    /// wallets learn their spends by matching this list locally instead of asking about their
    /// own nullifiers. Columns rather than objects: a wallet reads one entry per spent note in
    /// the network, and parsing a million small objects costs several times a million strings.
    func getSpends(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 0)
        let limit = try queryInt(query, "limit", default: 1000)
        guard from >= 0, from <= Self.maxLeafIndex, from % 2 == 0, limit >= 2, limit <= Self.maxSpendsPerPage, limit % 2 == 0 else {
            throw APIError.malformed("from must be even, between 0 and \(Self.maxLeafIndex), and limit even, between 2 and \(Self.maxSpendsPerPage) (two nullifiers per transfer)")
        }
        let spends = try await ledgerRead { try $0.spends(from: Int64(from), limit: limit) }
        let transfers = stride(from: 0, to: spends.count - 1, by: 2).map { spends[$0] }
        return jsonResponse([
            "from": from, "next": from + 2 * transfers.count, "count": service.leafCount,
            "nullifiers": spends.prefix(2 * transfers.count).map(\.nullifier.decimalString),
            "transfer_ids": transfers.map(\.transferID.hex), "batches": transfers.map(\.batch),
            "ext_amounts": transfers.map { String($0.extAmount) },
        ])
    }

    func getNullifier(_ text: String) async throws -> Response {
        let nf: Fr
        do { nf = try Fr(decimal: text) } catch { throw APIError.malformed("nullifier: \(error) (expected a canonical decimal below r)") }
        guard let record = try await ledgerRead({ try $0.nullifier(nf) }) else {
            return jsonResponse(["nullifier": nf.decimalString, "spent": false])
        }
        return jsonResponse(record.json)
    }

    func getBatch(_ text: String) async throws -> Response {
        guard let n = Int64(text), n >= 1 else { throw APIError.malformed("batch number: expected an integer ≥ 1") }
        guard let h = try await ledgerRead({ try $0.batchHeader(n) }) else {
            throw APIError.notFound("no batch \(n) (the last is \(service.treeSummary.lastBatch))")
        }
        return jsonResponse(h.json)
    }

    // MARK: Parameters, health, metrics

    func getParams() -> Response { jsonResponse(data: paramsBody) }

    /// `root_window`: how many recent roots `/v1/tree` lists as `accepted_roots`. Every root
    /// the tree ever had is accepted as an anchor, not only those.
    static func paramsJSON(_ parameters: PublicParameters, _ config: SettlementConfig, treeCapacity: Int, provingKeyAvailable: Bool) -> [String: Any] {
        let vk = (try? JSONSerialization.jsonObject(with: SnarkJS.encode(parameters.verifyingKey))) ?? [:]
        var out: [String: Any] = [
            "protocol": "zksettle/v1",
            "circuit_id": parameters.circuitID,
            "verifying_key": vk,
            "tree_depth": MerkleTree.depth,
            "tree_capacity": treeCapacity,
            "root_window": config.rootWindow,
            "receipt_public_key": Hex.encode(parameters.receiptPublicKey),
            "deposits_enabled": config.depositPublicKey != nil,
            "max_batch": config.maxBatch,
            "min_fee": String(config.minFee),
            "development_keys": parameters.developmentKeys,
            "proving_key_available": provingKeyAvailable,
        ]
        if let key = config.depositPublicKey { out["deposit_public_key"] = Hex.encode(key) }
        if parameters.developmentKeys { out["warning"] = "development keys from a local setup: unsafe for real funds" }
        return out
    }

    /// The proving key from memory (read once at start; the file is never read again).
    func getProvingKey() throws -> Response {
        guard let provingKey else { throw APIError.notFound("this server does not serve its proving key") }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"transfer.zkspk\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: provingKey))
    }

    func healthz() -> Response {
        let s = service.treeSummary
        return jsonResponse(["status": "ok", "last_batch": s.lastBatch, "leaf_count": s.leafCount, "queue_depth": service.queueDepth])
    }

    func metrics() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    // MARK: Admin

    func authorize(_ request: Request) throws {
        guard let expected = adminToken else {
            throw APIError.unauthorized("admin routes are disabled: start the server with --admin-token")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), constantTimeEqual(Array(header.dropFirst(7).utf8), Array(expected.utf8)) else {
            throw APIError.unauthorized("admin routes need \"Authorization: Bearer <admin token>\"")
        }
    }

    func adminStats() async throws -> Response {
        let c = try await ledgerRead { try $0.counts() }
        let s = service.treeSummary
        return jsonResponse(["batches": c.batches, "transfers": c.transfers, "nullifiers": c.nullifiers, "leaves": c.leaves,
                     "pending_payouts": c.pendingPayouts, "vouchers_used": c.vouchersUsed, "last_batch": s.lastBatch, "root": s.root.decimalString,
                     "queue_depth": service.queueDepth, "fees_accrued": c.feesAccrued,
                     "probation_clients": service.probation.clients, "probation_queue": service.probation.queued])
    }

    func adminPayouts(_ query: Hummingbird.Parameters) async throws -> Response {
        let pendingOnly: Bool
        switch query.get("pending") {
        case nil, "false": pendingOnly = false
        case "true": pendingOnly = true
        case let other?: throw APIError.malformed("pending: expected true or false, not \(other.prefix(40))")
        }
        let payouts = try await ledgerRead { try $0.payouts(pendingOnly: pendingOnly) }
        return jsonResponse(["payouts": payouts.map(\.json)])
    }

    static let maxAdminPage = 10_000
    static let maxSafeInteger: UInt = (1 << 53) - 1

    func adminNullifiers(_ query: Hummingbird.Parameters) async throws -> Response {
        let limit = try queryInt(query, "limit", default: 1000), offset = try queryInt(query, "offset", default: 0)
        let batch = try query.get("batch").map { _ in Int64(try queryInt(query, "batch", default: 0)) }
        let since = try query.get("since").map { _ in Int64(try queryInt(query, "since", default: 0)) }
        guard limit >= 1, limit <= Self.maxAdminPage, offset >= 0, (batch ?? 1) >= 1, (since ?? 0) >= 0 else {
            throw APIError.malformed("limit must be between 1 and \(Self.maxAdminPage), offset ≥ 0, batch ≥ 1, since ≥ 0")
        }
        let records = try await ledgerRead { try $0.nullifiers(batch: batch, since: since, limit: limit, offset: offset) }
        return jsonResponse(["nullifiers": records.map(\.json), "offset": offset, "next": offset + records.count])
    }

    func adminBatches(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 1), limit = try queryInt(query, "limit", default: 100)
        guard from >= 1, limit >= 1, limit <= Self.maxAdminPage else {
            throw APIError.malformed("from must be ≥ 1 and limit between 1 and \(Self.maxAdminPage)")
        }
        let headers = try await ledgerRead { try $0.batchHeaders(from: Int64(from), limit: limit) }
        return jsonResponse(["batches": headers.map(\.json), "next": from + headers.count])
    }

    /// The ledger audit (and with ?proofs=true every stored proof re-verified), on the reader
    /// threads: it reads the whole ledger in one read transaction while settlement goes on.
    func adminVerify(_ query: Hummingbird.Parameters) async throws -> Response {
        let proofs: Bool
        switch query.get("proofs") {
        case nil, "false": proofs = false
        case "true": proofs = true
        case let other?: throw APIError.malformed("proofs: expected true or false, not \(other.prefix(40))")
        }
        let key = parameters.receiptPublicKey, vk = parameters.verifyingKey, depositPublicKey = service.config.depositPublicKey
        do {
            let body = try await service.read { ledger in
                let start = Date()
                var faults = try ledger.audit(receiptPublicKey: key, depositPublicKey: depositPublicKey)
                var checkedProofs: Int?
                if proofs {
                    let r = try ledger.auditProofs(verifyingKey: vk, chunk: 256, progress: { _, _ in })
                    faults += r.faults
                    checkedProofs = r.checked
                }
                var out: [String: Any] = ["ok": faults.isEmpty, "faults": faults.map(\.json), "counts": try ledger.counts().json,
                                          "seconds": Date().timeIntervalSince(start)]
                out["proofs_checked"] = checkedProofs ?? NSNull()
                return encodeJSON(out)
            }
            return jsonResponse(data: body)
        } catch {
            throw APIError(.internalServerError, "storage_failure", "the ledger could not be audited: \(error)")
        }
    }

    /// Longest validity a voucher may be issued with: ten years.
    static let maxVoucherSeconds = 10 * 366 * 86_400

    /// `POST /v1/admin/vouchers` `{"amount": N, "expires_in": S}`: one deposit voucher for N,
    /// valid S seconds (default a day), signed with the deposit key. The server keeps no record
    /// of what it issued: a voucher is a bearer permission, recorded once it is used.
    func adminIssueVoucher(_ request: Request) async throws -> Response {
        guard let depositKey else { throw APIError.notFound("this server takes no deposits (started with --no-deposits): it issues no vouchers") }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 1024) } catch { throw APIError.payloadTooLarge }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw APIError.malformed("the body must be a JSON object: {\"amount\": N, \"expires_in\": seconds}")
        }
        if let extra = obj.keys.first(where: { $0 != "amount" && $0 != "expires_in" }) {
            throw APIError.malformed("unknown field \"\(extra.prefix(40))\": expected amount and expires_in")
        }
        func integer(_ name: String) throws -> Int64? {
            guard let v = obj[name] else { return nil }
            guard let i = TransferBody.integer(v, Int64.self), i.magnitude <= UInt64(Self.maxSafeInteger) else {
                throw APIError.malformed("\(name): expected an integer of magnitude at most 2^53 - 1")
            }
            return i
        }
        guard let amount = try integer("amount"), amount >= 1 else { throw APIError.malformed("amount: expected an integer ≥ 1") }
        let seconds = try integer("expires_in") ?? 86_400
        guard seconds >= 1, seconds <= Int64(Self.maxVoucherSeconds) else {
            throw APIError.malformed("expires_in: expected seconds between 1 and \(Self.maxVoucherSeconds) (ten years)")
        }
        let expiresAt = Int64(Date().timeIntervalSince1970) + seconds
        let voucher = DepositVoucher.issue(amount: UInt64(amount), expiresAt: expiresAt, key: depositKey)
        return jsonResponse(["voucher": voucher.text, "id": voucher.id, "amount": amount, "expires_at": expiresAt], status: .created)
    }

    func adminMarkPaid(_ text: String) async throws -> Response {
        guard let id = Int64(text) else { throw APIError.malformed("payout id: expected an integer") }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard try await ledgerRead({ try $0.markPayoutPaid(id, at: now) }) else {
            throw APIError.notFound("no pending payout \(id)")
        }
        return jsonResponse(["id": id, "status": "paid", "paid_at": now])
    }

    // MARK: Plumbing

    func queryInt(_ query: Hummingbird.Parameters, _ name: String, default value: Int) throws -> Int {
        guard let text = query.get(name) else { return value }
        // JSON's safe integers: what openapi.yaml allows and every client can represent.
        guard let v = Int(text), v.magnitude <= Self.maxSafeInteger else {
            throw APIError.malformed("\(name): expected an integer of magnitude at most 2^53 - 1")
        }
        return v
    }

    /// Ledger reads: a failure is the server's fault, reported as `storage_failure`.
    func storage<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as APIError { throw e } catch {
            throw APIError(.internalServerError, "storage_failure", "the ledger could not be read: \(error)")
        }
    }

    /// A ledger call on the service's reader threads (SQLite blocks; the handlers' threads must
    /// not), its failure reported as `storage_failure`.
    func ledgerRead<T: Sendable>(_ body: @escaping @Sendable (any Ledger) throws -> T) async throws -> T {
        try await storage { try await service.read(body) }
    }
}

/// Runs a handler and turns any error into the API's JSON error shape.
func respond(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch let e as APIError { return e.response } catch {
        return APIError(.internalServerError, "internal", "internal error: \(error)").response
    }
}

/// Turns the router's own errors (unknown route, wrong method) into the API's JSON shape.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let e as APIError { return e.response } catch let e as HTTPResponseError {
            switch e.status.code {
            case 404:
                let allowed = SettlementAPI.methods(forPath: request.uri.path)
                guard !allowed.isEmpty else { return APIError.notFound("no route \(request.method) \(request.uri.path); see openapi.yaml").response }
                var response = APIError(.methodNotAllowed, "method_not_allowed",
                                        "\(request.method) is not allowed on \(request.uri.path) (allowed: \(allowed.joined(separator: ", ")))").response
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            case 405: return APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)").response
            case 413: return APIError.payloadTooLarge.response
            default: return APIError(e.status, "malformed", "\(e)").response
            }
        } catch {
            return APIError(.internalServerError, "internal", "internal error: \(error)").response
        }
    }
}

extension APIError {
    static let payloadTooLarge = APIError(.contentTooLarge, "payload_too_large", "the body is larger than \(TransferBody.maxBytes) bytes")

    var response: Response {
        var r = jsonResponse(json, status: status)
        if let s = retryAfter { r.headers[.retryAfter] = String(s) }
        return r
    }
}

func jsonResponse(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
    jsonResponse(data: encodeJSON(object), status: status)
}

/// Compact JSON with sorted keys. Written by hand because every settlement answers with one
/// and Foundation's JSONSerialization was about 9% of the server's time under load (perf).
/// Takes what the handlers build: strings, integers, doubles, booleans, null, arrays, objects.
func encodeJSON(_ object: [String: Any]) -> Data {
    var out = ""
    out.reserveCapacity(512)
    writeJSON(object, into: &out)
    return Data(out.utf8)
}

func writeJSON(_ value: Any, into out: inout String) {
    switch value {
    case let s as String: writeJSONString(s, into: &out)
    case let b as Bool: out += b ? "true" : "false"
    case let i as Int: out += String(i)
    case let i as Int64: out += String(i)
    case let i as Int32: out += String(i)
    case let u as UInt64: out += String(u)
    case let u as UInt: out += String(u)
    case let d as Double: out += d.isFinite ? "\(d)" : "null"
    case is NSNull: out += "null"
    case let n as NSNumber: out += n.stringValue
    case let a as [Any]:
        out += "["
        for (i, item) in a.enumerated() {
            if i > 0 { out += "," }
            writeJSON(item, into: &out)
        }
        out += "]"
    case let o as [String: Any]:
        out += "{"
        for (i, key) in o.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            writeJSONString(key, into: &out)
            out += ":"
            writeJSON(o[key]!, into: &out)
        }
        out += "}"
    default: writeJSONString("\(value)", into: &out)
    }
}

func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    out += "\""
}

func jsonResponse(data: Data, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}


/// The request context of `makeRouter`: Hummingbird's basic one plus the peer's address,
/// which the per-client admission limits of `POST /v1/transfers` key on.
public struct SettlementRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
