import Foundation
import Hummingbird
import Ledger
import NIOCore
import Protocol
import Settlement

/// `POST /v1/transfers` and `GET /v1/transfers/{id}`: the transfer body in, the settlement
/// answer (`SettlementAnswer`, the signed receipt) or a pending answer out.
struct TransfersController: Sendable {
    let service: SettlementService

    /// Decodes, admits and (unless `?wait=false`) waits for the transfer's batch.
    func post(_ request: Request, client: String?) async throws(APIError) -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > TransferBody.maxBytes {
            throw APIError.payloadTooLarge
        }
        let buffer = try await collectBody(request)
        let wait = request.uri.queryParameters.get("wait").map { $0 != "false" && $0 != "0" } ?? true
        let transfer = try decode(buffer, voucher: request.headers[SettlementAPI.voucherHeader])
        // Admission first, with or without wait: a refusal (unknown root, double spend, a full
        // queue, …) is always answered, never lost behind a 202.
        let pending: PendingSettlement
        switch await service.admit(transfer, client: client) {
        case .success(let p): pending = p
        case .failure(let rejection): throw APIError(rejection)
        }
        if !wait, pending.outcome == nil {
            // Admitted; settlement goes on without the client. GET /v1/transfers/{id} tells the outcome.
            return jsonResponse(data: PendingAnswer(transferID: transfer.id).encode(), status: .accepted)
        }
        // The admitted transfer settles whether or not this client stays to hear it.
        switch await pending.wait() {
        case .success(let settled): return jsonResponse(data: await answer(settled).encode())
        case .failure(let rejection): throw APIError(rejection)
        }
    }

    func collectBody(_ request: Request) async throws(APIError) -> ByteBuffer {
        do { return try await request.body.collect(upTo: TransferBody.maxBytes) } catch {
            if let e = error as? any HTTPResponseError, e.status == .contentTooLarge { throw APIError.payloadTooLarge }
            throw APIError.internal(error)
        }
    }

    func decode(_ buffer: ByteBuffer, voucher: String?) throws(APIError) -> TransferRequest {
        do { return try TransferBody.decode(Data(buffer: buffer), voucher: voucher) } catch { throw APIError(Rejection(error)) }
    }

    /// The settlement answer; a withdrawal's names its payout (one indexed read; if that read
    /// fails the answer goes without it: the transfer settled either way).
    func answer(_ t: SettledTransfer) async -> SettlementAnswer {
        guard t.extData.extAmount < 0 else { return SettlementAnswer(t) }
        let id = t.id
        let payout = try? await service.ledgerRead { try $0.payoutID(forTransfer: id) }
        return SettlementAnswer(t, payoutID: payout ?? nil)
    }

    func get(_ idText: String) async throws(APIError) -> Response {
        guard let id = TransferID(hex: idText.lowercased()) else {
            throw APIError.malformed("transfer id: expected 64 hex digits")
        }
        let status: SettlementService.TransferStatus
        do { status = try await service.transferStatus(of: id) } catch {
            throw APIError.storageFailure("the ledger could not be read: \(error)")
        }
        switch status {
        case .settled(let t): return jsonResponse(data: await answer(t).encode())
        case .pending: return jsonResponse(data: PendingAnswer(transferID: id).encode())
        case .unknown: throw APIError.notFound("no transfer \(id.hex) is settled or in flight here")
        }
    }
}

extension SettlementAnswer {
    /// The answer for a settled transfer: its receipt and public effects.
    init(_ t: SettledTransfer, payoutID: Int64? = nil) {
        self.init(receipt: t.receipt, publicInputs: t.publicInputs.array, extAmount: t.extData.extAmount, fee: t.extData.fee, payoutID: payoutID)
    }
}
