import BN254
import Foundation
import Groth16
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Primitives
import Protocol
import Settlement
import SettlementHTTP
import TestSupport
import Testing

/// Issue 14, point 5: deposits are paid by single-use vouchers signed by the operator's deposit
/// key, not by a shared token. Against a real server on loopback and a real SQLite file; every
/// refusal is checked to have changed nothing (counts and root).
@Suite(.offCooperativePool) struct VoucherTests {
    /// What a refusal must leave as it was.
    struct Snapshot: Equatable { var counts: LedgerCounts; var root: Fr }
    static func snapshot(_ client: some TestClientProtocol, _ server: TestServer) async throws -> Snapshot {
        Snapshot(counts: try server.ledger.counts(), root: try await client.root())
    }

    @Test func theAdminRouteIssuesVouchersAndRefusesBadRequests() async throws {
        try await TestServer.run { client, server in
            func issue(_ body: String, token: String? = adminToken) async throws -> Reply {
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                if let token { headers[.authorization] = "Bearer \(token)" }
                return try await client.call(.post, "/v1/admin/vouchers", body: Data(body.utf8), headers: headers)
            }
            let reply = try await issue(#"{"amount": 250, "expires_in": 600}"#)
            #expect(reply.status == 201, "\(reply.json)")
            let voucher = try DepositVoucher(text: try #require(reply.json["voucher"] as? String))
            #expect(voucher.amount == 250 && voucher.isSigned(by: depositKey.publicKey))
            #expect(abs(voucher.expiresAt - Int64(Date().timeIntervalSince1970) - 600) < 30)
            #expect(reply.json["id"] as? String == voucher.id)
            // Default validity: a day.
            let daily = try DepositVoucher(text: try #require(try await issue(#"{"amount": 1}"#).json["voucher"] as? String))
            #expect(abs(daily.expiresAt - Int64(Date().timeIntervalSince1970) - 86_400) < 30)

            #expect(try await issue(#"{"amount": 5}"#, token: nil).status == 401)
            #expect(try await issue(#"{"amount": 5}"#, token: "wrong").status == 401)
            for bad in [#"{"amount": 0}"#, #"{"amount": -3}"#, #"{"amount": 1.5}"#, #"{"amount": "x"}"#, #"{}"#, "[]", "nope",
                        #"{"amount": 9007199254740992}"#, #"{"amount": 5, "expires_in": 0}"#, #"{"amount": 5, "expires_in": 999999999999}"#,
                        #"{"amount": 5, "extra": 1}"#, #"{"amount": true}"#] {
                let r = try await issue(bad)
                #expect(r.status == 400 && r.errorCode == "malformed", "\(bad): \(r.status) \(r.json)")
            }
            let params = try await client.get("/v1/params").json
            #expect(params["deposit_public_key"] as? String == Hex.encode(depositKey.publicKey))
            #expect(params["deposits_enabled"] as? Bool == true)
            #expect(try server.ledger.counts().vouchersUsed == 0, "issuing records nothing: a voucher is recorded when used")
        }
    }

    @Test func aVoucherPaysForOneDepositOfItsAmountBeforeItExpires() async throws {
        try await TestServer.run { client, server in
            let root = try await client.root()
            let peer = Peer()

            // Refusals, each with its reason, none changing anything.
            let empty = try await Self.snapshot(client, server)
            func refused(_ request: TransferRequest, _ status: Int, _ code: String, saying text: String,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let r = try await client.post(request)
                #expect(r.status == status && r.errorCode == code, "\(r.status) \(r.json)", sourceLocation: sourceLocation)
                let message = (r.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(text), "\(message)", sourceLocation: sourceLocation)
                #expect(try await Self.snapshot(client, server) == empty, sourceLocation: sourceLocation)
            }
            var (dep, _) = try deposit(100, to: peer, root: root)
            let good = try #require(dep.voucher)
            dep.voucher = nil
            try await refused(dep, 401, "unauthorized", saying: "needs a deposit voucher")
            dep.voucher = voucher(99)
            try await refused(dep, 401, "unauthorized", saying: "the voucher is for 99, not 100")
            dep.voucher = voucher(100, key: Ed25519Key.generate())
            try await refused(dep, 401, "unauthorized", saying: "not signed by this server's deposit key")
            var tampered = good.bytes
            tampered[tampered.count - 1] ^= 1  // the tag: the server's check
            dep.voucher = try DepositVoucher(bytes: tampered)
            try await refused(dep, 401, "unauthorized", saying: "not signed by this server's deposit key")
            tampered = good.bytes
            tampered[40] ^= 1  // the signature: the tag covers it
            dep.voucher = try DepositVoucher(bytes: tampered)
            try await refused(dep, 401, "unauthorized", saying: "not signed by this server's deposit key")
            dep.voucher = voucher(100, expiresIn: -5)
            try await refused(dep, 401, "unauthorized", saying: "expired")
            var garbled = HTTPFields()
            garbled[SettlementAPI.voucherHeader] = "zkv1" + String(repeating: "A", count: 10)
            let g = try await client.call(.post, "/v1/transfers", body: TransferBody.encode(dep), headers: garbled)
            #expect(g.status == 401 && g.errorCode == "unauthorized", "\(g.json)")
            // A voucher beside a transfer that deposits nothing would be wasted: malformed.
            var nothing = try Keys.prover.prove(inputs: [], outputs: [peer.note(0), peer.note(0)],
                                                extData: ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: ciphertexts()), root: root)
            nothing.voucher = voucher(1)
            try await refused(nothing, 400, "malformed", saying: "deposits nothing")

            // The good voucher settles the deposit; a re-post of the same deposit gets its receipt.
            dep.voucher = good
            let settled = try await client.post(dep)
            #expect(settled.status == 200, "\(settled.json)")
            let again = try await client.post(dep)
            #expect(again.status == 200 && leafIndices(again) == leafIndices(settled), "\(again.json)")
            let after = try await Self.snapshot(client, server)
            #expect(after.counts.vouchersUsed == 1 && after.counts.transfers == 1)
            #expect(try server.ledger.usedVoucher(nonce: good.nonce)?.transferID == dep.id)

            // The same voucher for another deposit of the same amount: used.
            var (other, _) = try deposit(100, to: peer, root: try await client.root())
            other.voucher = good
            let used = try await client.post(other)
            #expect(used.status == 409 && used.errorCode == "voucher_used", "\(used.json)")
            #expect(try await Self.snapshot(client, server) == after)
            #expect(try server.ledger.audit(receiptPublicKey: server.receiptKey.publicKey, depositPublicKey: depositKey.publicKey) == [])
        }
    }

    /// Many deposits racing with one voucher (all in flight at once, in one batch or several):
    /// exactly one settles, the others hear `voucher_used`.
    @Test func racingDepositsWithOneVoucherSettleOnce() async throws {
        try await TestServer.run(configure: { $0.flushMilliseconds = 200 }) { client, server in
            let root = try await client.root()
            let shared = voucher(7)
            var requests: [TransferRequest] = []
            for _ in 0..<6 {
                var (r, _) = try deposit(7, to: Peer(), root: root)
                r.voucher = shared
                requests.append(r)
            }
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for r in requests { group.addTask { let reply = try await client.post(r); return reply.status == 200 ? "settled" : reply.errorCode ?? "?" } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "settled" }.count == 1, "\(codes)")
            #expect(codes.filter { $0 == "voucher_used" }.count == 5, "\(codes)")
            #expect(try server.ledger.counts().vouchersUsed == 1)
            #expect(try server.ledger.counts().transfers == 1)
        }
    }

    /// Restarted on the same ledger, a server still knows which vouchers were used.
    @Test func aRestartRemembersUsedVouchers() async throws {
        let dir = try TestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = voucher(11)
        try await TestServer.run(in: dir) { client, _ in
            var (dep, _) = try deposit(11, to: Peer(), root: try await client.root())
            dep.voucher = v
            #expect(try await client.post(dep).status == 200)
        }
        try await TestServer.run(in: dir) { client, server in
            var (dep, _) = try deposit(11, to: Peer(), root: try await client.root())
            dep.voucher = v
            #expect(try await client.post(dep).errorCode == "voucher_used")
            #expect(try server.ledger.counts().transfers == 1)
        }
    }

    @Test func withoutADepositKeyDepositsAndVouchersAreRefused() async throws {
        try await TestServer.run(configure: { $0.acceptDeposits(of: nil) }) { client, server in
            let (dep, _) = try deposit(3, to: Peer(), root: try await client.root())
            let r = try await client.post(dep)
            #expect(r.status == 401 && r.errorCode == "unauthorized", "\(r.json)")
            let message = ErrorEnvelope.decode(r.body)?.message ?? ""
            #expect(message.contains("disabled"))
            #expect(try await client.get("/v1/params").json["deposits_enabled"] as? Bool == false)
            #expect(try server.ledger.counts().transfers == 0)
        }
    }
}
