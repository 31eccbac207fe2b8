import Foundation
import TestSupport
import Testing

/// Issue 19, point 4: history is true however a transfer ends. A send is recorded (recipient,
/// memo) before it leaves; when the wallet does not hear the outcome, the next sync asks and
/// says what happened: a transfer that never reached the server gives its notes back, out loud;
/// one that settled is recorded as settled, its change as change. Received payments are dated
/// by their batch's settlement time, the same in every wallet.
@Suite(.serialized) struct InterruptedTransferTests {
    typealias E = EndToEndTests

    /// `scripts/lossy_proxy.py` in front of the server, losing POST /v1/transfers (`mode`).
    final class LossyProxy {
        let process = Process()
        let url: String

        init(upstream: String, mode: String) throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("scripts/lossy_proxy.py")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script.path, upstream, mode]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            guard let port = line.firstMatch(of: /port (\d+)/).map({ String($0.1) }) else {
                process.terminate()
                throw TestFailure("the proxy did not start: \(line)")
            }
            url = "http://127.0.0.1:\(port)"
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    static func history(_ wallet: URL, _ server: E.Server) throws -> [[String: Any]] {
        let r = try E.zkwallet(["history", "--json"], wallet: wallet, server: server)
        E.ok(r, "history")
        return r.json as? [[String: Any]] ?? []
    }

    static func batchTime(_ batch: Int, _ server: E.Server) throws -> Int? {
        let r = try Executables.run("zksettle-admin", ["batches", "show", String(batch), "--json", "--data", server.data.appendingPathComponent("server").path])
        return ((r.json as? [String: Any])?["created_at"] as? NSNumber)?.intValue
    }

    @Test func aSendThatWasNotHeardEndsTrueInHistory() async throws {
        try await offCooperativePool {
            let server = try E.Server()
            defer { server.stop() }
            let (a, b, addressB) = try E.alicePaysBob(server, deposits: [50])

            // 1. The transfer never reaches the server.
            let dropping = try LossyProxy(upstream: server.url, mode: "drop")
            let lost = try Executables.run("zkwallet", ["send", "20", "--to", addressB, "--memo", "lunch", "--wallet", a.path, "--server", dropping.url])
            #expect(lost.status == 1 && lost.stderr.contains("may or may not have settled"), "\(lost.stderr)")
            let pending = try Self.history(a, server).first { $0["memo"] as? String == "lunch" }
            // (history syncs nothing; balance does, below)
            let balance = try E.zkwallet(["balance", "--json"], wallet: a, server: server)
            E.ok(balance, "balance")
            #expect(balance.stderr.contains("1 pending transfer did not settle (never reached the server); 50 spendable again"), "\(balance.stderr)")
            #expect((balance.object["spendable"] as? NSNumber)?.intValue == 50, "\(balance.stdout)")
            #expect(pending?["status"] as? String == "pending" && pending?["counterparty"] as? String == addressB, "\(String(describing: pending))")
            let notSettled = try Self.history(a, server).first { $0["memo"] as? String == "lunch" }
            #expect(notSettled?["status"] as? String == "not_settled" && notSettled?["counterparty"] as? String == addressB
                    && notSettled?["settled_at_ms"] is NSNull && notSettled?["amount"] as? Int == 20, "\(String(describing: notSettled))")

            // 2. The transfer settles, but the answer is lost on the way back.
            let losing = try LossyProxy(upstream: server.url, mode: "lose")
            let unheard = try Executables.run("zkwallet", ["send", "20", "--to", addressB, "--memo", "dinner", "--wallet", a.path, "--server", losing.url])
            #expect(unheard.status == 1 && unheard.stderr.contains("may or may not have settled"), "\(unheard.stderr)")
            let sync = try E.zkwallet(["sync", "--json"], wallet: a, server: server)
            E.ok(sync, "sync")
            #expect(sync.stderr.contains("send of 20 to \(addressB)") && sync.stderr.contains("while this wallet was not listening"), "\(sync.stderr)")
            let away = (sync.object["settled_while_away"] as? [[String: Any]])?.first
            let batch = try #require((away?["batch"] as? NSNumber)?.intValue)
            #expect((sync.object["spendable"] as? NSNumber)?.intValue == 30, "\(sync.stdout)")
            let historyA = try Self.history(a, server)
            let dinner = historyA.first { $0["memo"] as? String == "dinner" }
            let settledAt = try #require(try Self.batchTime(batch, server))
            #expect(dinner?["status"] as? String == "settled" && dinner?["counterparty"] as? String == addressB
                    && dinner?["batch"] as? Int == batch && dinner?["settled_at_ms"] as? Int == settledAt, "\(String(describing: dinner))")
            // The change (30) is the wallet's own output, not a payment received.
            #expect(!historyA.contains { $0["kind"] as? String == "received" }, "\(historyA)")
            // Every row has one shape.
            let keys = Set(historyA.first?.keys.map { $0 } ?? [])
            #expect(historyA.allSatisfy { Set($0.keys) == keys } && keys.contains("settled_at"), "\(historyA)")

