import BN254
import Foundation
import Ledger
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Primitives
import Protocol

/// The ledger in PostgreSQL (issue 16): the records, invariants and audit of `SQLiteLedger`,
/// shared by any number of `zksettle-server` nodes.
///
/// - Migrations (`PostgresSchema`) run at open under an advisory lock, so nodes that start
///   together apply each step once.
/// - Every commit is one transaction under a transaction-scoped advisory lock (the writer lock of
///   `commit(after:)`): one writer extends the chain at a time, whichever node it runs on, and a
///   node that is behind learns the other nodes' batches inside that lock before it builds its
///   own. `synchronous_commit` is forced on for the writer, so a batch is durable (WAL flushed)
///   before `commit` returns and any client hears "settled".
/// - Reads run on their own connections, each multi-statement read in one REPEATABLE READ,
///   READ ONLY transaction (one consistent snapshot).
///
/// The driver is postgres-nio; its EventLoopFuture API is waited on from the caller's thread
/// (the sequencer, the read pool, the admin tool's main thread), never from an event loop.
/// A connection that fails is dropped and made again on next use, so a node survives a
/// database restart: calls in flight fail with `LedgerError.storage`, later ones reconnect.
public final class PostgresLedger: Ledger, @unchecked Sendable {
    /// The newest schema version this build applies (the migrations' count).
    public static var supportedSchemaVersion: Int64 { PostgresSchema.currentVersion }

    public let treeCapacity: Int
    /// Open trees (`OpenTrees`), fixed when the ledger was made: each lane has its writer lock.
    public let openTrees: Int
    /// The schema version the database has: the current one once opened read-write (migrated);
    /// read-only, what it was left at (the reads of a database a node has not migrated yet
    /// leave out what later steps added).
    let schemaVersion: Int64
    public let readOnly: Bool
    /// The URL without its password (for logs and messages).
    public let displayURL: String
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    let writer: ConnectionSlot
    /// The writer connections of lanes 1…K−1 (lane 0 writes on `writer`): one transaction at a
    /// time per connection, so each lane needs its own for K commits at once.
    let laneWriters: [ConnectionSlot]
    let readers: [ConnectionSlot]
    private let nextReader = NSLock()
    private var readerCursor = 0

    /// The advisory lock key of the writer lock and of migrations ('ZKSL' and 'ZKSM').
    static let writerLockKey: Int64 = 0x5A4B_534C
    static let migrationLockKey: Int64 = 0x5A4B_534D

    /// Opens (and, read-write, migrates) the ledger at `url`. `treeCapacity` as for
    /// `SQLiteLedger`: the capacity a new ledger is made with; an existing one must match.
    /// `openTrees`: likewise, the open trees (`OpenTrees`) a new ledger is made with (default
    /// 1); an existing ledger must match, and one that has batches and never recorded it has 1.
    /// `readers`: connections for reads (the server's read threads share them).
    /// `statementTimeout`: the longest any statement may go unanswered before its connection is
    /// dropped and the call fails (`ConnectionSlot`); a node's statements take milliseconds,
    /// while an auditor reading a large ledger whole passes more.
    public init(url: String, readOnly: Bool = false, treeCapacity requested: Int? = nil, openTrees requestedTrees: Int? = nil, readers: Int = 4,
                statementTimeout: TimeInterval = 20, logger: Logger = Logger(label: "zksettle.postgres")) throws {
        if let requested, TreeCapacity.problem(requested) != nil { throw LedgerError.treeCapacity(stored: nil, requested: requested) }
        if let requestedTrees, let problem = OpenTrees.problem(requestedTrees) { throw LedgerError.storage(problem) }
        let parsed = try PostgresURL(url)
        configuration = parsed.configuration
        displayURL = parsed.display
        self.readOnly = readOnly
        self.logger = logger
        writer = ConnectionSlot(configuration: parsed.configuration, logger: logger, writer: true, timeout: statementTimeout)
        self.readers = (0..<max(1, readers)).map { _ in
            ConnectionSlot(configuration: parsed.configuration, logger: logger, writer: false, timeout: statementTimeout)
        }
        if readOnly {
            treeCapacity = try Self.storedCapacity(writer, display: displayURL)
            schemaVersion = try writer.session { s in try s.rows("SELECT COALESCE(max(version), 0) FROM schema_migrations")[0].decode(Int64.self) }
            openTrees = try Self.fixOpenTrees(writer, requested: nil, readOnly: true)
        } else {
            try PostgresSchema.migrate(writer)
            schemaVersion = PostgresSchema.currentVersion
            treeCapacity = try Self.fixTreeCapacity(writer, requested: requested)
            openTrees = try Self.fixOpenTrees(writer, requested: requestedTrees, readOnly: false)
        }
        laneWriters = readOnly ? [] : (1..<openTrees).map { _ in
            ConnectionSlot(configuration: parsed.configuration, logger: logger, writer: true, timeout: statementTimeout)
        }
    }

    deinit {
        writer.close()
        for w in laneWriters { w.close() }
        for r in readers { r.close() }
    }

    /// The next reader connection (round robin; each serializes its own calls).
    func reader() -> ConnectionSlot {
        nextReader.lock(); defer { nextReader.unlock() }
        readerCursor = (readerCursor + 1) % readers.count
        return readers[readerCursor]
    }

