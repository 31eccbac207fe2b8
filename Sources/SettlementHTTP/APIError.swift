import Foundation
import HTTPTypes
import Settlement

/// An error as the API reports it: `{"error": {"code": "...", "message": "..."}}` with a status.
///
/// The codes are a closed list (`APIError.allCodes`, also in `openapi.yaml`): the settlement
/// rejections of `Rejection.allCodes` plus the transport's own (`not_found`,
/// `payload_too_large`, `method_not_allowed`, `internal`).
public struct APIError: Error, Sendable, Equatable {
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
        case .storageFailure: self.init(.internalServerError, rejection.code, message)
        }
    }

    /// Every code the API can answer with, and its status.
    public static let allCodes: [(code: String, status: Int)] = [
        ("malformed", 400), ("invalid_proof", 422), ("unknown_root", 409), ("double_spend", 409),
        ("bad_ext_data", 422), ("unauthorized", 401), ("overloaded", 503), ("unavailable", 503),
        ("tree_full", 507), ("storage_failure", 500), ("fee_too_low", 422), ("rate_limited", 429),
        ("not_found", 404), ("method_not_allowed", 405), ("payload_too_large", 413), ("internal", 500),
    ]

    var json: [String: Any] { ["error": ["code": code, "message": message]] }
}

extension HTTPResponse.Status {
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}
