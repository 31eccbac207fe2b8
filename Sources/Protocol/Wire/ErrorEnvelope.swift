import Foundation

/// Every v1 error answer: `{"error": {"code": "...", "message": "..."}}` (openapi.yaml, `Error`).
/// The server encodes it (`APIError`); the wallet, the admin tool and the load generator decode
/// it here, once. The server's words are data: callers escape them (`DisplayText`) before they
/// reach a terminal.
public struct ErrorEnvelope: Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) { self.code = code; self.message = message }

    public func encode() -> Data { JSONWriter.encode(["error": ["code": code, "message": message] as [String: Any]]) }

    /// The envelope of an error answer, or nil when the body is not one (a proxy's page, say).
    public static func decode(_ data: Data) -> ErrorEnvelope? {
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let e = o["error"] as? [String: Any],
              let code = e["code"] as? String else { return nil }
        return ErrorEnvelope(code: code, message: e["message"] as? String ?? String(decoding: data.prefix(200), as: UTF8.self))
    }

    /// What a client reports for a failed answer of `status`: the envelope when there is one,
    /// else `http_<status>` and the first 200 bytes of the body.
    public static func explaining(_ data: Data, status: Int) -> ErrorEnvelope {
        if let e = decode(data) { return e }
        return ErrorEnvelope(code: "http_\(status)", message: String(decoding: data.prefix(200), as: UTF8.self))
    }
}
