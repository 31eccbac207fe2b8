import Foundation
import Testing
import TestSupport

/// `zksettle-server`'s data directory (issue 14, point 4d): every file it writes there, the
/// secrets above all, is created owner-only (mode 0600) from the start: opened with
/// `O_CREAT | O_EXCL` and mode 0600, written, renamed into place; never created wider and
/// chmod-ed afterwards. (The moment in between cannot be observed from outside; this checks
/// the result, that no temporary file is left, and that a restart changes nothing.)
@Suite(.serialized) struct ServerDataDirectoryTests {
    static let files = ["receipt.key", "deposit.key", "admin-token",
                        "keys/transfer.zkspk", "keys/verification_key.json", "keys/circuit-id"]

    /// Starts the server on `data` until it listens, then stops it.
    static func startAndStop(_ data: URL, log: URL) throws {
        let (server, _) = try started(data, log: log)
        let stopped = server.stop(within: 30)
        #expect(stopped.exited && stopped.status == 0, "\(server.log.suffix(2000))")
    }

    static func mode(_ path: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func secretsAndKeysAreOwnerOnlyAndARestartKeepsThem() async throws {
        try await offCooperativePool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-datadir-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = dir.appendingPathComponent("data")
            try Self.startAndStop(data, log: dir.appendingPathComponent("first.log"))
            var contents: [String: Data] = [:]
            for name in Self.files {
                let file = data.appendingPathComponent(name)
                let mode = try Self.mode(file)
                #expect(mode == 0o600, "\(name) has mode \(String(mode, radix: 8))")
                contents[name] = try Data(contentsOf: file)
            }
            let leftovers = (try FileManager.default.subpathsOfDirectory(atPath: data.path)).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty, "\(leftovers)")

            // A second start reads what is there and writes nothing new.
            try Self.startAndStop(data, log: dir.appendingPathComponent("second.log"))
            for name in Self.files {
                let file = data.appendingPathComponent(name)
                #expect(try Data(contentsOf: file) == contents[name], "\(name) changed on restart")
                #expect(try Self.mode(file) == 0o600)
            }
        }
    }

    /// Starts a server on `data` and waits until it listens; returns it and its URL's port.
    static func started(_ data: URL, log: URL) throws -> (ChildProcess, Int) {
        let server = try ChildProcess("zksettle-server", ["--data", data.path, "--port", "0"], log: log)
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline && server.process.isRunning && !server.log.contains("zksettle-server listening") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let port = server.log.firstMatch(of: /url=http:\/\/127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) }
        guard let port else { throw TestFailure("the server did not start: \(server.log.suffix(2000))") }
        return (server, port)
    }

    /// Issue 19, point 8: two servers on one data directory would serve one SQLite ledger, each
    /// with its own state. The second is refused (exit 1), naming the first; once the first
    /// stops, the directory is free again. A port already in use is said so, with `--port`.
    @Test func aSecondServerOnALockedDirectoryOrABusyPortIsRefused() async throws {
        try await offCooperativePool {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zksettle-lock-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = dir.appendingPathComponent("data")
            let (first, port) = try Self.started(data, log: dir.appendingPathComponent("first.log"))

            let second = try Executables.run("zksettle-server", ["--data", data.path, "--port", "0"])
            #expect(second.status == 1, "\(second.stderr)")
            #expect(second.stderr.contains("another zksettle-server (pid \(first.process.processIdentifier)) is already using the data directory"), "\(second.stderr)")
            #expect(second.stderr.split(separator: "\n").last?.hasPrefix("error: another zksettle-server") == true, "\(second.stderr)")
            #expect(!second.stderr.contains("listening"))

            let busy = try Executables.run("zksettle-server", ["--data", dir.appendingPathComponent("other").path, "--port", "\(port)"])
            #expect(busy.status == 1, "\(busy.stderr)")
            #expect(busy.stderr.contains("port \(port) is already in use") && busy.stderr.contains("--port"), "\(busy.stderr)")

            let stopped = first.stop(within: 30)
            #expect(stopped.exited && stopped.status == 0)
            try Self.startAndStop(data, log: dir.appendingPathComponent("third.log"))
        }
    }
}
