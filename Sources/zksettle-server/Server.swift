import ArgumentParser
import DataDirectory
import Foundation
import Groth16
import Hummingbird
import HummingbirdTLS
import Ledger
import Logging
import Metrics
import NIOCore
import NIOSSL
import Primitives
import Prometheus
import Protocol
import PostgresLedger
import SQLiteLedger
import Settlement
import SettlementHTTP
import TerminalUI

/// `zksettle-server`: the settlement API on an embedded SQLite ledger.
///
/// Every option also reads an environment variable (named in its help); a flag wins over the
/// environment, the environment over the files in the data directory.
@main
struct Server: AsyncParsableCommand {
    static func main() async {
        await ToolMain.runAsync(Self.self)
    }

    static let configuration = CommandConfiguration(
        commandName: "zksettle-server",
        abstract: "Settle private transfers: HTTP API, parallel batch verification, SQLite ledger.",
        discussion: """
            On first start the data directory gets a development proving/verifying key pair for the
            transfer circuit (unsafe for real funds: the start log warns, GET /v1/params says \
            "setup": "development", and --require-ceremony-keys refuses them; a ceremony's keys \
            come from `zksettle-admin ceremony finalize`), an Ed25519 receipt key, an Ed25519 deposit key
            (it signs deposit vouchers: zksettle-admin deposits voucher) and an admin token; later
            starts reuse them. SIGINT/SIGTERM drain in-flight batches, then exit. One server per data \
            directory: a second one on it is refused.

            EXAMPLES
              zksettle-server                  # ./zksettle-data on http://127.0.0.1:8080
              zksettle-server --data /var/lib/zksettle --host 0.0.0.0 --min-fee 1
              zksettle-server --port 443 --tls-cert cert.pem --tls-key key.pem
              zksettle-server --data node1 --database postgres://zksettle@db/zksettle

            \(ExitStatus.table)
            """,
        version: ZKSettleVersion.string)

    @Option(help: "Address to listen on (env ZKSETTLE_HOST).")
    var host: String = env("ZKSETTLE_HOST") ?? "127.0.0.1"

    @Option(help: "TCP port (env ZKSETTLE_PORT).")
    var port: Int = env("ZKSETTLE_PORT").flatMap(Int.init) ?? 8080

    @Option(help: "Data directory: ledger, keys, secrets (env ZKSETTLE_DATA).")
    var data: String = env("ZKSETTLE_DATA") ?? "./zksettle-data"

    @Option(name: .customLong("database"), help: "Put the ledger in PostgreSQL: postgres://USER@HOST:PORT/DATABASE (env ZKSETTLE_DATABASE). Any number of nodes started with copies of one data directory and the same URL share the ledger. A password goes in ZKSETTLE_DATABASE or PGPASSWORD, never on the command line. Without it the ledger is the SQLite file in --data.")
    var databaseOption: String?

    var database: String? { databaseOption ?? env("ZKSETTLE_DATABASE") }

    @Option(help: "Bearer token of the admin routes (env ZKSETTLE_ADMIN_TOKEN; default: <data>/admin-token, made on first start).")
    var adminToken: String?

    /// The pipeline's defaults are `SettlementConfig`'s: stated there once.
    private static let defaults = SettlementConfig()

    @Option(help: "Proofs per verification batch (env ZKSETTLE_BATCH_SIZE).")
    var batchSize: Int = env("ZKSETTLE_BATCH_SIZE").flatMap(Int.init) ?? Self.defaults.maxBatch

    @Option(help: "Longest a proof waits for its batch to fill, in milliseconds (env ZKSETTLE_FLUSH_MS).")
    var flushMs: Int = env("ZKSETTLE_FLUSH_MS").flatMap(Int.init) ?? Self.defaults.flushMilliseconds

    @Option(help: "Verifier threads (env ZKSETTLE_WORKERS; default: one per core).")
    var workers: Int = env("ZKSETTLE_WORKERS").flatMap(Int.init) ?? Self.defaults.workers