    /// One read, in one snapshot when it runs several statements.
    func read<T>(_ body: (ConnectionSlot.Session) throws -> T) throws -> T {
        try reader().transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private static func storedCapacity(_ slot: ConnectionSlot, display: String) throws -> Int {
        try slot.session { s in
            let exists = try s.rows("SELECT to_regclass('settings') IS NOT NULL").first.map { try $0.decode(Bool.self) } ?? false
            guard exists else { throw LedgerError.noLedger(path: display) }
            let version = try s.rows("SELECT COALESCE(max(version), 0) FROM schema_migrations").first.map { try $0.decode(Int64.self) } ?? 0
            if version > PostgresSchema.currentVersion { throw LedgerError.schemaTooNew(found: version, supported: PostgresSchema.currentVersion) }
            guard let row = try s.rows("SELECT value FROM settings WHERE name = 'tree_capacity'").first else { return TreeCapacity.maximum }
            return Int(try row.decode(Int64.self))
        }
    }

    /// The stored capacity, or the requested one (default 2^20) recorded for a new ledger.
    private static func fixTreeCapacity(_ slot: ConnectionSlot, requested: Int?) throws -> Int {
        try fixSetting(slot, "tree_capacity", requested: requested, initial: { _ in requested ?? TreeCapacity.maximum }) { stored, requested in
            LedgerError.treeCapacity(stored: stored, requested: requested)
        }
    }

    /// The stored number of open trees (1 for a ledger that never recorded one), or for a new
    /// ledger the requested one, recorded. A ledger with batches that never recorded it was made
    /// with one open tree and keeps it.
    private static func fixOpenTrees(_ slot: ConnectionSlot, requested: Int?, readOnly: Bool) throws -> Int {
        func check(_ k: Int) throws {
            if let problem = OpenTrees.problem(k) { throw LedgerError.corrupt("settings.open_trees: \(problem)") }
        }
        if readOnly {
            return try slot.session { s in
                guard let row = try s.rows("SELECT value FROM settings WHERE name = 'open_trees'").first else { return 1 }
                let k = Int(try row.decode(Int64.self))
                try check(k)
                return k
            }
        }
        return try fixSetting(slot, "open_trees", requested: requested, check: check,
                              initial: { s in try s.rows("SELECT 1 FROM batches LIMIT 1").isEmpty ? (requested ?? 1) : 1 }) { stored, requested in
            LedgerError.storage("this ledger was made with \(stored) open tree\(stored == 1 ? "" : "s"), not \(requested): the number is fixed for a ledger's life (leave the option out, or give \(stored))")
        }
    }

    /// A setting fixed when the ledger is made, under the migration lock (nodes opening a new
    /// ledger at once record it once): the stored value, or on a ledger without it `initial`,
    /// recorded. A requested value other than the one kept is `mismatch(kept, requested)`.
    private static func fixSetting(_ slot: ConnectionSlot, _ name: String, requested: Int?, check: (Int) throws -> Void = { _ in },
                                   initial: (ConnectionSlot.Session) throws -> Int, mismatch: (Int, Int) -> LedgerError) throws -> Int {
        try slot.transaction("BEGIN") { s in
            try s.run("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            if let row = try s.rows("SELECT value FROM settings WHERE name = \(name)").first {
                let stored = Int(try row.decode(Int64.self))
                try check(stored)
                if let requested, requested != stored { throw mismatch(stored, requested) }
                return stored
            }
            let value = try initial(s)
            if let requested, requested != value { throw mismatch(value, requested) }
            try s.run("INSERT INTO settings (name, value) VALUES (\(name), \(Int64(value)))")
            return value
        }
    }

    /// Binds the ledger to the keys it settles with (issue 16: "a node refuses to start when
    /// its keys are not the ones the ledger was made with"): the first node records each key's
    /// SHA-256; every later node must present the same.
    public func bindKeys(_ keys: [(name: String, bytes: [UInt8])]) throws {
        try writer.transaction("BEGIN") { s in
            try s.run("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))")
            for key in keys {
                let digest = ByteBuffer(bytes: SHA256.hash(key.bytes))
                let name = "key:" + key.name
                if let row = try s.rows("SELECT digest FROM key_digests WHERE name = \(name)").first {
                    let stored = Array(buffer: try row.decode(ByteBuffer.self))
                    if stored != SHA256.hash(key.bytes) {
                        throw LedgerError.storage("the \(key.name) is not the one this ledger was made with (its SHA-256 is \(Hex.encode(stored)), this node's is \(SHA256.hex(key.bytes))); start every node with a copy of the same data directory")
                    }
                } else {
                    try s.run("INSERT INTO key_digests (name, digest) VALUES (\(name), \(digest))")
                }
            }
        }
    }

    /// Whether the database answers (`/healthz`).
    public func ping() -> Bool {
        (try? reader().session { s in try s.run("SELECT 1") }) != nil
    }
}

/// A `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require]` URL. Without a
/// password in the URL, `PGPASSWORD` is used if set.
struct PostgresURL {
    let configuration: PostgresConnection.Configuration
    let display: String

    init(_ text: String) throws {
        func fail(_ why: String) -> LedgerError {
            .storage("the database URL must look like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE: \(why)")
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw fail("the scheme is not postgres://")
        }
        guard let host = url.host, !host.isEmpty else { throw fail("no host") }
        guard let user = url.user, !user.isEmpty else { throw fail("no user") }
        let database = String(url.path.dropFirst())
        guard !database.isEmpty, !database.contains("/") else { throw fail("no database name after the host") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw fail("port \(port) is out of range") }
        let password = url.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        var tls = PostgresConnection.Configuration.TLS.disable
        switch url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable" {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "require", "verify-full": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case let other: throw fail("sslmode \(other) is not one of disable, prefer, require")
        }
        configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        display = "\(scheme)://\(user)@\(host):\(port)/\(database)"
    }
}
