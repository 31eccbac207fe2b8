import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The PostgreSQL server the tests may use: `ZKSETTLE_TEST_DATABASE`, a URL whose user may
/// create databases (`.ci/run` starts a throwaway server and sets it). Each test gets a new,
/// empty database of its own on it.
public enum PostgresTestDatabase {
    public static var url: String? {
        let value = ProcessInfo.processInfo.environment["ZKSETTLE_TEST_DATABASE"] ?? ""
        return value.isEmpty ? nil : value
    }

    /// Creates database `zkt_<random>` and returns its URL.
    public static func fresh() throws -> String {
        guard let base = url, var parts = URLComponents(string: base) else { throw PostgresTestError("ZKSETTLE_TEST_DATABASE is not a postgres:// URL") }
        let name = "zkt_" + (0..<12).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement()!) }.joined()
        try execute(base, "CREATE DATABASE \(name)")
        parts.path = "/" + name
        return parts.string!
    }

    /// The first column of the first row of a query, as an integer.
    public static func integer(_ url: String, _ sql: String) throws -> Int64? {
        try rows(url, sql).first.map { try $0.decode(Int64.self) }
    }

    /// Runs one statement on the database at `url` (what an operator with psql could do).
    public static func execute(_ url: String, _ sql: String) throws { _ = try rows(url, sql) }

    static func rows(_ url: String, _ sql: String) throws -> [PostgresRow] {
        guard let parts = URLComponents(string: url), let host = parts.host, let user = parts.user else {
            throw PostgresTestError("not a postgres:// URL: \(url)")
        }
        let config = PostgresConnection.Configuration(host: host, port: parts.port ?? 5432, username: user, password: parts.password,
                                                      database: String(parts.path.dropFirst()), tls: .disable)
        let connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: config, id: 1,
                                                        logger: Logger(label: "zksettle.test.postgres")).wait()
        defer { _ = try? connection.close().wait() }
        return try connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "zksettle.test.postgres")).wait().rows
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
