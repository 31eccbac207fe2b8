import BN254
import Circuits
import Foundation
import Groth16
import Groth16Prover
import Primitives
import Protocol
import R1CS
import SettlementClient
import TestSupport
import Testing
import Wallet

/// Issue 13: the wallet pins the server's parameters, checks the proving key it is handed and
/// every proof it makes, and believes receipts only under the pinned receipt key.
@Suite(.serialized) struct TrustTests {
    // MARK: The fingerprint

    /// The documented bytes, built here independently of `ParametersFingerprint` (coordinates
    /// through `bigEndianBytes`, the digest through Protocol's SHA-256).
    @Test func fingerprintIsTheDocumentedHash() throws {
        let (_, vk) = try DevelopmentSetup.generate(r1cs: cubicR1CS, circuitID: "cubic")
        let receipt = Ed25519Key.generate().publicKey
        func g1(_ p: G1Affine) -> [UInt8] { p.x.bigEndianBytes + p.y.bigEndianBytes }
        func g2(_ p: G2Affine) -> [UInt8] { p.x.c0.bigEndianBytes + p.x.c1.bigEndianBytes + p.y.c0.bigEndianBytes + p.y.c1.bigEndianBytes }
        let vkBytes: [UInt8] = [0, 0, 0, 2] + g1(vk.alpha) + g2(vk.beta) + g2(vk.gamma) + g2(vk.delta) + vk.ic.flatMap(g1)
        #expect(vk.canonicalBytes == vkBytes)
        #expect(vkBytes.count == 4 + 64 + 3 * 128 + 2 * 64)
        let preimage = Array("zksettle/params/v1".utf8) + [0, 0, 0, 5] + Array("cubic".utf8)
            + [0, 0, UInt8(vkBytes.count >> 8), UInt8(vkBytes.count & 0xFF)] + vkBytes + receipt
        #expect(ParametersFingerprint.preimage(circuitID: "cubic", verifyingKey: vk, receiptPublicKey: receipt) == preimage)
        let fp = ParametersFingerprint.hex(circuitID: "cubic", verifyingKey: vk, receiptPublicKey: receipt)
        #expect(fp == SHA256.hex(preimage))
        // Each part counts.
        var otherIC = vk
        otherIC.ic[1] = (vk.ic[1].jacobian + G1Affine.generator.jacobian).affine
        let others = [ParametersFingerprint.hex(circuitID: "cubic2", verifyingKey: vk, receiptPublicKey: receipt),
                      ParametersFingerprint.hex(circuitID: "cubic", verifyingKey: otherIC, receiptPublicKey: receipt),
                      ParametersFingerprint.hex(circuitID: "cubic", verifyingKey: vk, receiptPublicKey: Ed25519Key.generate().publicKey)]
        #expect(Set(others + [fp]).count == 4)
        // What people type.
        #expect(ParametersFingerprint.normalize("  " + fp.uppercased() + "\n") == fp)
        #expect(ParametersFingerprint.normalize(String(fp.dropLast())) == nil)
        #expect(ParametersFingerprint.normalize(String(fp.dropLast()) + "g") == nil)
    }

    // MARK: Receipts

    /// A receipt the way `POST /v1/transfers` answers it, read back as the wallet reads it.
    static func reply(_ r: Receipt) throws -> SettlementAnswer {
        try SettlementAnswer.decode(SettlementAnswer(receipt: r, publicInputs: [], extAmount: 0, fee: 0).encode())
    }

    @Test func receiptsSignedByAnotherKeyAreRefused() throws {
        let pinned = Ed25519Key.generate(), other = Ed25519Key.generate()
        let id = SecureRandom.bytes(32)
        let receipt = Receipt(transferID: id, batch: 7, leafIndices: [12, 13], root: Fr(99), settledAt: 1_700_000_000_000)
        let good = try Self.reply(receipt.signed(with: pinned))
        #expect(good.checkReceipt(transferID: Hex.encode(id), receiptKey: pinned.publicKey))
        #expect(good.receipt.batch == 7 && good.receipt.leafIndices == [12, 13])
        // Signed by a key other than the pinned one: refused, whatever key the server now names.
        #expect(try !Self.reply(receipt.signed(with: other)).checkReceipt(transferID: Hex.encode(id), receiptKey: pinned.publicKey))
        // Pinned key's signature, but for another transfer than the one submitted.
        #expect(!good.checkReceipt(transferID: Hex.encode(SecureRandom.bytes(32)), receiptKey: pinned.publicKey))
        // One field changed after signing.
        var moved = receipt.signed(with: pinned)
        moved.batch = 8
        #expect(try !Self.reply(moved).checkReceipt(transferID: Hex.encode(id), receiptKey: pinned.publicKey))
        // An answer without a receipt does not decode.
        #expect(throws: ServerAnswer.Malformed.self) { try SettlementAnswer.decode(Data(#"{"status":"settled"}"#.utf8)) }
    }

