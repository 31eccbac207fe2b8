import Foundation
import Groth16
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import Primitives
import Prometheus
import Protocol
import Settlement

/// What the server publishes at `GET /v1/params` and where its proving key is: the server's
/// side of the wire's `ServerParameters`, plus what only the server knows.
public struct PublicParameters: Sendable {
    public var circuitID: String
    public var verifyingKey: VerifyingKey
    /// The server's Ed25519 receipt key (32 bytes).
    public var receiptPublicKey: [UInt8]
    /// Path of the proving-key file served by `GET /v1/params/proving-key` (nil: not served).
    /// `SettlementAPI` reads it once, when it is made, and serves the bytes from memory.
    public var provingKeyPath: String?
    /// Which setup made the keys (`setup` and `transcript_hash` at `/v1/params`).
    public var setup: ServerParameters.Setup
    /// Says that the keys come from a development setup (unsafe for real funds).
    public var developmentKeys: Bool { setup == .development }

    public init(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8], provingKeyPath: String?, setup: ServerParameters.Setup) {
        self.circuitID = circuitID; self.verifyingKey = verifyingKey; self.receiptPublicKey = receiptPublicKey
        self.provingKeyPath = provingKeyPath; self.setup = setup
    }

    /// Keys of the development setup (`developmentKeys` must be true: a ceremony's keys are
    /// named with their transcript, `init(…, setup: .ceremony(transcriptHash:))`).
    public init(circuitID: String, verifyingKey: VerifyingKey, receiptPublicKey: [UInt8], provingKeyPath: String?, developmentKeys: Bool) {
        precondition(developmentKeys, "a ceremony's keys need init(setup: .ceremony(transcriptHash:))")
        self.init(circuitID: circuitID, verifyingKey: verifyingKey, receiptPublicKey: receiptPublicKey, provingKeyPath: provingKeyPath, setup: .development)
    }
}

/// HTTP API v1 (DESIGN.md section 6; `openapi.yaml` beside this file describes it).
///
/// One controller per resource: `TransfersController`, `TreeController` (tree, notes,
/// nullifiers, batches), `ParamsController` (parameters, proving key, health, metrics) and
/// `AdminController`; `Routes.swift` holds the one route table. The handlers are thin: decode,
/// call `SettlementService` or the ledger, encode with the wire's types (Protocol/Wire). Every
/// error leaves as `APIError`, so every failure has the documented JSON shape and a status.
/// Ledger calls (SQLite, blocking) run on the service's reader threads (`service.read`), never
/// on the threads of Swift's cooperative pool that run the handlers.
public struct SettlementAPI: Sendable {
    public let service: SettlementService
    public let parameters: PublicParameters
    let transfers: TransfersController
    let tree: TreeController
    let params: ParamsController
    let admin: AdminController

    /// - Parameters:
    ///   - adminToken: bearer token for `/v1/admin/*`; nil disables the admin routes.
    ///   - registry: where `/metrics` reads from (the registry the process bootstrapped
    ///     swift-metrics with).
    ///   - depositKey: the operator's deposit key, which `POST /v1/admin/vouchers` signs with
    ///     (nil: deposits are disabled, or this node issues no vouchers).
    public init(service: SettlementService, parameters: PublicParameters, adminToken: String?, registry: PrometheusCollectorRegistry,
                depositKey: Ed25519Key? = nil) {
        self.service = service; self.parameters = parameters
        transfers = TransfersController(service: service)
        tree = TreeController(service: service)
        params = ParamsController(service: service, parameters: parameters, registry: registry)
        admin = AdminController(service: service, parameters: parameters, adminToken: adminToken, depositKey: depositKey)
    }

    public static let voucherHeader = HTTPField.Name(TransferBody.voucherHeader)!

    /// A router with the API and JSON errors for everything else (`RouterErrorMiddleware`). Its
    /// context knows each request's source address (`client(of:)`).
    public func makeRouter() -> Router<SettlementRequestContext> {
        let router = Router(context: SettlementRequestContext.self)
        router.middlewares.add(RouterErrorMiddleware())
        addRoutes(to: router)
        return router
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

// MARK: Plumbing shared by the controllers

/// JSON's safe integers: what openapi.yaml allows and every client can represent.
let maxSafeInteger: UInt = (1 << 53) - 1

/// An integer query parameter (`value` when absent), at most 2^53 - 1 in magnitude.
func queryInt(_ query: Hummingbird.Parameters, _ name: String, default value: Int) throws(APIError) -> Int {
    guard let text = query.get(name) else { return value }
    guard let v = Int(text), v.magnitude <= maxSafeInteger else {
        throw APIError.malformed("\(name): expected an integer of magnitude at most 2^53 - 1")
    }
    return v
}

/// A `true`/`false` query parameter (false when absent); anything else is malformed, not
/// silently false.
func queryBool(_ query: Hummingbird.Parameters, _ name: String) throws(APIError) -> Bool {
    switch query.get(name) {
    case nil, "false": return false
    case "true": return true
    case let other?: throw APIError.malformed("\(name): expected true or false, not \(other.prefix(40))")
    }
}

extension SettlementService {
    /// A ledger call on the service's reader threads (SQLite blocks; the handlers' threads must
    /// not), its failure reported as `storage_failure`.
    func ledgerRead<T: Sendable>(_ body: @escaping @Sendable (any Ledger) throws -> T) async throws(APIError) -> T {
        do { return try await read(body) } catch let e as APIError { throw e } catch {
            throw APIError.storageFailure("the ledger could not be read: \(error)")
        }
    }
}
