import BN254
import Foundation
import HTTPTypes
import Settlement
import SettlementHTTP
import Testing
import TestSupport

/// The OpenAPI document and the server agree on the routes (schemathesis, run from .ci/run,
/// checks the answers against the document's schemas).
@Suite struct OpenAPITests {
    /// (METHOD, path with {params} as :) for every operation in openapi.yaml.
    private func documented() throws -> Set<String> {
        let url = SharedVectors.repositoryRoot.appendingPathComponent("Sources/SettlementHTTP/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        var out = Set<String>()
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     "),
                      let m = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                out.insert("\(m.uppercased()) \(Self.shape(p))")
            }
        }
        return out
    }

    /// A path with every parameter replaced by `*`.
    private static func shape(_ p: String) -> String {
        p.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "*" : String($0) }.joined(separator: "/")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws {
        let served = Set(SettlementAPI.routeTable.map { "\($0.method) \(Self.shape($0.path))" })
        let doc = try documented()
        #expect(doc.count >= 14)
        #expect(served == doc, "served but undocumented: \(served.subtracting(doc)); documented but not served: \(doc.subtracting(served))")
    }

    @Test func anUndocumentedMethodOnAKnownPathIs405WithAllow() async throws {
        try await TestServer.run { client, _ in
            let trace = try await client.call(.init("TRACE")!, "/v1/tree")
            #expect(trace.status == 405 && trace.errorCode == "method_not_allowed", "\(trace.json)")
            #expect(trace.headers[.allow] == "GET")
            let delete = try await client.call(.delete, "/v1/transfers/\(String(repeating: "ab", count: 32))")
            #expect(delete.status == 405 && delete.headers[.allow] == "GET")
            #expect(try await client.call(.get, "/v1/transfers").headers[.allow] == "POST")
            #expect(try await client.call(.post, "/v1/nowhere").status == 404)
            // An unknown value of ?pending= is malformed, not silently "false".
            #expect(try await client.admin("/v1/admin/payouts?pending=yes").errorCode == "malformed")
            // Answers are JSON even when they echo quotes, backslashes, control characters and
            // non-ASCII text back (the server writes its JSON by hand).
            let odd = try await client.admin("/v1/admin/payouts?pending=%22%5C%0A%09%01%C3%A9%F0%9F%94%91")
            let message = (odd.json["error"] as? [String: Any])?["message"] as? String
            #expect(message == "pending: expected true or false, not \"\\\n\t\u{01}é🔑", "\(String(decoding: odd.body, as: UTF8.self))")
        }
    }

    /// The error codes `openapi.yaml` lists (the enum of `Error.error.code`), read from its text.
    private func documentedCodes() throws -> [String] {
        let url = SharedVectors.repositoryRoot.appendingPathComponent("Sources/SettlementHTTP/openapi.yaml")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        guard let code = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "code:" }),
              let start = lines[code...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("enum: [") }) else { return [] }
        var text = ""
        for line in lines[start...] {
            text += line
            if line.contains("]") { break }
        }
        let list = text[text.index(after: text.firstIndex(of: "[")!)..<text.firstIndex(of: "]")!]
        return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// "code status" pairs from the description under the enum ("malformed 400, …").
    private func documentedStatuses() throws -> [String: Int] {
        let url = SharedVectors.repositoryRoot.appendingPathComponent("Sources/SettlementHTTP/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let start = text.range(of: "malformed 400") else { return [:] }
        let block = text[start.lowerBound...].prefix { $0 != "." }
        var out: [String: Int] = [:]
        for pair in block.split(separator: ",") {
            let words = pair.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if words.count == 2, let status = Int(words[1]) { out[String(words[0])] = status }
        }
        return out
    }

    /// One rejection of every kind. The switch has no default: a new `Rejection` case does not
    /// compile until it is listed here, and so until its code is in openapi.yaml.
    static let everyRejection: [Rejection] = {
        let all: [Rejection] = [
            .malformed(""), .invalidProof, .unknownRoot(Fr.zero), .doubleSpend(Fr.zero), .badExtData(""), .unauthorized(""),
            .voucherUsed(""), .overloaded(retryAfterSeconds: 1), .feeTooLow(minimum: 1, given: 0),
            .rateLimited(retryAfterSeconds: 1, reason: ""), .unavailable(""), .treeFull, .storageFailure(""),
        ]
        for r in all {
            switch r {
            case .malformed, .invalidProof, .unknownRoot, .doubleSpend, .badExtData, .unauthorized, .voucherUsed, .overloaded,
                 .feeTooLow, .rateLimited, .unavailable, .treeFull, .storageFailure: break
            }
        }
        return all
    }()

    @Test func theErrorCodesAreTheOnesTheDocumentLists() throws {
        let documented = try documentedCodes()
        #expect(documented.count == Set(documented).count, "a code listed twice: \(documented)")
        let rejections = Self.everyRejection.map(\.code)
        #expect(rejections.count == Set(rejections).count, "two rejections share a code: \(rejections)")
        let inCode = Set(rejections + APIError.transportCodes)
        #expect(inCode == Set(documented), "answered but undocumented: \(inCode.subtracting(documented)); documented but never answered: \(Set(documented).subtracting(inCode))")
        // Every code's status is the one the document's description pairs with it.
        let statuses = try documentedStatuses()
        let answered = Self.everyRejection.map(APIError.init) + APIError.transportErrors
        #expect(Set(answered.map(\.code)) == Set(documented))
        for e in answered { #expect(statuses[e.code] == Int(e.status.code), "\(e.code): \(e.status.code) here, \(statuses[e.code] ?? 0) documented") }
    }
}
