import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking HTTP/1.1 client over one kept-alive TCP connection (plain `http://` only: the
/// server listens on loopback or behind a TLS-terminating proxy). One connection serves one
/// thread at a time; a load generator opens one per worker. Responses are read by
/// `Content-Length` or chunked encoding; a closed connection is reopened once per request.
public final class HTTPConnection {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]  // lower-cased names
        public var body: Data
        public var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }

    public let host: String
    public let port: UInt16
    public let timeoutSeconds: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// `base` is `http://host[:port]`; a trailing path is ignored.
    public init(_ base: String, timeoutSeconds: Int = 60) throws {
        guard let url = URL(string: base), url.scheme == "http", let host = url.host else {
            throw Failure("\(base) is not an http://host:port URL")
        }
        self.host = host
        self.port = UInt16(url.port ?? 80)
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        buffer.removeAll(keepingCapacity: true)
    }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try request("GET", path, headers: headers, body: nil)
    }

    public func post(_ path: String, body: Data, headers: [String: String] = [:]) throws -> Response {
        var h = headers
        if h["Content-Type"] == nil { h["Content-Type"] = "application/json" }
        return try request("POST", path, headers: h, body: body)
    }

    public func request(_ method: String, _ path: String, headers: [String: String], body: Data?) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes += body }
        // A kept-alive connection the server closed since the last request fails on first use:
        // reconnect once. A fresh connection that fails is a real error.
        let reused = fd >= 0
        do {
            if fd < 0 { try connect() }
            try send(bytes)
            return try readResponse(method: method)
        } catch where reused {
            close()
            try connect()
            try send(bytes)
            return try readResponse(method: method)
        }
    }

    // MARK: Socket

    private func connect() throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let a = node {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                if Glibc.connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    fd = s
                    return
                }
                lastError = errno
                _ = Glibc.close(s)
            }
            node = a.pointee.ai_next
        }
        throw Failure("cannot connect to \(host):\(port): \(String(cString: strerror(lastError))) (is the server running?)")
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure("sending to \(host):\(port) failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// More bytes into `buffer`; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
                throw Failure(timedOut ? "no answer from \(host):\(port) within \(timeoutSeconds) s"
                                       : "reading from \(host):\(port) failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    private func line() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                let end = i > 0 && buffer[i - 1] == 13 ? i - 1 : i
                let s = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return s
            }
            guard try fill() else { throw Failure("\(host):\(port) closed the connection mid-response") }
        }
    }

    private func take(_ n: Int) throws -> [UInt8] {
        while buffer.count < n {
            guard try fill() else { throw Failure("\(host):\(port) closed the connection mid-body") }
        }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    private func readResponse(method: String) throws -> Response {
        let statusLine = try line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure("not an HTTP response from \(host):\(port): \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        while true {
            let l = try line()
            if l.isEmpty { break }
            guard let colon = l.firstIndex(of: ":") else { continue }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) {
        } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try line()
                guard let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw Failure("bad chunk size from \(host):\(port)")
                }
                if size == 0 {
                    while try !line().isEmpty {}
                    break
                }
                body += try take(size)
                _ = try line()
            }
        } else if let length = headers["content-length"].flatMap(Int.init) {
            body = try take(length)
        } else {
            while try fill() {}
            body = buffer
            buffer.removeAll()
            close()
        }
        if headers["connection"]?.lowercased() == "close" { close() }
        return Response(status: status, headers: headers, body: Data(body))
    }
}