    @Option(help: "Admitted transfers waiting for verification or commit; beyond it, 503 (env ZKSETTLE_QUEUE).")
    var queueCapacity: Int = env("ZKSETTLE_QUEUE").flatMap(Int.init) ?? Self.defaults.queueCapacity

    @Option(name: .customLong("tree-capacity"), help: "Leaves per commitment tree, a power of two from 32 to 1048576 (env ZKSETTLE_TREE_CAPACITY). When a tree is full the next one starts; notes of every tree stay spendable. Fixed when the ledger is created: default 1048576 (2^20) for a new ledger, the stored value for an existing one, which refuses another.")
    var treeCapacityOption: Int?
    /// `--tree-capacity`, else $ZKSETTLE_TREE_CAPACITY. (An optional option takes no default of its own.)
    var treeCapacity: Int? { treeCapacityOption ?? env("ZKSETTLE_TREE_CAPACITY").flatMap(Int.init) }

    @Option(name: .customLong("open-trees"), help: "Commitment trees that accept leaves at once, each with its own writer, so that several nodes commit in parallel (env ZKSETTLE_OPEN_TREES; 1 to 64; needs --database). Fixed when the ledger is created: default 1 for a new ledger, the stored value for an existing one, which refuses another. Wallets page each tree on its own.")
    var openTreesOption: Int?
    /// `--open-trees`, else $ZKSETTLE_OPEN_TREES.
    var openTrees: Int? { openTreesOption ?? env("ZKSETTLE_OPEN_TREES").flatMap(Int.init) }

    @Option(help: "With several open trees, the lane (tree mod --open-trees) this node writes first; it moves to whichever lane is free when that one is busy (env ZKSETTLE_LANE; default: random). Giving each node its own spreads writers evenly.")
    var lane: Int?
    var firstLane: Int? { lane ?? env("ZKSETTLE_LANE").flatMap(Int.init) }

    @Option(help: "Lowest fee a transfer that spends notes must pay (deposits are exempt), in the ledger's units; below it, 422 fee_too_low (env ZKSETTLE_MIN_FEE; 0 accepts free transfers: set it in production).")
    var minFee: UInt64 = env("ZKSETTLE_MIN_FEE").flatMap { UInt64($0) } ?? Self.defaults.minFee

    @Option(help: "Transfers one client (source address; IPv6: its /64) may have admitted and not yet settled; beyond it, 429 rate_limited (env ZKSETTLE_CLIENT_MAX_IN_FLIGHT; 0: no limit).")
    var clientMaxInFlight: Int = env("ZKSETTLE_CLIENT_MAX_IN_FLIGHT").flatMap(Int.init) ?? Self.defaults.clientMaxInFlight

    @Option(help: "Transfers one client may offer per second, on average; beyond it, 429 rate_limited (env ZKSETTLE_CLIENT_RATE; 0: no limit).")
    var clientRate: Int = env("ZKSETTLE_CLIENT_RATE").flatMap(Int.init) ?? Self.defaults.clientRate

    @Option(help: "Seconds a client whose proof did not verify is on probation: its transfers are verified one at a time on one thread, outside other clients' batches (env ZKSETTLE_PROBATION_SECONDS; 0: never).")
    var probationSeconds: Int = env("ZKSETTLE_PROBATION_SECONDS").flatMap(Int.init) ?? Self.defaults.probationSeconds

    @Option(help: "Transfers of clients on probation waiting for their thread, all together; beyond it, 429 rate_limited (env ZKSETTLE_PROBATION_QUEUE).")
    var probationQueue: Int = env("ZKSETTLE_PROBATION_QUEUE").flatMap(Int.init) ?? Self.defaults.probationQueue

    @Option(help: "Seconds a connection may go without a complete request part before it is closed (env ZKSETTLE_IDLE_TIMEOUT).")
    var idleTimeout: Int = env("ZKSETTLE_IDLE_TIMEOUT").flatMap(Int.init) ?? 30

    @Option(help: "Seconds a request may take from its headers to the end of its body before the connection is closed (env ZKSETTLE_BODY_TIMEOUT).")
    var bodyTimeout: Int = env("ZKSETTLE_BODY_TIMEOUT").flatMap(Int.init) ?? 10

