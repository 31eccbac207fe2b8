import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import Protocol
import Settlement

/// `GET /v1/params` (the wire's `ServerParameters`, encoded once at start), the proving key,
/// health and metrics: what does not change per request, or is not the ledger's.
struct ParamsController: Sendable {
    let service: SettlementService
    let registry: PrometheusCollectorRegistry
    /// The `GET /v1/params` body: fixed for the life of the server, so encoded once.
    let paramsBody: Data
    /// The proving key's bytes, read once from `parameters.provingKeyPath` (nil: not served).
    /// Every download shares this buffer: no disk read, no copy per request.
    let provingKeyBytes: ByteBuffer?

    init(service: SettlementService, parameters: PublicParameters, registry: PrometheusCollectorRegistry) {
        self.service = service; self.registry = registry
        provingKeyBytes = parameters.provingKeyPath.flatMap { FileManager.default.contents(atPath: $0) }.map { ByteBuffer(bytes: $0) }
        paramsBody = Self.published(parameters, service.config, treeCapacity: service.treeCapacity, provingKeyAvailable: provingKeyBytes != nil).encode()
    }

    /// What `GET /v1/params` publishes. `root_window` is how many recent roots `/v1/tree` lists
    /// as `accepted_roots`; every root the tree ever had is accepted as an anchor.
    static func published(_ parameters: PublicParameters, _ config: SettlementConfig, treeCapacity: Int, provingKeyAvailable: Bool) -> ServerParameters {
        var p = ServerParameters(circuitID: parameters.circuitID, verifyingKey: parameters.verifyingKey,
                                 receiptPublicKey: parameters.receiptPublicKey, minFee: config.minFee)
        p.treeCapacity = treeCapacity
        p.rootWindow = config.rootWindow
        p.maxBatch = config.maxBatch
        p.depositPublicKey = config.depositPublicKey
        p.setup = parameters.setup
        p.provingKeyAvailable = provingKeyAvailable
        return p
    }

    func params() -> Response { jsonResponse(data: paramsBody) }

    /// The proving key from memory (read once at start; the file is never read again).
    func provingKey() throws(APIError) -> Response {
        guard let provingKeyBytes else { throw APIError.notFound("this server does not serve its proving key") }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"transfer.zkspk\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: provingKeyBytes))
    }

    /// Up, and (on a shared PostgreSQL ledger) whether the database answers: a node that cannot
    /// reach it answers 503, so a load balancer sends wallets elsewhere.
    func healthz() async -> Response {
        let s = service.treeSummary
        var body: [String: Any] = ["status": "ok", "version": ZKSettleVersion.string, "last_batch": s.lastBatch, "leaf_count": s.leafCount, "queue_depth": service.queueDepth]
        guard service.config.sharedLedger else { return jsonResponse(body) }
        let reachable = (try? await service.read { try $0.lastBatchNumber() }) != nil
        body["database"] = reachable ? "ok" : "unreachable"
        if reachable { return jsonResponse(body) }
        body["status"] = "degraded"
        var response = jsonResponse(body)
        response.status = .serviceUnavailable
        response.headers[.retryAfter] = "1"
        return response
    }

    func metrics() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