    // MARK: End to end

    /// `zksettle-server` on a data directory that outlives restarts (the keys can be replaced).
    final class Server {
        let root: URL
        let data: URL
        let port: Int
        var url: String { "http://127.0.0.1:\(port)" }
        var child: ChildProcess?
        var starts = 0

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-trust-\(UUID().uuidString)")
            data = root.appendingPathComponent("server")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            port = try Executables.freePort()
            try start()
        }

        func start() throws {
            starts += 1
            let c = try ChildProcess("zksettle-server", ["--data", data.path, "--port", String(port),
                                                          "--admin-token", "trust-admin", "--flush-ms", "1"],
                                     log: root.appendingPathComponent("server-\(starts).log"))
            child = c
            let deadline = Date().addingTimeInterval(180)
            while Date() < deadline {
                if let h = try? HTTPConnection(url, timeoutSeconds: 2), let r = try? h.get("/healthz"), r.status == 200 { return }
                guard c.process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            throw WalletError("the server did not start: \(c.log.suffix(2000))")
        }

        func stop() { child?.stop() }

        /// The fingerprint the server logged at its latest start.
        var loggedFingerprint: String? {
            guard let log = child?.log, let r = log.range(of: "parameters fingerprint: ") else { return nil }
            return String(log[r.upperBound...].prefix(64))
        }

        func leafCount() throws -> Int {
            let r = try HTTPConnection(url, timeoutSeconds: 5).get("/v1/tree")
            return try #require((r.json as? [String: Any])?["leaf_count"] as? Int)
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(at: root)
        }
    }

    static func zkwallet(_ args: [String], _ wallet: URL, _ server: Server) throws -> Executables.Output {
        try Executables.run("zkwallet", args + ["--wallet", wallet.path, "--server", server.url])
    }

