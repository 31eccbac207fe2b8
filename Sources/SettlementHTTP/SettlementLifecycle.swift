import ServiceLifecycle
import Settlement

/// Runs the settlement pipeline as a service of the application's `ServiceGroup`.
///
/// Hummingbird shuts its services down in reverse order, so on SIGTERM/SIGINT the HTTP server
/// stops taking connections first and lets in-flight requests finish; those requests are
/// waiting for their batches, which this service then drains (verify, commit, reply) before
/// the verifier and sequencer threads stop. Nothing admitted is dropped.
public struct SettlementLifecycle: Service {
    public let service: SettlementService

    public init(service: SettlementService) { self.service = service }

    public func run() async throws {
        service.start()
        // Returns when graceful shutdown begins (or throws if the task is cancelled).
        try? await gracefulShutdown()
        await service.shutdown()
    }
}
