import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Protocol
import Settlement

/// An error as the API reports it: `{"error": {"code": "...", "message": "..."}}` (the wire's
/// `ErrorEnvelope`) with a status. A handler throws it and Hummingbird writes it
/// (`HTTPResponseError`); `RouterErrorMiddleware` turns the router's own errors into one.
///
/// The codes are a closed list, the one in `openapi.yaml` (a test holds them equal): the
/// settlement rejections (`Rejection.code`) plus the transport's own (`APIError.transportCodes`).
public struct APIError: HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Seconds for a `Retry-After` header (503 and 429 answers).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status; self.code = code; self.message = message; self.retryAfter = retryAfter
    }

    public static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    public static func malformed(_ message: String) -> APIError { APIError(.badRequest, "malformed", message) }
    public static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }
    static func methodNotAllowed(_ message: String) -> APIError { APIError(.methodNotAllowed, "method_not_allowed", message) }
    static func `internal`(_ error: any Error) -> APIError { APIError(.internalServerError, "internal", "internal error: \(error)") }
    static func storageFailure(_ message: String) -> APIError { APIError(.internalServerError, "storage_failure", message) }
    static let payloadTooLarge = APIError(.contentTooLarge, "payload_too_large", "the body is larger than \(TransferBody.maxBytes) bytes")

    /// One error of each code only the HTTP layer answers with (every other code is a
    /// `Rejection.code`); a test holds these and the rejections equal to openapi.yaml's list.
    public static let transportErrors: [APIError] = [
        notFound(""), methodNotAllowed(""), payloadTooLarge, APIError.internal(CancellationError()),
    ]
    public static var transportCodes: [String] { transportErrors.map(\.code) }

    /// The one place where settlement rejections become HTTP statuses.
    public init(_ rejection: Rejection) {
        let message = rejection.description
        switch rejection {
        case .malformed: self.init(.badRequest, rejection.code, message)
        case .invalidProof: self.init(.unprocessableContent, rejection.code, message)
        case .unknownRoot: self.init(.conflict, rejection.code, message)
        case .doubleSpend: self.init(.conflict, rejection.code, message)
        case .voucherUsed: self.init(.conflict, rejection.code, message)
        case .badExtData: self.init(.unprocessableContent, rejection.code, message)
        case .unauthorized: self.init(.unauthorized, rejection.code, message)
        case .overloaded(let s): self.init(.serviceUnavailable, rejection.code, message, retryAfter: s)
        case .feeTooLow: self.init(.unprocessableContent, rejection.code, message)
        case .rateLimited(let s, _): self.init(.tooManyRequests, rejection.code, message, retryAfter: s)
        case .unavailable: self.init(.serviceUnavailable, rejection.code, message, retryAfter: 1)
        case .treeFull: self.init(.insufficientStorage, rejection.code, message)
        case .storageFailure: self.init(.serviceUnavailable, rejection.code, message, retryAfter: 1)
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }

    var response: Response {
        var r = jsonResponse(data: ErrorEnvelope(code: code, message: message).encode(), status: status)
        if let s = retryAfter { r.headers[.retryAfter] = String(s) }
        return r
    }
}

extension HTTPResponse.Status {
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}

/// A JSON answer (every v1 answer but the proving key and the metrics).
func jsonResponse(data: Data, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func jsonResponse(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
    jsonResponse(data: JSONWriter.encode(object), status: status)
}
