import Foundation
import Hummingbird
import Ledger
import Primitives
import Protocol
import Settlement

/// `/v1/admin/*`, behind the bearer token: counts, payouts, nullifiers, batch headers, the
/// ledger audit, deposit vouchers, and marking a payout paid (through `PayoutDesk`, the
/// ledger's second writer).
struct AdminController: Sendable {
    let service: SettlementService
    let parameters: PublicParameters
    /// Bearer token for `/v1/admin/*`; nil disables the admin routes.
    let adminToken: String?
    /// The operator's deposit key, which `POST /v1/admin/vouchers` signs with.
    let depositKey: Ed25519Key?
    let desk: PayoutDesk

    init(service: SettlementService, parameters: PublicParameters, adminToken: String?, depositKey: Ed25519Key?) {
        self.service = service; self.parameters = parameters; self.adminToken = adminToken; self.depositKey = depositKey
        desk = PayoutDesk(service: service)
    }

    static let maxPage = 10_000
    /// Longest validity a voucher may be issued with: ten years.
    static let maxVoucherSeconds = 10 * 366 * 86_400

    func authorize(_ request: Request) throws(APIError) {
        guard let expected = adminToken else {
            throw APIError.unauthorized("admin routes are disabled: start the server with --admin-token")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), constantTimeEqual(Array(header.dropFirst(7).utf8), Array(expected.utf8)) else {
            throw APIError.unauthorized("admin routes need \"Authorization: Bearer <admin token>\"")
        }
    }

    func stats() async throws -> Response {
        let c = try await service.ledgerRead { try $0.counts() }
        let s = service.treeSummary
        return jsonResponse(["version": ZKSettleVersion.string, "batches": c.batches, "transfers": c.transfers, "nullifiers": c.nullifiers, "leaves": c.leaves,
                             "pending_payouts": c.pendingPayouts, "vouchers_used": c.vouchersUsed, "last_batch": s.lastBatch,
                             "root": s.root.decimalString, "queue_depth": service.queueDepth, "fees_accrued": c.feesAccrued,
                             "probation_clients": service.probation.clients, "probation_queue": service.probation.queued])
    }

    func payouts(_ query: Hummingbird.Parameters) async throws -> Response {
        let pendingOnly = try queryBool(query, "pending")
        let payouts = try await service.ledgerRead { try $0.payouts(pendingOnly: pendingOnly) }
        return jsonResponse(["payouts": payouts.map(\.json)])
    }

    func nullifiers(_ query: Hummingbird.Parameters) async throws -> Response {
        let limit = try queryInt(query, "limit", default: 1000), offset = try queryInt(query, "offset", default: 0)
        let batch = try query.get("batch").map { _ in Int64(try queryInt(query, "batch", default: 0)) }
        let since = try query.get("since").map { _ in Int64(try queryInt(query, "since", default: 0)) }
        guard limit >= 1, limit <= Self.maxPage, offset >= 0, (batch ?? 1) >= 1, (since ?? 0) >= 0 else {
            throw APIError.malformed("limit must be between 1 and \(Self.maxPage), offset ≥ 0, batch ≥ 1, since ≥ 0")
        }
        let records = try await service.ledgerRead { try $0.nullifiers(batch: batch, since: since, limit: limit, offset: offset) }
        return jsonResponse(["nullifiers": records.map(\.json), "offset": offset, "next": offset + records.count])
    }

    func batches(_ query: Hummingbird.Parameters) async throws -> Response {
        let from = try queryInt(query, "from", default: 1), limit = try queryInt(query, "limit", default: 100)
        guard from >= 1, limit >= 1, limit <= Self.maxPage else {
            throw APIError.malformed("from must be ≥ 1 and limit between 1 and \(Self.maxPage)")
        }
        let headers = try await service.ledgerRead { try $0.batchHeaders(from: Int64(from), limit: limit) }
        return jsonResponse(["batches": headers.map(\.json), "next": from + headers.count])
    }

    /// The ledger audit (and with ?proofs=true every stored proof re-verified), on the reader
    /// threads: it reads the whole ledger in one read transaction while settlement goes on.
    func verify(_ query: Hummingbird.Parameters) async throws -> Response {
        let proofs = try queryBool(query, "proofs")
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
                return JSONWriter.encode(out)
            }
            return jsonResponse(data: body)
        } catch {
            throw APIError.storageFailure("the ledger could not be audited: \(error)")
        }
    }

    /// `POST /v1/admin/vouchers` `{"amount": N, "expires_in": S}`: one deposit voucher for N,
    /// valid S seconds (default a day), signed with the deposit key. The server keeps no record
    /// of what it issued: a voucher is a bearer permission, recorded once it is used.
    func issueVoucher(_ request: Request) async throws -> Response {
        guard let depositKey else { throw APIError.notFound("this server takes no deposits (started with --no-deposits): it issues no vouchers") }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 1024) } catch { throw APIError.payloadTooLarge }
        let order: VoucherOrder
        do { order = try VoucherOrder.decode(Data(buffer: buffer)) } catch {
            switch error { case .malformed(let s), .unauthorized(let s): throw APIError.malformed(s) }
        }
        let seconds = order.expiresIn ?? 86_400
        guard seconds >= 1, seconds <= Int64(Self.maxVoucherSeconds) else {
            throw APIError.malformed("expires_in: expected seconds between 1 and \(Self.maxVoucherSeconds) (ten years)")
        }
        let expiresAt = Int64(Date().timeIntervalSince1970) + seconds
        let voucher = DepositVoucher.issue(amount: UInt64(order.amount), expiresAt: expiresAt, key: depositKey)
        return jsonResponse(["voucher": voucher.text, "id": voucher.id, "amount": order.amount, "expires_at": expiresAt], status: .created)
    }

    func markPaid(_ text: String) async throws -> Response {
        guard let id = Int64(text) else { throw APIError.malformed("payout id: expected an integer") }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard try await desk.markPaid(id, at: now) else { throw APIError.notFound("no pending payout \(id)") }
        return jsonResponse(["id": id, "status": "paid", "paid_at": now])
    }
}