    @Test func pinsCheckKeysAndRefuseChangedParameters() async throws {
        try await offCooperativePool {
            let server = try Server()
            defer { server.stop() }
            let a = server.root.appendingPathComponent("alice"), b = server.root.appendingPathComponent("bob")

            // One fingerprint from the server's log, the admin tool (both ways) and the wallet.
            let fp = try #require(server.loggedFingerprint)
            #expect(ParametersFingerprint.normalize(fp) == fp)
            let adminData = try Executables.run("zksettle-admin", ["params", "fingerprint", "--data", server.data.path])
            #expect(adminData.status == 0 && adminData.lastLine == fp, "\(adminData.stdout)\(adminData.stderr)")
            let adminServer = try Executables.run("zksettle-admin", ["params", "fingerprint", "--server", server.url, "--json"])
            #expect(adminServer.object["fingerprint"] as? String == fp)

            // --trust with a wrong fingerprint: the first contact is refused and nothing is pinned.
            let wrong = String(fp.prefix(63)) + (fp.last == "0" ? "1" : "0")
            EndToEndTests.ok(try Self.zkwallet(["init", "--trust", wrong], a, server), "init --trust")
            let refused = try Self.zkwallet(["sync"], a, server)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("do not have the fingerprint you trusted") && refused.stderr.contains(wrong) && refused.stderr.contains(fp))
            #expect(try Self.zkwallet(["trust", "--json"], a, server).object["contacted"] as? Bool == false)
            // Re-pinning asks first; without a terminal, --yes is the answer.
            let unconfirmed = try Self.zkwallet(["trust", "--reset"], a, server)
            #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("--yes"))
            let repinned = try Self.zkwallet(["trust", "--reset", "--yes"], a, server)
            EndToEndTests.ok(repinned, "trust --reset --yes")
            #expect(repinned.lastLine == fp)
            EndToEndTests.ok(try Self.zkwallet(["sync"], a, server), "sync after re-pin")
            // The right fingerprint given to --trust is pinned on first contact.
            let c = server.root.appendingPathComponent("carol")
            EndToEndTests.ok(try Self.zkwallet(["init", "--trust", fp.uppercased()], c, server), "init --trust right")
            EndToEndTests.ok(try Self.zkwallet(["sync"], c, server), "sync with the trusted fingerprint")
            #expect(try Self.zkwallet(["trust"], c, server).lastLine == fp)

            // First contact pins and prints it; the proving key is checked once, before first use.
            EndToEndTests.ok(try Self.zkwallet(["init"], b, server), "init B")
            let deposit = try Self.zkwallet(["deposit", "100", "--voucher", try EndToEndTests.voucher(100, serverData: server.data)], b, server)
            EndToEndTests.ok(deposit, "deposit")
            #expect(deposit.stderr.contains("pinned the server's parameters on first contact: fingerprint \(fp)"))
            #expect(deposit.stderr.contains("checking the proving key") && deposit.stderr.contains("accepted"))
            #expect(try Self.zkwallet(["trust"], b, server).lastLine == fp)
            let addressA = try Self.zkwallet(["address"], a, server).lastLine
            let pay = try Self.zkwallet(["send", "10", "--to", addressA], b, server)
            EndToEndTests.ok(pay, "first payment")
            #expect(!pay.stderr.contains("checking the proving key"))  // its hash is recorded as accepted

            // The server's proving key replaced by another setup's (same circuit, same verifying
            // key published): the wallet re-downloads it, refuses it, and sends nothing. (The
            // server reads its proving key once at start, so it is restarted to serve the new one.)
            let served = server.data.appendingPathComponent("keys/transfer.zkspk")
            let original = try ProvingKey.load(from: served)
            let (otherPK, _) = try DevelopmentSetup.generate(r1cs: TransferCircuit.r1cs, circuitID: TransferCircuit.circuitID)
            server.stop()
            try otherPK.write(to: served)
            try server.start()
            try FileManager.default.removeItem(at: b.appendingPathComponent("proving-keys"))
            let leaves = try server.leafCount()
            let swapped = try Self.zkwallet(["send", "5", "--to", addressA], b, server)
            #expect(swapped.status == 1)
            #expect(swapped.stderr.contains("the proving key is refused: its α differs from the pinned verifying key's"), "\(swapped.stderr)")
            #expect(swapped.stderr.contains("Nothing was sent"))
            #expect(try server.leafCount() == leaves)
            let cached = try FileManager.default.contentsOfDirectory(atPath: b.appendingPathComponent("proving-keys").path).filter { $0.hasSuffix(".zkspk") }
            #expect(cached.isEmpty)

            // The served key with one H point moved passes the key check (H cannot be checked
            // without [τ]₂), and the proof it yields fails the self-check: nothing is sent.
            var bent = original
            bent.h[5] = (bent.h[5].jacobian + G1Affine.generator.jacobian).affine
            server.stop()
            try bent.write(to: served)
            try server.start()
            let selfCheck = try Self.zkwallet(["send", "5", "--to", addressA], b, server)
            #expect(selfCheck.status == 1)
            #expect(selfCheck.stderr.contains("accepted the proving key"), "\(selfCheck.stderr)")
            #expect(selfCheck.stderr.contains("does not verify against the pinned verifying key") && selfCheck.stderr.contains("Nothing was sent"))
            #expect(try server.leafCount() == leaves)
            #expect(!FileManager.default.fileExists(atPath: b.appendingPathComponent("proving-keys").path))
            #expect((try Self.zkwallet(["balance", "--json"], b, server).object["spendable"] as? NSNumber)?.intValue == 90)

            // All keys replaced (a new setup at restart): another fingerprint. Every command
            // stops with exit 1 and names both; nothing reaches the server.
            server.stop()
            try FileManager.default.removeItem(at: server.data.appendingPathComponent("keys"))
            try server.start()
            let fp2 = try #require(server.loggedFingerprint)
            #expect(fp2 != fp)
            for args in [["balance"], ["send", "5", "--to", addressA]] {
                let r = try Self.zkwallet(args, b, server)
                #expect(r.status == 1, "\(args): \(r.stdout)")
                #expect(r.stderr.contains(fp) && r.stderr.contains(fp2) && r.stderr.contains("zkwallet trust --reset"), "\(args): \(r.stderr)")
            }
            #expect(try server.leafCount() == leaves)

            // Re-pinned on purpose, the wallet checks the new key and pays again.
            let reset = try Self.zkwallet(["trust", "--reset", "--yes", "--fingerprint", fp2], b, server)
            EndToEndTests.ok(reset, "trust --reset to the new keys")
            #expect(reset.lastLine == fp2)
            let again = try Self.zkwallet(["send", "5", "--to", addressA], b, server)
            EndToEndTests.ok(again, "payment under the new keys")
            #expect(again.stderr.contains("checking the proving key"))
            #expect(try server.leafCount() == leaves + 2)
        }
    }
}

/// x³ + x + 5 = y (the smallest circuit with a private and a public input).
let cubicR1CS = R1CS(variableCount: 5, publicCount: 1, constraints: [
    Constraint(a: [Term(2, .one)], b: [Term(2, .one)], c: [Term(3, .one)]),
    Constraint(a: [Term(3, .one)], b: [Term(2, .one)], c: [Term(4, .one)]),
    Constraint(a: [Term(4, .one), Term(2, .one), Term(0, Fr(5))], b: [Term(0, .one)], c: [Term(1, .one)]),
])
