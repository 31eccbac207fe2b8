import BN254
import Foundation
import Glibc
import Groth16
import Hummingbird
import HummingbirdTesting
import NIOCore
import Primitives
import Protocol
import Settlement
import SettlementHTTP
import TestSupport
import Testing
import Wallet
#if canImport(Glibc)
#endif

/// Issue 14, point 4 ("spam costs something"), against an in-process server on loopback over a
/// real SQLite file: the operator's minimum fee, the per-client admission limits, and the
/// probation lane of clients that sent proofs that do not verify. Each test also checks that
/// what was refused changed nothing. (`scripts/invalid_flood.py` measures the lane under a flood.)
@Suite(.serialized, .offCooperativePool) struct SpamTests {
    /// A deposit of 100 to `alice`, settled; returns the note with its path and root.
    static func funded(_ client: any TestClientProtocol, _ alice: Peer) async throws -> (SpendableNote, Fr) {
        let (dep, notes) = try deposit(100, to: alice, root: try await client.root())
        let reply = try await client.post(dep)
        #expect(reply.status == 200, "\(reply.json)")
        return try await client.spendable(notes[0], of: alice, at: leafIndices(reply)[0])
    }

    /// The server binary refuses spam settings that make no sense before it touches its data
    /// directory (`--data` points at one that must not be created).
    @Test func theServerRefusesNonsensicalSpamFlags() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-spamflags-\(UUID().uuidString)")
        for (flags, message) in [(["--min-fee", "9223372036854775808"], "--min-fee"), (["--min-fee", "-1"], "min-fee"),
                                 (["--client-rate", "-1"], "--client-rate"), (["--probation-queue", "0"], "--probation-queue"),
                                 (["--client-max-in-flight", "-5"], "--client-max-in-flight")] {
            let run = try Executables.run("zksettle-server", ["--data", dir.path, "--port", "0"] + flags)
            #expect(run.status != 0, "\(flags) was accepted")
            #expect(run.stderr.contains(message), "\(flags): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path), "a refused start made the data directory")
    }

    @Test func aClientIsItsIPv4AddressOrItsIPv6Slash64() throws {
        #expect(SettlementAPI.client(address: try SocketAddress(ipAddress: "127.0.0.2", port: 1)) == "127.0.0.2")
        #expect(SettlementAPI.client(address: try SocketAddress(ipAddress: "2001:db8:1:2:aaaa::1", port: 1)) == "2001:db8:1:2::/64")
        #expect(SettlementAPI.client(address: try SocketAddress(ipAddress: "2001:db8:1:2:bbbb::9", port: 2)) == "2001:db8:1:2::/64")
        // An IPv4 client of a dual-stack socket is its IPv4 address, not the one /64 of them all.
        #expect(SettlementAPI.client(address: try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 1)) == "10.1.2.3")
        #expect(SettlementAPI.client(address: nil) == nil)
    }

