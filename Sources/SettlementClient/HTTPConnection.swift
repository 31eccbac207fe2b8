import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP client of the wallet, the admin tool and the load generator, on AsyncHTTPClient:
/// `http://` and `https://` (the system's trust store, or only the CA in `caFile` for a
/// private CA), a connect timeout and a whole-request deadline, no redirects, and a bound on
/// every response body (a hostile server can make the client wait, never fill its memory).
/// Calls block the calling thread until the answer; they must not run on Swift's cooperative
/// pool (the command-line tools call from their main thread or their own threads).
public final class HTTPConnection: @unchecked Sendable {
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

    /// `scheme://host:port`, no trailing slash.
    public let base: String
    public let timeoutSeconds: Int
    /// The largest response body accepted (a notes page of 10,000 is about 4 MiB).
    public let maxResponseBytes: Int
    private let client: HTTPClient

    /// `base` is `http[s]://host[:port]` (a trailing slash is ignored; a path, query, user or
    /// fragment is refused). `caFile` is a PEM file of the CA certificates to trust instead of
    /// the system's.
    public init(_ base: String, timeoutSeconds: Int = 60, caFile: String? = nil, maxResponseBytes: Int = 32 << 20) throws {
        var text = base
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.path.isEmpty, url.query == nil, url.user == nil, url.fragment == nil else {
            throw Failure("\(base) is not an http(s)://host[:port] URL")
        }
        self.base = text
        self.timeoutSeconds = timeoutSeconds
        self.maxResponseBytes = maxResponseBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else { throw Failure("no certificate in it") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw Failure("--ca-file \(caFile): cannot read a PEM certificate from it (\(error))")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(Int64(timeoutSeconds)))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { client.shutdown { _ in } }

    /// Releases the connections now (they are released at deinit otherwise).
    public func close() { try? client.syncShutdown() }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try request("GET", path, headers: headers, body: nil)
    }

    public func post(_ path: String, body: Data, headers: [String: String] = [:]) throws -> Response {
        var h = headers
        if h["Content-Type"] == nil { h["Content-Type"] = "application/json" }
        return try request("POST", path, headers: h, body: body)
    }

    public func request(_ method: String, _ path: String, headers: [String: String], body: Data?) throws -> Response {
        try Self.blocking { try await self.send(method, path, headers: headers, body: body) }
    }

    /// The same request, for async callers.
    public func send(_ method: String, _ path: String, headers: [String: String], body: Data?) async throws -> Response {
        let response = try await execute(method, path, headers: headers, body: body)
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxResponseBytes {
            throw Failure("\(base)\(path) answered with \(length) bytes, more than the \(maxResponseBytes) accepted")
        }
        let bytes: ByteBuffer
        do { bytes = try await response.body.collect(upTo: maxResponseBytes) } catch is NIOTooManyBytesError {
            throw Failure("\(base)\(path) answered with more than the \(maxResponseBytes) bytes accepted")
        }
        return Response(status: Int(response.status.code), headers: Self.lowercased(response.headers), body: Data(bytes.readableBytesView))
    }

    /// Streams a large body to `file` (written whole, then renamed into place), at most
    /// `maxBytes`, reporting (received, expected) as it goes. Returns the status; a non-200
    /// answer's body is returned instead of written.
    public func download(_ path: String, to file: URL, maxBytes: Int, progress: @escaping @Sendable (Int, Int?) -> Void) throws -> Response {
        try Self.blocking {
            let response = try await self.execute("GET", path, headers: [:], body: nil)
            let expected = response.headers.first(name: "content-length").flatMap(Int.init)
            if response.status != .ok {
                let bytes = try await response.body.collect(upTo: 1 << 20)
                return Response(status: Int(response.status.code), headers: Self.lowercased(response.headers), body: Data(bytes.readableBytesView))
            }
            if let expected, expected > maxBytes { throw Failure("\(self.base)\(path) offers \(expected) bytes, more than the \(maxBytes) accepted") }
            let partial = file.deletingLastPathComponent().appendingPathComponent("." + file.lastPathComponent + ".partial")
            guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: partial.path) else { throw Failure("cannot write \(partial.path)") }
            var received = 0
            do {
                for try await chunk in response.body {
                    received += chunk.readableBytes
                    if received > maxBytes { throw Failure("\(self.base)\(path) sent more than the \(maxBytes) bytes accepted") }
                    try handle.write(contentsOf: Data(chunk.readableBytesView))
                    progress(received, expected)
                }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(at: partial)
                throw error
            }
            if let expected, received != expected {
                try? FileManager.default.removeItem(at: partial)
                throw Failure("\(self.base)\(path) ended after \(received) of \(expected) bytes")
            }
            guard rename(partial.path, file.path) == 0 else { throw Failure("cannot move the download into \(file.path)") }
            return Response(status: 200, headers: Self.lowercased(response.headers), body: Data())
        }
    }

    private func execute(_ method: String, _ path: String, headers: [String: String], body: Data?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: method)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            return try await client.execute(request, timeout: .seconds(Int64(timeoutSeconds)))
        } catch let e as HTTPClientError {
            throw Failure(Self.explain(e))
        } catch let e as NIOSSLError {
            throw Failure("TLS with \(base) failed: \(e) (a private CA? pass --ca-file)")
        } catch let e as NIOSSLExtraError {
            throw Failure("TLS with \(base) failed: \(e) (a private CA? pass --ca-file)")
        } catch let e as BoringSSLError {
            throw Failure("TLS with \(base) failed: \(e) (a private CA? pass --ca-file)")
        }
    }

    static func explain(_ e: HTTPClientError) -> String {
        switch e {
        case .connectTimeout: return "connecting timed out"
        case .readTimeout, .deadlineExceeded: return "the server did not answer in time"
        case .remoteConnectionClosed: return "the server closed the connection"
        default: return "\(e)"
        }
    }

    static func lowercased(_ headers: HTTPHeaders) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in headers { out[name.lowercased()] = value }
        return out
    }

    /// Runs `body` on the concurrency runtime and waits for it on this thread.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = BlockingOutcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { outcome.value = .success(try await body()) } catch { outcome.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return try outcome.value!.get()
    }
}

/// The result a blocked thread waits for (written once, read after the semaphore).
private final class BlockingOutcome<T>: @unchecked Sendable {
    var value: Result<T, Error>?
}