            // 3. A payment says what it did (issue 19, point 3).
            let tea = try E.zkwallet(["send", "5", "--to", addressB, "--memo", "tea"], wallet: a, server: server)
            E.ok(tea, "send 5")
            let said = tea.stdout.split(separator: "\n").first.map(String.init) ?? ""
            let short = String(addressB.prefix(8)) + "…" + String(addressB.suffix(4))
            #expect(said.firstMatch(of: /^sent 5 to (\S+) \(memo "tea"\) · batch \d+ · spendable now 25$/)?.1 == Substring(short), "\(tea.stdout)")
            #expect(tea.stderr.contains("submitting transfer"), "\(tea.stderr)")

            // 4. A stalled server: --timeout ends the wait; Ctrl-C says what state things are in.
            let stalling = try LossyProxy(upstream: server.url, mode: "stall")
            let t0 = Date()
            let timedOut = try Executables.run("zkwallet", ["send", "1", "--to", addressB, "--timeout", "3", "--wallet", a.path, "--server", stalling.url])
            #expect(timedOut.status == 1 && timedOut.stderr.contains("may or may not have settled") && Date().timeIntervalSince(t0) < 60, "\(timedOut.stderr)")
            E.ok(try E.zkwallet(["sync"], wallet: a, server: server), "sync after the timeout")  // releases its note
            let log = server.data.appendingPathComponent("interrupted.log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let child = Process()
            child.executableURL = Executables.productsDirectory.appendingPathComponent("zkwallet")
            child.arguments = ["send", "1", "--to", addressB, "--wallet", a.path, "--server", stalling.url]
            child.standardError = try FileHandle(forWritingTo: log)
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("submitting transfer") {
                Thread.sleep(forTimeInterval: 0.1)
            }
            kill(child.processIdentifier, SIGINT)
            child.waitUntilExit()
            let words = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(child.terminationReason == .exit && child.terminationStatus == 130, "\(words)")
            #expect(words.contains("cancelled: transfer ") && words.contains("may still settle") && words.contains("zkwallet sync"), "\(words)")

            // 5. The payee dates the payment by the batch, not by its sync.
            Thread.sleep(forTimeInterval: 1.2)
            let historyB = try Self.history(b, server)  // no sync yet: nothing
            #expect(historyB.isEmpty)
            E.ok(try E.zkwallet(["sync"], wallet: b, server: server), "sync B")
            let received = try Self.history(b, server).first { $0["kind"] as? String == "received" && $0["memo"] as? String == "dinner" }
            #expect(received?["settled_at_ms"] as? Int == settledAt && received?["memo"] as? String == "dinner"
                    && received?["transfer_id"] is NSNull && received?["counterparty"] is NSNull, "\(String(describing: received))")
            #expect((received?["recorded_at_ms"] as? Int ?? 0) > settledAt + 1000)

            // 6. A server that lies about the outcome: a receipt that does not verify under the
            // pinned key settles nothing; the transfer stays pending until an honest answer.
            let forging = try LossyProxy(upstream: server.url, mode: "forge")
            let lie = try Executables.run("zkwallet", ["send", "3", "--to", try E.zkwallet(["address"], wallet: a, server: server).lastLine,
                                                       "--memo", "forged", "--wallet", b.path, "--server", forging.url])
            #expect(lie.status == 1, "\(lie.stderr)")
            let lied = try Executables.run("zkwallet", ["sync", "--wallet", b.path, "--server", forging.url])
            #expect(lied.status == 0 && lied.stderr.contains("does not verify with the pinned receipt key: it stays pending"), "\(lied.stderr)")
            #expect(try Self.history(b, server).first { $0["memo"] as? String == "forged" }?["status"] as? String == "pending")
            let honest = try E.zkwallet(["sync"], wallet: b, server: server)
            #expect(honest.stderr.contains("while this wallet was not listening"), "\(honest.stderr)")
            #expect(try Self.history(b, server).first { $0["memo"] as? String == "forged" }?["status"] as? String == "settled")
        }
    }
}