    @Option(name: .customLong("max-connections"), help: "Open connections at most; further ones wait to be accepted (env ZKSETTLE_MAX_CONNECTIONS; default: the file-descriptor limit less 256, at most 16384).")
    var maxConnectionsOption: Int?
    /// `--max-connections`, else $ZKSETTLE_MAX_CONNECTIONS. (An optional option takes no default of its own.)
    var maxConnections: Int? { maxConnectionsOption ?? env("ZKSETTLE_MAX_CONNECTIONS").flatMap(Int.init) }

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (env ZKSETTLE_TLS_CERT; with --tls-key).", valueName: "file"))
    var tlsCertOption: String?
    /// `--tls-cert`, else $ZKSETTLE_TLS_CERT. (An optional option takes no default of its own.)
    var tlsCert: String? { tlsCertOption ?? env("ZKSETTLE_TLS_CERT") }

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert (env ZKSETTLE_TLS_KEY); keep it mode 0600.", valueName: "file"))
    var tlsKeyOption: String?
    /// `--tls-key`, else $ZKSETTLE_TLS_KEY. (An optional option takes no default of its own.)
    var tlsKey: String? { tlsKeyOption ?? env("ZKSETTLE_TLS_KEY") }

    @Option(help: "trace, debug, info, notice, warning, error or critical (env LOG_LEVEL).")
    var logLevel: String = env("LOG_LEVEL") ?? "info"

    @Flag(help: "Refuse all deposits (no deposit key is read or made; no voucher is accepted or issued).")
    var noDeposits = false

    @Flag(name: .customLong("require-ceremony-keys"), help: "Refuse to start on development keys, and never make them: the keys must come from a ceremony (keys/setup.json, written by `zksettle-admin ceremony finalize`). Env ZKSETTLE_REQUIRE_CEREMONY_KEYS=1. Set it in production.")
    var requireCeremonyKeysFlag = false

    /// `--require-ceremony-keys`, else $ZKSETTLE_REQUIRE_CEREMONY_KEYS (1, true or yes).
    var requireCeremonyKeys: Bool {
        requireCeremonyKeysFlag || ["1", "true", "yes"].contains(env("ZKSETTLE_REQUIRE_CEREMONY_KEYS")?.lowercased() ?? "")
    }

