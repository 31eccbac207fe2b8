import Foundation
import Glibc
import Hummingbird
import HummingbirdCore
import SettlementHTTP
import TestSupport
import Testing

/// The server sheds connections that hold it without sending requests (`zksettle-server
/// --idle-timeout`, `--body-timeout`): raw TCP clients against a live server on loopback.
/// `scripts/hostile_clients.py` does the same with thousands of connections against the binary.
@Suite(.offCooperativePool) struct ConnectionLimitTests {
    /// A plain TCP connection, so a test can misbehave as no HTTP client library would.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard r == 0 else { throw POSIXError(.ECONNREFUSED) }
        }

        deinit { close(fd) }

        @discardableResult func send(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            return Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count
        }

        /// The status line of the answer to one whole request sent at once.
        func statusLine(of request: String) -> String {
            send(request)
            var buffer = [UInt8](repeating: 0, count: 4096), received: [UInt8] = []
            while !received.contains(UInt8(ascii: "\n")) {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 5000) > 0 else { break }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += buffer[0..<n]
            }
            return String(decoding: received, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
        }

        /// The status line of `request` on a fresh connection, tried up to three times: with a
        /// one-second idle or body limit, a machine loaded by the rest of the test run (every
        /// core proving) can delay the server's read past the limit and get a good connection
        /// closed, which is not what these tests are about. An empty line three times running is.
        static func promptStatusLine(port: Int, _ request: String) throws -> String {
            for _ in 0..<3 {
                let line = try RawConnection(port: port).statusLine(of: request)
                if !line.isEmpty { return line }
            }
            return ""
        }

        /// Whether the server closed the connection within `milliseconds` (reading and
        /// discarding whatever it sent first, such as an error answer).
        func closedByPeer(within milliseconds: Int32) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
            while Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
                guard poll(&p, 1, left) > 0 else { continue }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return true }
            }
            return false
        }
    }

    static func limited(idle: Int64, body: Int64) -> HTTPServerBuilder {
        SettlementAPI.http1Server(idleTimeout: .seconds(idle), bodyTimeout: .seconds(body))
    }

    @Test func aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() async throws {
        try await TestServer.run(server: Self.limited(idle: 1, body: 30)) { client, _ in
            let port = client.port!
            try await offCooperativePool {
                let silent = try RawConnection(port: port)
                let start = Date()
                #expect(silent.closedByPeer(within: 4000))
                #expect(Date().timeIntervalSince(start) > 0.5)
                // (The test client's own kept-alive connection was idle too, and is closed as well.)
                #expect(try RawConnection.promptStatusLine(port: port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == "HTTP/1.1 200 OK")
            }
        }
    }

    @Test func headersSentSlowerThanTheIdleTimeoutAreCutOff() async throws {
        try await TestServer.run(server: Self.limited(idle: 1, body: 30)) { client, _ in
            let port = client.port!
            try await offCooperativePool {
                let slow = try RawConnection(port: port)
                var closed = false
                for byte in "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
                    slow.send(String(byte))
                    if slow.closedByPeer(within: 100) { closed = true; break }
                }
                #expect(closed, "a client sending its headers a byte every 100 ms kept its connection")
            }
        }
    }

    @Test func aBodyTrickledPastTheBodyDeadlineIsCutOffButAPromptOneIsNot() async throws {
        try await TestServer.run(server: Self.limited(idle: 30, body: 1)) { client, _ in
            let port = client.port!
            try await offCooperativePool {
                let head = "POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                let slow = try RawConnection(port: port)
                slow.send(head)
                let start = Date()
                var closed = false
                for _ in 0..<40 {
                    slow.send("{")
                    if slow.closedByPeer(within: 100) { closed = true; break }
                }
                #expect(closed, "a body trickled a byte every 100 ms kept its connection for 4 s")
                #expect(Date().timeIntervalSince(start) > 0.8)
                // A prompt request on the same server is answered (here: refused as malformed).
                #expect(try RawConnection.promptStatusLine(port: port, head.replacingOccurrences(of: "1000", with: "2") + "{}") == "HTTP/1.1 400 Bad Request")
            }
        }
    }

    /// The control: with a long body deadline the same trickle keeps its connection, so the
    /// test above sees the deadline at work and not some other limit.
    @Test func withoutABodyDeadlineTheTrickleKeepsItsConnection() async throws {
        try await TestServer.run(server: Self.limited(idle: 30, body: 30)) { client, _ in
            let port = client.port!
            try await offCooperativePool {
                let slow = try RawConnection(port: port)
                slow.send("POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
                var closed = false
                for _ in 0..<15 {
                    slow.send("{")
                    if slow.closedByPeer(within: 100) { closed = true; break }
                }
                #expect(!closed)
            }
        }
    }
}
