import Foundation
import Ledger
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One PostgreSQL connection used by one caller at a time, made on first use and made again
/// after it fails (a database restart, a dropped socket). Calls block the calling thread on
/// postgres-nio's futures; they must not run on an event loop.
///
/// Every wait has a deadline (`timeout`): an answer that never comes (seen once in the cluster
/// fault test, around a `pg_ctl stop -m immediate`: a query on a connection the restarted
/// server did not know, whose future was never completed) fails the call with a storage error
/// and drops the connection, instead of blocking the sequencer and every shutdown forever.
/// (A node's statements take milliseconds; its deadline is 20 s. The admin tool, which may
/// read a large ledger whole, waits an hour.)
final class ConnectionSlot: @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let writer: Bool
    /// The longest one statement may take to answer.
    let timeout: TimeInterval
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private static let ids = IDs()

    init(configuration: PostgresConnection.Configuration, logger: Logger, writer: Bool, timeout: TimeInterval) {
        self.configuration = configuration; self.logger = logger; self.writer = writer
        self.timeout = timeout
    }

    /// A statement that got no answer within the slot's deadline.
    struct NoAnswer: Error, CustomStringConvertible {
        let seconds: TimeInterval
        var description: String { "PostgreSQL did not answer within \(Int(seconds)) s; the connection was dropped" }
    }

    /// What a caller does on the connection while it holds it.
    struct Session {
        let connection: PostgresConnection
        let logger: Logger
        let timeout: TimeInterval

        /// Runs a statement and returns every row.
        @discardableResult
        func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
            do { return try ConnectionSlot.wait(connection.query(query, logger: logger), on: connection, seconds: timeout).rows } catch let e as NoAnswer {
                throw e  // `session` drops the connection, then reports it as a storage error
            } catch {
                throw PostgresErrors.ledgerError(error)
            }
        }

        func run(_ query: PostgresQuery) throws { try rows(query) }

        /// Several statements, one after another (migrations: DDL, function bodies). The
        /// driver sends every query as a prepared statement, which holds one command.
        func script(_ sql: String) throws {
            for statement in SQLScript.statements(sql) {
                do { _ = try ConnectionSlot.wait(connection.query(PostgresQuery(unsafeSQL: statement), logger: logger), on: connection, seconds: timeout) } catch let e as NoAnswer {
                    throw e
                } catch {
                    throw PostgresErrors.ledgerError(error)
                }
            }
        }
    }

    /// The future's value, or `NoAnswer` after `seconds` (the connection is then closed, not
    /// waited for: a close that also never completes must not block either).
    static func wait<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection, seconds: TimeInterval) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox<T>()
        future.whenComplete { result in box.set(result); done.signal() }
        guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
            let _: EventLoopFuture<Void> = connection.close()
            throw NoAnswer(seconds: seconds)
        }
        return try result.get()
    }

    /// Runs `body` holding this connection (connecting first if needed). A failure that
    /// leaves the connection closed (or unanswering) drops it, so the next call connects again.
    func session<T>(_ body: (Session) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        let conn: PostgresConnection
        do { conn = try connected() } catch let e as NoAnswer { throw LedgerError.storage(e.description) }
        do {
            return try body(Session(connection: conn, logger: logger, timeout: timeout))
        } catch let e as NoAnswer {
            connection = nil
            throw LedgerError.storage(e.description)
        } catch {
            if conn.isClosed { connection = nil }
            throw error
        }
    }

    /// `session` inside a transaction opened by `begin`: committed if `body` returns, rolled
    /// back if it throws (and the connection dropped if even the rollback fails, or if the
    /// server stopped answering: then the transaction ends with the connection).
    func transaction<T>(_ begin: String, _ body: (Session) throws -> T) throws -> T {
        try session { s in
            try s.script(begin)
            do {
                let value = try body(s)
                try s.script("COMMIT")
                return value
            } catch {
                if error is NoAnswer { throw error }
                do { try s.script("ROLLBACK") } catch { close(locked: true) }
                throw error
            }
        }
    }

    private func connected() throws -> PostgresConnection {
        if let c = connection, !c.isClosed { return c }
        connection = nil
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let c: PostgresConnection
        do {
            let connecting = PostgresConnection.connect(on: eventLoop, configuration: configuration, id: Self.ids.next(), logger: logger)
            let done = DispatchSemaphore(value: 0)
            let box = OutcomeBox<PostgresConnection>()
            connecting.whenComplete { box.set($0); done.signal() }
            guard done.wait(timeout: .now() + min(timeout, 30)) == .success, let result = box.get() else {
                connecting.whenSuccess { let _: EventLoopFuture<Void> = $0.close() }
                throw NoAnswer(seconds: min(timeout, 30))
            }
            c = try result.get()
        } catch {
            throw LedgerError.storage("cannot connect to PostgreSQL at \(configuration.host ?? "?"):\(configuration.port ?? 5432): \(PostgresErrors.describe(error))")
        }
        // A batch is durable before a client hears "settled", whatever the server's default.
        if writer {
            do { _ = try Self.wait(c.query("SET synchronous_commit = on", logger: logger), on: c, seconds: timeout) } catch {
                let _: EventLoopFuture<Void> = c.close()
                throw PostgresErrors.ledgerError(error)
            }
        }
        connection = c
        return c
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        close(locked: true)
    }

    private func close(locked: Bool) {
        if let c = connection { let _: EventLoopFuture<Void> = c.close() }  // not waited for (see `wait`)
        connection = nil
    }

    /// A result handed from an event loop to the waiting thread.
    private final class OutcomeBox<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<T, Error>?
        func set(_ v: Result<T, Error>) { lock.lock(); value = v; lock.unlock() }
        func get() -> Result<T, Error>? { lock.lock(); defer { lock.unlock() }; return value }
    }

    private final class IDs: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}

enum PostgresErrors {
    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// What went wrong, with the server's own message (postgres-nio's `description` hides it).
    static func describe(_ error: Error) -> String {
        if let e = error as? LedgerError { return e.description }
        guard let p = error as? PSQLError else { return "\(error)" }
        if let info = p.serverInfo {
            let message = info[.message] ?? "?"
            let detail = info[.detail].map { " (\($0))" } ?? ""
            return "\(message)\(detail) [SQLSTATE \(info[.sqlState] ?? "?")]"
        }
        if let underlying = p.underlying { return "\(p.code): \(underlying)" }
        return "\(p.code)"
    }

    static func ledgerError(_ error: Error) -> Error {
        if error is LedgerError { return error }
        return LedgerError.storage(describe(error))
    }
}

/// Splits a script of our own into statements: at each `;` outside quotes ('…'), dollar
/// quotes ($$…$$) and `--` comments.
enum SQLScript {
    static func statements(_ sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quote = false, dollar = false, comment = false
        let chars = Array(sql)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if comment {
                if c == "\n" { comment = false; current.append(c) }
                i += 1; continue
            }
            if !quote && !dollar && c == "-" && next == "-" { comment = true; i += 2; continue }
            if !quote && c == "$" && next == "$" { dollar.toggle(); current += "$$"; i += 2; continue }
            if !dollar && c == "'" { quote.toggle() }
            if !quote && !dollar && c == ";" {
                let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { out.append(s) }
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !s.isEmpty { out.append(s) }
        return out
    }
}