    func validate() throws {
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be 0…65535") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard flushMs >= 0 else { throw ValidationError("--flush-ms must be ≥ 0") }
        guard queueCapacity >= 1 else { throw ValidationError("--queue-capacity must be at least 1") }
        guard minFee <= UInt64(Int64.max) else { throw ValidationError("--min-fee must be at most \(Int64.max)") }
        guard clientMaxInFlight >= 0, clientRate >= 0, probationSeconds >= 0 else {
            throw ValidationError("--client-max-in-flight, --client-rate and --probation-seconds must be ≥ 0")
        }
        guard probationQueue >= 1 else { throw ValidationError("--probation-queue must be at least 1") }
        guard idleTimeout >= 1, bodyTimeout >= 1 else { throw ValidationError("--idle-timeout and --body-timeout must be at least 1 second") }
        if let c = treeCapacity, let problem = TreeCapacity.problem(c) { throw ValidationError("--tree-capacity: \(problem)") }
        if let l = firstLane, !(0..<OpenTrees.maximum).contains(l) {
            throw ValidationError("--lane: a lane between 0 and \(OpenTrees.maximum - 1), taken modulo the ledger's open trees")
        }
        if let k = openTrees {
            if let problem = OpenTrees.problem(k) { throw ValidationError("--open-trees: \(problem)") }
            if k > 1 && database == nil {
                throw ValidationError("--open-trees \(k): several open trees need a PostgreSQL ledger (--database); the SQLite file has one writer and one open tree")
            }
        }
        if let url = databaseOption, URLComponents(string: url)?.password != nil {
            throw ValidationError("--database carries a password, which other users can read on the command line: put the URL in ZKSETTLE_DATABASE, or the password in PGPASSWORD")
        }
        if let m = maxConnections, m < 1 {
            throw ValidationError("--max-connections must be at least 1")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    /// The TLS configuration of --tls-cert/--tls-key (TLS 1.2 at least), or nil for plain HTTP.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard let tlsCert, let tlsKey else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tlsCert)
            guard !chain.isEmpty else { throw ServerError("--tls-cert \(tlsCert) holds no certificate") }
            let key = try NIOSSLPrivateKey(file: tlsKey, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return tls
        } catch let e as ServerError {
            throw e
        } catch {
            throw ServerError("cannot load --tls-cert \(tlsCert) / --tls-key \(tlsKey): \(error) (PEM files expected)")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "zksettle.server")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        do {
            let dir = try DataDirectory(path: data)
            let directoryLock = try dir.lockForServer()
            defer { directoryLock.release() }
            logger.info("data directory", metadata: ["path": "\(dir.url.path)"])
            let keys = try TransferKeys.loadOrCreate(in: dir, requireCeremony: requireCeremonyKeys, logger: logger)
            let (receiptKey, receiptCreated) = try dir.receiptKey()
            if receiptCreated { logger.notice("made a new receipt signing key", metadata: ["file": "\(dir.receiptKeyURL.path)"]) }
            // What wallets pin (`zkwallet init --trust`, `zksettle-admin params fingerprint`).
            let fingerprint = ParametersFingerprint.hex(circuitID: keys.circuitID, verifyingKey: keys.verifyingKey, receiptPublicKey: receiptKey.publicKey)
            logger.notice("parameters fingerprint: \(fingerprint)", metadata: ["circuit_id": "\(keys.circuitID)", "setup": "\(keys.setup.kind.rawValue)"])

            var config = settlementConfig()
            config.sharedLedger = database != nil
            var depositKey: Ed25519Key?
            if !noDeposits {
                let (key, created) = try dir.depositKey()
                let path = dir.depositKeyURL.path
                if created { logger.notice("made a new deposit key (it signs deposit vouchers)", metadata: ["file": "\(path)"]) }
                depositKey = key
                config.acceptDeposits(of: key)
            }
            if FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("deposit-token").path) {
                logger.warning("<data>/deposit-token is no longer used: deposits need single-use vouchers (zksettle-admin deposits voucher); delete the file")
            }
            let admin = try resolve(adminToken, env: "ZKSETTLE_ADMIN_TOKEN", file: DataDirectory.adminTokenFile, in: dir, logger: logger)

            let ledger = try openLedger(dir, fingerprint: fingerprint, depositKey: depositKey, readers: config.readThreads, logger: logger)
            let service = try SettlementService(config: config, ledger: ledger, verifyingKey: keys.verifyingKey,
                                                receiptKey: receiptKey, logger: Logger(label: "zksettle.settlement"))
            let api = SettlementAPI(service: service, parameters: PublicParameters(
                circuitID: keys.circuitID, verifyingKey: keys.verifyingKey, receiptPublicKey: receiptKey.publicKey,
                provingKeyPath: dir.provingKeyURL.path, setup: keys.publishedSetup),
                adminToken: admin, registry: registry, depositKey: depositKey)
            let host = self.host, port = self.port, settings = config
            let descriptors = FileDescriptorLimit.raise()
            let connections = maxConnections ?? max(64, min(16384, descriptors - 256))
            logger.info("connection limits", metadata: [
                "max_connections": "\(connections)", "file_descriptors": "\(descriptors)",
                "idle_timeout_s": "\(idleTimeout)", "body_timeout_s": "\(bodyTimeout)",
            ])
            let http1 = SettlementAPI.http1Server(idleTimeout: .seconds(Int64(idleTimeout)), bodyTimeout: .seconds(Int64(bodyTimeout)))
            let tls = try tlsConfiguration()
            let scheme = tls == nil ? "http" : "https"
            let app = Application(
                router: api.makeRouter(),
                server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
                configuration: .init(address: .hostname(host, port: port), serverName: "zksettle",
                                     availableConnectionsDelegate: SettlementAPI.connectionLimit(connections)),
                services: [SettlementLifecycle(service: service)],
                onServerRunning: { channel in
                    let bound = channel.localAddress?.port ?? port
                    logger.notice("zksettle-server listening", metadata: [
                        "url": "\(scheme)://\(host):\(bound)", "batch_size": "\(settings.maxBatch)", "workers": "\(settings.workers)",
                        "deposits": "\(settings.depositPublicKey != nil ? "vouchers" : "disabled")",
                    ])
                },
                logger: Logger(label: "zksettle.http"))
            do { try await app.runService() } catch let e as IOError where e.errnoCode == EADDRINUSE {
                throw ServerError("\(host) port \(port) is already in use (another server?): stop what listens there, or choose another --port")
            }
            logger.notice("zksettle-server stopped")
        } catch let e as ServerError {
            // In the log, and as every tool's last word: `error: …`, exit 1.
            logger.critical("\(e.description)")
            throw StartFailure(description: e.description)
        } catch let e as DataDirectoryError {
            logger.critical("\(e.description)")
            throw StartFailure(description: e.description)
        }
    }

