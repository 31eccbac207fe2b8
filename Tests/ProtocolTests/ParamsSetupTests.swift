import Foundation
import Protocol
import Testing

/// `/v1/params` says which setup made the keys (issue 18, point 5): `setup` and
/// `transcript_hash`, read strictly by wallets and the admin tool.
@Suite struct ParamsSetupTests {
    static let hash = String(repeating: "0123456789abcdef", count: 8)

    @Test func setupAndTranscriptHashAreReadStrictly() throws {
        #expect(try ServerAnswer.setup(["setup": "development", "transcript_hash": NSNull(), "development_keys": true]) == .development)
        #expect(try ServerAnswer.setup(["setup": "development"]) == .development)
        #expect(try ServerAnswer.setup(["setup": "ceremony", "transcript_hash": Self.hash, "development_keys": false])
                == .ceremony(transcriptHash: Self.hash))
        // A server from before issue 18 names no setup: its keys were the development setup's.
        #expect(try ServerAnswer.setup(["development_keys": true]) == .development)
        #expect(try ServerAnswer.setup([:]) == .development)
        let bad: [[String: Any]] = [
            ["setup": "trusted"],
            ["setup": 1],
            ["setup": "ceremony"],
            ["setup": "ceremony", "transcript_hash": NSNull()],
            ["setup": "ceremony", "transcript_hash": String(Self.hash.dropLast())],
            ["setup": "ceremony", "transcript_hash": Self.hash.uppercased()],
            ["setup": "ceremony", "transcript_hash": String(Self.hash.dropLast()) + "g"],
            ["setup": "ceremony", "transcript_hash": 7],
            ["setup": "development", "transcript_hash": Self.hash],
            ["setup": "ceremony", "transcript_hash": Self.hash, "development_keys": true],
            ["setup": "development", "development_keys": false],
            ["setup": "development", "development_keys": "yes"],
            ["development_keys": false],
        ]
        for o in bad {
            #expect(throws: ServerAnswer.Malformed.self, "\(o)") { try ServerAnswer.setup(o) }
        }
    }

    @Test func theSetupNamesItself() {
        #expect(ServerParameters.Setup.development.name == "development" && ServerParameters.Setup.development.transcriptHash == nil)
        let c = ServerParameters.Setup.ceremony(transcriptHash: Self.hash)
        #expect(c.name == "ceremony" && c.transcriptHash == Self.hash)
        #expect(ServerParameters.Setup(name: c.name, transcriptHash: c.transcriptHash) == c)
        #expect(ServerParameters.Setup(name: "development", transcriptHash: nil) == .development)
        #expect(ServerParameters.Setup(name: "ceremony", transcriptHash: nil) == nil)
        #expect(ServerParameters.Setup(name: "development", transcriptHash: Self.hash) == nil)
    }
}
