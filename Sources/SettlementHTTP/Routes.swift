import HTTPTypes
import Hummingbird

extension SettlementAPI {
    /// What a handler gets besides the request: the path's parameters and who sent it.
    struct RouteInput: Sendable {
        let parameters: Parameters
        /// The client the per-client admission limits count (`SettlementAPI.client(of:)`).
        let client: String?

        func parameter(_ name: String) -> String { parameters.get(name) ?? "" }
    }

    /// One route: method, pattern, whether it needs the admin token, and its handler.
    struct Route: Sendable {
        let method: String
        let path: String
        let admin: Bool
        /// The answer reads the settled state: on a shared ledger the node first catches up
        /// with what other nodes committed (`SettlementService.catchUpWithLedger`).
        let fresh: Bool
        let handle: @Sendable (SettlementAPI, Request, RouteInput) async throws -> Response

        init(_ method: String, _ path: String, admin: Bool = false, fresh: Bool = false,
             _ handle: @escaping @Sendable (SettlementAPI, Request, RouteInput) async throws -> Response) {
            self.method = method; self.path = path; self.admin = admin; self.fresh = fresh; self.handle = handle
        }
    }

    /// Every route, written once: `addRoutes` registers them, `methods(forPath:)` answers 405
    /// from them, and a test holds them equal to the operations of `openapi.yaml`.
    static let routes: [Route] = [
        Route("POST", "/v1/transfers") { api, request, input in try await api.transfers.post(request, client: input.client) },
        Route("GET", "/v1/transfers/:id") { api, _, input in try await api.transfers.get(input.parameter("id")) },
        Route("GET", "/v1/tree", fresh: true) { api, _, _ in api.tree.tree() },
        Route("GET", "/v1/tree/path/:leaf", fresh: true) { api, _, input in try await api.tree.path(input.parameter("leaf")) },
        Route("GET", "/v1/tree/subtrees", fresh: true) { api, request, _ in try await api.tree.subtrees(request.uri.queryParameters) },
        Route("GET", "/v1/notes", fresh: true) { api, request, _ in try await api.tree.notes(request.uri.queryParameters) },
        Route("GET", "/v1/nullifiers", fresh: true) { api, request, _ in try await api.tree.spends(request.uri.queryParameters) },
        Route("GET", "/v1/nullifiers/:nf", fresh: true) { api, _, input in try await api.tree.nullifier(input.parameter("nf")) },
        Route("GET", "/v1/batches/:n", fresh: true) { api, _, input in try await api.tree.batch(input.parameter("n")) },
        Route("GET", "/v1/params") { api, _, _ in api.params.params() },
        Route("GET", "/v1/params/proving-key") { api, _, _ in try api.params.provingKey() },
        Route("GET", "/healthz", fresh: true) { api, _, _ in await api.params.healthz() },
        Route("GET", "/metrics") { api, _, _ in api.params.metrics() },
        Route("GET", "/v1/admin/stats", admin: true, fresh: true) { api, _, _ in try await api.admin.stats() },
        Route("GET", "/v1/admin/payouts", admin: true) { api, request, _ in try await api.admin.payouts(request.uri.queryParameters) },
        Route("POST", "/v1/admin/payouts/:id/paid", admin: true) { api, _, input in try await api.admin.markPaid(input.parameter("id")) },
        Route("GET", "/v1/admin/nullifiers", admin: true) { api, request, _ in try await api.admin.nullifiers(request.uri.queryParameters) },
        Route("GET", "/v1/admin/batches", admin: true) { api, request, _ in try await api.admin.batches(request.uri.queryParameters) },
        Route("GET", "/v1/admin/verify", admin: true) { api, request, _ in try await api.admin.verify(request.uri.queryParameters) },
        Route("POST", "/v1/admin/vouchers", admin: true) { api, request, _ in try await api.admin.issueVoucher(request) },
    ]

    /// Every route as (method, pattern), as `openapi.yaml` documents them.
    public static var routeTable: [(method: String, path: String)] { routes.map { ($0.method, $0.path) } }

    /// The methods the route table allows on a concrete path (empty: no such path).
    static func methods(forPath path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: true)
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }

    /// Registers every route of the table. A handler's `APIError` is written by Hummingbird
    /// (`HTTPResponseError`), any other error as `internal`; admin routes check the bearer
    /// token first.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for route in Self.routes {
            router.on(RouterPath(route.path), method: HTTPRequest.Method(route.method)!) { request, context in
                do {
                    if route.admin { try admin.authorize(request) }
                    if route.fresh { await service.catchUpWithLedger() }
                    return try await route.handle(self, request, RouteInput(parameters: context.parameters, client: Self.client(of: context)))
                } catch let e as APIError { throw e } catch {
                    throw APIError.internal(error)
                }
            }
        }
    }
}

/// Turns the router's own errors and anything else a handler lets escape into `APIError`: a
/// known path asked with another method is 405 with `Allow` (from the route table), an unknown
/// path 404, a body over the limit 413, the rest `internal`.
struct RouterErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let e as APIError { throw e } catch let e as any HTTPResponseError {
            switch e.status.code {
            case 404:
                let allowed = SettlementAPI.methods(forPath: request.uri.path)
                guard !allowed.isEmpty else { throw APIError.notFound("no route \(request.method) \(request.uri.path); see openapi.yaml") }
                var response = APIError.methodNotAllowed(
                    "\(request.method) is not allowed on \(request.uri.path) (allowed: \(allowed.joined(separator: ", ")))").response
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            case 405: throw APIError.methodNotAllowed("\(request.method) is not allowed on \(request.uri.path)")
            case 413: throw APIError.payloadTooLarge
            default: throw APIError(e.status, "malformed", "\(e)")
            }
        } catch {
            throw APIError.internal(error)
        }
    }
}