    /// The SQLite file in the data directory, or (with --database) the PostgreSQL ledger,
    /// bound to this node's keys: a node whose keys are not the ledger's refuses to start.
    func openLedger(_ dir: DataDirectory, fingerprint: String, depositKey: Ed25519Key?, readers: Int, logger: Logger) throws -> any Ledger {
        guard let url = database else {
            do { return try SQLiteLedger(path: dir.ledgerPath, treeCapacity: treeCapacity) } catch let e as LedgerError {
                if case .treeCapacity = e { throw ServerError("\(dir.ledgerPath): \(e.description)") }
                throw e
            }
        }
        do {
            let ledger = try PostgresLedger(url: url, treeCapacity: treeCapacity, openTrees: openTrees, readers: readers,
                                            logger: Logger(label: "zksettle.postgres"))
            var keys: [(name: String, bytes: [UInt8])] = [("parameters (circuit, verifying key, receipt key)", Array(fingerprint.utf8))]
            if let depositKey { keys.append(("deposit key", depositKey.publicKey)) }
            try ledger.bindKeys(keys)
            logger.notice("ledger: PostgreSQL", metadata: ["database": "\(ledger.displayURL)", "tree_capacity": "\(ledger.treeCapacity)",
                                                          "open_trees": "\(ledger.openTrees)"])
            return ledger
        } catch let e as LedgerError {
            throw ServerError("the PostgreSQL ledger: \(e.description)")
        }
    }

    /// The pipeline's tunables from the flags (deposits are added once their key is loaded).
    func settlementConfig() -> SettlementConfig {
        var config = SettlementConfig()
        config.maxBatch = batchSize
        config.flushMilliseconds = flushMs
        config.workers = workers
        config.queueCapacity = queueCapacity
        config.minFee = minFee
        config.clientMaxInFlight = clientMaxInFlight
        config.firstLane = firstLane
        config.clientRate = clientRate
        config.probationSeconds = probationSeconds
        config.probationQueue = probationQueue
        return config
    }

    /// A secret from its flag, its environment variable, or its file (made on first start).
    func resolve(_ flag: String?, env name: String, file: String, in dir: DataDirectory, logger: Logger) throws -> String {
        if let flag { return flag }
        if let v = env(name), !v.isEmpty { return v }
        let (value, created) = try dir.secret(file)
        let path = dir.url.appendingPathComponent(file).path
        if created {
            logger.notice("made a new \(file)", metadata: ["file": "\(path)"])
        } else {
            logger.info("using \(file)", metadata: ["file": "\(path)"])
        }
        return value
    }
}

func env(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

/// The server could not start or stopped on an error: `error: …` and exit 1 (`ToolMain`).
struct StartFailure: ExitStatusError {
    let description: String
    var exitStatus: ExitStatus { .failure }
}

/// The process's limit on open files, which bounds how many connections it can hold.
enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit (as servers do; the default soft limit is often
    /// 1,024) and returns the limit now in force.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