    @Test func aTransferBelowTheMinimumFeeIsRefusedAndChangesNothingAndFeesAccrue() async throws {
        try await TestServer.run(configure: { $0.minFee = 5 }) { client, server in
            #expect(try await client.get("/v1/params").json["min_fee"] as? String == "5")
            let alice = Peer()
            // Deposits are exempt: the operator's credential already authorizes them.
            let (spend, root) = try await Self.funded(client, alice)
            let before = try server.ledger.counts()
            #expect(before.feesAccrued == 0)

            // A free transfer, and one paying 4: both 422 fee_too_low naming the minimum.
            for fee: UInt64 in [0, 4] {
                let ext = ExtData(recipient: "", extAmount: 0, fee: fee, encryptedOutputs: ciphertexts())
                let cheap = try Keys.prover.prove(inputs: [spend], outputs: [Peer().note(100 - fee), alice.note(0)], extData: ext, root: root)
                let reply = try await client.post(cheap)
                #expect(reply.status == 422 && reply.errorCode == "fee_too_low", "\(reply.json)")
                let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("minimum fee of 5"), "\(message)")
                #expect(try server.ledger.counts() == before, "a refused transfer changed the ledger")
                #expect(try await client.get("/v1/transfers/\(cheap.id.hex)").status == 404)
                #expect(try await client.get("/v1/nullifiers/\(spend.nullifier.decimalString)").json["spent"] as? Bool == false)
            }

            // Paying the minimum settles; the fee is the operator's, in the stats.
            let ext = ExtData(recipient: "", extAmount: 0, fee: 5, encryptedOutputs: ciphertexts())
            let paid = try Keys.prover.prove(inputs: [spend], outputs: [Peer().note(60), alice.note(35)], extData: ext, root: root)
            let ok = try await client.post(paid)
            #expect(ok.status == 200, "\(ok.json)")
            #expect(try server.ledger.counts().feesAccrued == 5)
            let stats = try await client.admin("/v1/admin/stats").json
            #expect((stats["fees_accrued"] as? NSNumber)?.int64Value == 5, "\(stats)")
        }
    }

    @Test func aClientOverItsRateOrItsInFlightLimitIs429WithRetryAfterAndChangesNothing() async throws {
        // One transfer a second: the second post right after the first (wait=false: answered at
        // admission, so the two are milliseconds apart) is refused.
        try await TestServer.run(configure: { $0.clientRate = 1 }) { client, server in
            let (first, _) = try deposit(3, to: Peer(), root: try await client.root())
            let (second, _) = try deposit(4, to: Peer(), root: try await client.root())
            let admitted = try await client.post(first, query: "?wait=false")
            #expect(admitted.status == 202, "\(admitted.json)")
            let refused = try await client.post(second, query: "?wait=false")
            #expect(refused.status == 429 && refused.errorCode == "rate_limited", "\(refused.json)")
            #expect(refused.headers[.retryAfter] == "1")
            try await Task.sleep(for: .milliseconds(1100))
            // The first settled (its re-post answers its receipt); the refused one left no trace.
            #expect(try await client.post(first).status == 200)
            #expect(try server.ledger.counts().transfers == 1)
            #expect(try await client.get("/v1/transfers/\(second.id.hex)").status == 404)
        }
        // One transfer in flight: the first waits 2 s for its batch, the second is refused.
        try await TestServer.run(configure: { $0.clientMaxInFlight = 1; $0.flushMilliseconds = 2000 }) { client, server in
            let (first, _) = try deposit(3, to: Peer(), root: try await client.root())
            let (second, _) = try deposit(4, to: Peer(), root: try await client.root())
            let admitted = try await client.post(first, query: "?wait=false")
            #expect(admitted.status == 202, "\(admitted.json)")
            let refused = try await client.post(second)
            #expect(refused.status == 429 && refused.errorCode == "rate_limited", "\(refused.json)")
            #expect(refused.headers[.retryAfter] == "1")
            // The admitted one settles; the refused one left no trace; then the client may send again.
            let settled = try await client.post(first)
            #expect(settled.status == 200)
            #expect(try server.ledger.counts().transfers == 1)
            #expect(try await client.get("/v1/transfers/\(second.id.hex)").status == 404)
            #expect(try await client.post(second).status == 200)
        }
    }

    @Test func aClientThatSentAnInvalidProofIsVerifiedAloneAndOthersAreNot() async throws {
        // Batches wait 1.5 s for company; the probation lane verifies at once, so a transfer
        // that settles well within that went through the lane.
        try await TestServer.run(configure: { $0.flushMilliseconds = 1500; $0.probationQueue = 1 }) { client, server in
            let root = try await client.root()
            let (good, _) = try deposit(6, to: Peer(), root: root)
            var forged = try deposit(7, to: Peer(), root: root).0
            forged.proof = good.proof
            let bad = try await client.post(forged)
            #expect(bad.status == 422 && bad.errorCode == "invalid_proof")
            #expect(try server.ledger.counts().transfers == 0, "an invalid proof changed the ledger")
            let stats = try await client.admin("/v1/admin/stats").json
            #expect((stats["probation_clients"] as? NSNumber)?.intValue == 1, "\(stats)")

            // The same client (127.0.0.1), now on probation: its valid transfer still settles,
            // verified alone without waiting for a batch.
            let start = Date()
            let reply = try await client.post(good)
            #expect(reply.status == 200, "\(reply.json)")
            #expect(Date().timeIntervalSince(start) < 1.2, "a transfer of a client on probation waited for a batch")
            // Its next invalid proof is refused by the lane, and changes nothing.
            var forged2 = try deposit(8, to: Peer(), root: root).0
            forged2.proof = good.proof
            let bad2 = try await client.post(forged2)
            #expect(bad2.status == 422 && bad2.errorCode == "invalid_proof")
            #expect(try server.ledger.counts().transfers == 1)

            // Another client (127.0.0.2) is not on probation: its transfer waits for a batch as before.
            let (other, _) = try deposit(9, to: Peer(), root: try await client.root())
            let port = try #require(client.port)
            let otherStart = Date()
            let (status, _) = try await Task.detached { try rawPost(TransferBody.encode(other), voucher: other.voucher, port: port, from: "127.0.0.2") }.value
            #expect(status == 200)
            #expect(Date().timeIntervalSince(otherStart) >= 1.4, "a client not on probation skipped the batch queue")
            #expect(try server.ledger.counts().transfers == 2)

            // The lane holds one transfer (`probationQueue = 1`, counted until it is verified):
            // 32 forgeries posted at once, each on its own connection (so the server admits them
            // side by side), with wait=false, are answered at admission while the lane verifies
            // the first, so some find it full: 429 with Retry-After. (Posted one after another,
            // each could arrive after the lane emptied, on a machine loaded by the test run.)
            let before = try server.ledger.counts()
            let forgeries = (0..<32).map { _ -> TransferRequest in
                var f = good
                f.publicInputs.nullifiers = Pair(SecureRandom.scalar(), SecureRandom.scalar())
                f.voucher = voucher(UInt64(good.extData.extAmount))  // its own: each must reach verification
                return f
            }
            let lanePort = try #require(client.port)
            let go = DispatchSemaphore(value: 0)
            let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for f in forgeries {
                    group.addTask {
                        go.wait()  // every connection's thread ready, then all at once
                        let (status, raw) = try rawPost(TransferBody.encode(f), voucher: f.voucher, port: lanePort, from: "127.0.0.1",
                                                        path: "/v1/transfers?wait=false")
                        return (status, String(decoding: raw, as: UTF8.self).lowercased())
                    }
                }
                try await Task.sleep(for: .milliseconds(200))
                for _ in forgeries { go.signal() }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            let limited = replies.filter { $0.0 == 429 && $0.1.contains("rate_limited") && $0.1.contains("retry-after: 1\r\n") }
            #expect(limited.count >= 1, "\(replies.map(\.0))")
            #expect(replies.allSatisfy { $0.0 == 429 || $0.0 == 202 || ($0.0 == 422 && $0.1.contains("invalid_proof")) }, "\(replies.map(\.0))")
            // Whatever was admitted is refused by the lane; then nothing has changed.
            for _ in 0..<100 where try await client.admin("/v1/admin/stats").json["queue_depth"] as? NSNumber != 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try server.ledger.counts() == before)
        }
    }
}

/// `POST /v1/transfers` from a chosen loopback source address (127.0.0.2, …), with the test
/// deposit's voucher, over a plain socket: the test client always connects from 127.0.0.1.
func rawPost(_ body: Data, voucher: DepositVoucher?, port: Int, from source: String, path: String = "/v1/transfers") throws -> (Int, Data) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    func address(_ ip: String, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, ip, &a.sin_addr)
        return a
    }
    var local = address(source, 0), remote = address("127.0.0.1", port)
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }) == 0,
          withUnsafePointer(to: &remote, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } }) == 0 else {
        throw POSIXError(.ECONNREFUSED)
    }
    var request = Data("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".utf8)
    if let voucher { request += Data("X-Deposit-Voucher: \(voucher.text)\r\n".utf8) }
    request += Data("Content-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response.append(contentsOf: buffer[0..<n])
    }
    let head = String(decoding: response.prefix(12), as: UTF8.self)
    return (Int(head.dropFirst(9).prefix(3)) ?? -1, response)
}
