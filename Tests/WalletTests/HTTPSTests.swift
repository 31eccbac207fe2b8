import Foundation
import SettlementClient
import TestSupport
import Testing
import Wallet

/// HTTPS end to end: a CA and a server certificate for 127.0.0.1 made here with the openssl
/// command, the real `zksettle-server` with `--tls-cert/--tls-key`, the real `zkwallet` and
/// `zksettle-admin`. Trusted with `--ca-file`, refused without it (the system's store does not
/// know this CA), and plain HTTP to the TLS port fails too.
@Suite(.serialized) struct HTTPSTests {
    static func openssl(_ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw WalletError("openssl \(args.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// ca.pem, and server.pem/server.key for IP 127.0.0.1 signed by it, in `dir`.
    static func makeCertificates(in dir: URL) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=zksettle test CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: dir)
        try openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], in: dir)
        try Data("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: dir.appendingPathComponent("ext.cnf"))
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], in: dir)
        chmod(dir.appendingPathComponent("server.key").path, 0o600)
    }

    @Test func httpsWithAPrivateCA() async throws {
        try await offCooperativePool {
            let certs = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: certs) }
            try Self.makeCertificates(in: certs)
            let ca = certs.appendingPathComponent("ca.pem").path
            let server = try EndToEndTests.Server(caFile: ca) { _ in
                ["--tls-cert", certs.appendingPathComponent("server.pem").path, "--tls-key", certs.appendingPathComponent("server.key").path]
            }
            defer { server.stop() }
            #expect(server.url.hasPrefix("https://"))
            #expect(server.child.log.contains("https://127.0.0.1:"))
            let a = server.data.appendingPathComponent("alice")
            EndToEndTests.ok(try EndToEndTests.zkwallet(["init"], wallet: a, server: server), "init")

            // Without the CA the wallet refuses the server, and says what to do.
            let untrusted = try EndToEndTests.zkwallet(["sync"], wallet: a, server: server)
            #expect(untrusted.status == 1)
            #expect(untrusted.stderr.contains("--ca-file"), "\(untrusted.stderr)")

            // With it: a deposit, a sync, a balance over HTTPS.
            EndToEndTests.ok(try EndToEndTests.zkwallet(["deposit", "9", "--voucher", try server.voucher(9), "--ca-file", ca], wallet: a, server: server), "deposit")
            let balance = try EndToEndTests.zkwallet(["balance", "--json", "--ca-file", ca], wallet: a, server: server)
            EndToEndTests.ok(balance, "balance")
            #expect((balance.object["spendable"] as? NSNumber)?.intValue == 9)

            // The admin tool over HTTPS, with and without the CA.
            let stats = try Executables.run("zksettle-admin", ["stats", "--server", server.url, "--token", "e2e-admin", "--ca-file", ca, "--json"])
            #expect(stats.status == 0, "\(stats.stderr)")
            #expect((stats.json as? [String: Any])?["transfers"] as? Int == 1)
            #expect(try Executables.run("zksettle-admin", ["stats", "--server", server.url, "--token", "e2e-admin"]).status != 0)

            // Plain HTTP to the TLS port gets nowhere.
            let plain = try Executables.run("zkwallet", ["sync", "--wallet", a.path, "--ca-file", ca,
                                                         "--server", server.url.replacingOccurrences(of: "https://", with: "http://")])
            #expect(plain.status == 1)
        }
    }
}
