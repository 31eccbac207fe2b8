import BN254
import Foundation
import Groth16
import Hummingbird
import HummingbirdTesting
import Protocol
import Settlement
import SettlementHTTP
import Testing
import TestSupport
import Wallet

/// Issue 14 ("a server no one can stall, fill or mint from"), the points that an in-process
/// server on loopback over a real SQLite file can show. Each also checks that what was
/// refused changed nothing. (`ServerProcessTests` has the points that need the real binary.)
@Suite(.serialized) struct HardeningTests {
    static let empty = LedgerCounts(batches: 0, transfers: 0, nullifiers: 0, leaves: 0, pendingPayouts: 0)

    /// Point 4b: a JSON number of 2^63 or more in `ext_amount` is refused as `malformed`; it was
    /// read through a signed 64-bit value and wrapped (2^63 to -2^63, 2^64 - 1 to -1).
    @Test func anExtAmountOf2To63OrMoreAsAJSONNumberIsMalformedNeverWrapped() async throws {
        try await TestServer.run { client, server in
            let (good, _) = try deposit(10, to: Peer(), root: try await client.root())
            let text = String(decoding: TransferBody.encode(good), as: UTF8.self)
            #expect(text.contains(#""ext_amount":"10""#))
            func withExtAmount(_ number: String) -> Data {
                Data(text.replacingOccurrences(of: #""ext_amount":"10""#, with: #""ext_amount":\#(number)"#).utf8)
            }
            var headers = HTTPFields()
            headers[SettlementAPI.depositTokenHeader] = depositToken
            for number in ["9223372036854775808", "18446744073709551615", "18446744073709551616", "1e19", "-9223372036854775809"] {
                let reply = try await client.call(.post, "/v1/transfers", body: withExtAmount(number), headers: headers)
                #expect(reply.status == 400 && reply.errorCode == "malformed", "\(number): \(reply.status) \(reply.json)")
            }
            #expect(try server.ledger.counts() == Self.empty)
            // A JSON number in range is still read (the same deposit, amount 10, settles).
            let reply = try await client.call(.post, "/v1/transfers", body: withExtAmount("10"), headers: headers)
            #expect(reply.status == 200, "\(reply.json)")
        }
    }

    /// Point 4f: the proving key is read once, when the API is made, and served from memory:
    /// changing or removing the file afterwards changes no download.
    @Test func theProvingKeyIsServedFromMemory() async throws {
        let dir = try TestServer.temporaryDirectory()
        let file = dir.appendingPathComponent("transfer.zkspk")
        let original = Data(SecureRandom.bytes(100_000))
        try original.write(to: file)
        try await TestServer.run(in: dir, provingKeyPath: file.path) { client, _ in
            #expect(try await client.get("/v1/params").json["proving_key_available"] as? Bool == true)
            #expect(try await client.get("/v1/params/proving-key").body == original)
            try Data(SecureRandom.bytes(10)).write(to: file)
            #expect(try await client.get("/v1/params/proving-key").body == original)
            try FileManager.default.removeItem(at: file)
            let reply = try await client.get("/v1/params/proving-key")
            #expect(reply.status == 200 && reply.body == original)
        }
    }
}
