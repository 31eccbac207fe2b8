import Foundation
import Ledger
import Settlement

/// The ledger's second writer. The settlement pipeline writes batches; this desk writes one
/// thing only: that a pending payout (a withdrawal's `ext_amount` < 0) was paid out off-ledger
/// (`POST /v1/admin/payouts/{id}/paid`). The write touches the payouts table alone, never a
/// batch, a leaf or a nullifier, so it cannot race the pipeline's commits; it runs on the
/// service's reader threads like every other ledger call of the HTTP layer.
struct PayoutDesk: Sendable {
    let service: SettlementService

    /// Marks payout `id` paid at `now` (Unix milliseconds). false: no pending payout `id`.
    func markPaid(_ id: Int64, at now: Int64) async throws(APIError) -> Bool {
        do { return try await service.read { try $0.markPayoutPaid(id, at: now) } } catch {
            throw APIError.storageFailure("the ledger could not be written: \(error)")
        }
    }
}
