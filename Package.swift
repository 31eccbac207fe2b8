// swift-tools-version:6.1
import PackageDescription

// One list of settings for every Swift target (as Hummingbird does). Release builds of the
// arithmetic skip exclusivity checks: the field code passes pointers to GMP on every operation.
// Strict concurrency is the Swift 6 language mode (on for every target). Release builds of the
// arithmetic skip exclusivity checks: the field code passes pointers to GMP on every operation,
// and the prover's MSM and NTT loops cost measurably more with them (BENCHMARKS.md,
// "Exclusivity": proving 3–6 % slower with them; batch verification unchanged, so Groth16 keeps
// them). Every other target keeps them: a server, a wallet and the CLIs trade no safety for speed.
let arithmeticSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
let swiftSettings: [SwiftSetting] = []

let package = Package(
    name: "ZKSettle",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "BN254", targets: ["BN254"]),
        .library(name: "Groth16", targets: ["Groth16"]),
        .library(name: "Protocol", targets: ["Protocol"]),
        .library(name: "Settlement", targets: ["Settlement"]),
        .library(name: "SettlementHTTP", targets: ["SettlementHTTP"]),
        .library(name: "Groth16Prover", targets: ["Groth16Prover"]),
        .library(name: "Circuits", targets: ["Circuits"]),
        .library(name: "Primitives", targets: ["Primitives"]),
        .library(name: "R1CS", targets: ["R1CS"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "SQLiteLedger", targets: ["SQLiteLedger"]),
        .library(name: "PostgresLedger", targets: ["PostgresLedger"]),
        .library(name: "SettlementClient", targets: ["SettlementClient"]),
        .library(name: "Wallet", targets: ["Wallet"]),
        .library(name: "TerminalUI", targets: ["TerminalUI"]),
        .library(name: "Ceremony", targets: ["Ceremony"]),
        // The network-facing decoders as fuzz targets, for the libFuzzer binaries in Fuzz/.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .executable(name: "zksettle-admin", targets: ["zksettle-admin"]),
        .executable(name: "zksettle-bench", targets: ["zksettle-bench"]),
        .executable(name: "zksettle-server", targets: ["zksettle-server"]),
        .executable(name: "zkwallet", targets: ["zkwallet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through Hummingbird; named for the connection-deadline handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The HTTP client of the wallet, the admin tool and the load generator (HTTPS, timeouts,
        // bounded bodies); HummingbirdTesting already brings it into the build.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // TLS for the server's --tls-cert/--tls-key and the clients' --ca-file.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The PostgreSQL ledger's driver (issue 16): many nodes, one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries (Debian: libgmp-dev, libssl-dev, libsqlite3-dev). Each has one owner:
        // BN254 imports CGMP, Primitives imports COpenSSL, SQLite imports CSQLite (CI checks it).
        .systemLibrary(name: "CGMP", path: "Sources/CGMP", providers: [.apt(["libgmp-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),

        // Algebra: BN254 fields, curves, pairing, MSM, NTT, Poseidon on GMP's mpn layer;
        // the one parallelMap and core count.
        .target(name: "BN254", dependencies: ["CGMP"], swiftSettings: arithmeticSettings),
        // OpenSSL behind Swift types: SHA-256, CSPRNG, Ed25519, X25519, HKDF, ChaCha20-Poly1305, hex.
        .target(name: "Primitives", dependencies: ["BN254", "COpenSSL"], swiftSettings: swiftSettings),
        // Proof system: Groth16 verification (snarkjs JSON), batch verification.
        .target(name: "Groth16", dependencies: ["BN254", "Primitives"], swiftSettings: swiftSettings),
        // Constraint systems: the R1CS type, the builder, iden3 .r1cs/.wtns files.
        .target(name: "R1CS", dependencies: ["BN254", "Primitives"], path: "circuits/R1CS", swiftSettings: swiftSettings),
        // Prover side: development setup, proving keys, the Groth16 prover (MSM, NTT).
        .target(name: "Groth16Prover", dependencies: ["BN254", "Groth16", "R1CS", "Primitives"], swiftSettings: arithmeticSettings),
        // Protocol v1 shared by server and wallet: keys, notes, the tree, the transfer statement,
        // and the wire (every v1 JSON shape, one encoder and one decoder each).
        .target(name: "Protocol", dependencies: ["BN254", "Primitives", "Groth16"], swiftSettings: swiftSettings),
        // Circuits: gadgets beside their native twins, the transfer circuit.
        .target(name: "Circuits", dependencies: ["BN254", "R1CS", "Protocol", "Primitives"], path: "circuits", exclude: ["R1CS"],
                swiftSettings: swiftSettings),

        // The ledger's records and its reading and writing protocols (no storage engine).
        .target(name: "Ledger", dependencies: ["BN254", "Groth16", "Protocol", "Primitives"], swiftSettings: swiftSettings),
        // One SQLite wrapper (connections, statements, errors) for the ledger and the wallet.
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        // The ledger in a SQLite file: schema, commit, audit, proof audit, fault points.
        .target(name: "SQLiteLedger", dependencies: ["BN254", "Groth16", "Protocol", "Primitives", "Ledger", "SQLite"],
                swiftSettings: swiftSettings),
        // The ledger in PostgreSQL (issue 16): the same records and invariants as the SQLite
        // file, for any number of nodes; the database decides every conflict.
        .target(name: "PostgresLedger", dependencies: ["BN254", "Groth16", "Protocol", "Primitives", "Ledger",
                                                       .product(name: "PostgresNIO", package: "postgres-nio"),
                                                       .product(name: "NIOCore", package: "swift-nio"),
                                                       .product(name: "NIOPosix", package: "swift-nio"),
                                                       .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                       .product(name: "Logging", package: "swift-log")],
                swiftSettings: swiftSettings),
        // The settlement pipeline: admission, verifier pool, sequencer, service.
        // Needs the verifier, never the prover or the circuits.
        .target(name: "Settlement", dependencies: ["BN254", "Groth16", "Protocol", "Primitives", "Ledger",
                                                   .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "Metrics", package: "swift-metrics")],
                swiftSettings: swiftSettings),
        // HTTP API v1 on Hummingbird 2: routes, JSON, error mapping (docs/DESIGN.md).
        .target(name: "SettlementHTTP", dependencies: ["Settlement", "Ledger", "Protocol", "Primitives", "Groth16", "BN254",
                                                       .product(name: "Hummingbird", package: "hummingbird"),
                                                       .product(name: "HummingbirdCore", package: "hummingbird"),
                                                       .product(name: "NIOCore", package: "swift-nio"),
                                                       .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                       .product(name: "Prometheus", package: "swift-prometheus"),
                                                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                resources: [.copy("openapi.yaml")],
                swiftSettings: swiftSettings),
        // The HTTP client of v1 (wallet, admin tool, load generator): typed calls, one error decoder.
        .target(name: "SettlementClient", dependencies: ["BN254", "Groth16", "Protocol", "Primitives",
                                                         .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                         .product(name: "NIOCore", package: "swift-nio"),
                                                         .product(name: "NIOHTTP1", package: "swift-nio"),
                                                         .product(name: "NIOSSL", package: "swift-nio-ssl")],
                swiftSettings: swiftSettings),

        // Peer side: notes, sync, coin selection, proving and submitting transfers.
        .target(name: "Wallet", dependencies: ["BN254", "Groth16", "Groth16Prover", "R1CS", "Circuits", "Protocol", "Primitives",
                                               "SettlementClient", "SQLite"],
                swiftSettings: swiftSettings),
        // The server's data directory: its layout, secrets made on first start, private writes.
        .target(name: "DataDirectory", dependencies: ["Primitives"], swiftSettings: swiftSettings),
        // What the command-line tools print: JSON, tables, times, the progress bar.
        .target(name: "TerminalUI", dependencies: ["Protocol", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: swiftSettings),
        // Keys from a ceremony (issue 18): snarkjs .ptau (phase 1) and .zkey (phase 2) files,
        // contributions, transcript verification, and the snarkjs-compatible prover for any circuit.
        .target(name: "Ceremony", dependencies: ["BN254", "Groth16", "Groth16Prover", "R1CS", "Primitives"], swiftSettings: swiftSettings),
        // The development setup of first start (toxic waste discarded, unsafe for real funds).
        // Only the executables link it, so no library the server is built from reaches the prover.
        .target(name: "DevelopmentKeys", dependencies: ["Circuits", "Groth16Prover", "Groth16", "Protocol"], swiftSettings: swiftSettings),
        // The decoders that face the network, as fuzz targets (Fuzz/ wraps them for libFuzzer).
        .target(name: "FuzzTargets", dependencies: ["BN254", "Groth16", "Protocol", "Primitives"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "zksettle-server",
            dependencies: ["Settlement", "SettlementHTTP", "SQLiteLedger", "PostgresLedger", "Ledger", "DevelopmentKeys", "DataDirectory", "Protocol", "Primitives", "Groth16", "TerminalUI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: swiftSettings),
        // The peer's command-line wallet.
        .executableTarget(
            name: "zkwallet",
            dependencies: ["Wallet", "SettlementClient", "TerminalUI", "Protocol", "Primitives", "Groth16", "BN254",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        // The operator's and auditor's tool.
        .executableTarget(
            name: "zksettle-admin",
            dependencies: ["Groth16", "BN254", "R1CS", "Circuits", "Groth16Prover", "Ceremony", "Protocol", "Primitives", "Ledger", "SQLiteLedger",
                           "PostgresLedger", "SettlementClient", "DataDirectory", "TerminalUI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "zksettle-bench",
            dependencies: ["BN254", "Groth16", "Groth16Prover", "R1CS", "Circuits", "Protocol", "Primitives", "Ledger", "SQLiteLedger",
                           "PostgresLedger", "SettlementClient", "DevelopmentKeys", "Settlement", "Wallet", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),

        // Shared by the test targets: where the vectors are, a seeded generator, blocking work.
        .target(name: "TestSupport", dependencies: ["SQLite", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                   .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log")],
                path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "BN254Tests", dependencies: ["BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "Groth16Tests", dependencies: ["Groth16", "BN254", "Primitives", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SettlementTests", dependencies: ["Settlement", "Ledger", "SQLiteLedger", "PostgresLedger", "SQLite", "Protocol", "Primitives", "Groth16", "BN254",
                                                           "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SettlementHTTPTests", dependencies: ["SettlementHTTP", "Settlement", "Ledger", "SQLiteLedger", "PostgresLedger", "Protocol", "Primitives",
                                                               "Groth16", "BN254", "TestSupport", "SettlementClient", "Wallet", "Circuits",
                                                               "Groth16Prover", "DevelopmentKeys", "zksettle-server", "zksettle-admin",
                                                               .product(name: "Prometheus", package: "swift-prometheus"),
                                                               .product(name: "HummingbirdCore", package: "hummingbird"),
                                                               .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol", "Primitives", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "Groth16ProverTests", dependencies: ["Groth16Prover", "R1CS", "Groth16", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "R1CS", "Protocol", "Primitives", "Groth16Prover", "Groth16", "BN254",
                                                         "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "WalletTests", dependencies: ["Wallet", "SettlementClient", "Protocol", "Primitives", "BN254", "TestSupport", "zkwallet",
                                                       "zksettle-server", "zksettle-admin", "Settlement", "SettlementHTTP", "Ledger", "SQLiteLedger",
                                                       "SQLite", "Groth16", "Groth16Prover", "R1CS", "Circuits", "DevelopmentKeys",
                                                       .product(name: "Prometheus", package: "swift-prometheus"),
                                                       .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "CeremonyTests", dependencies: ["Ceremony", "Groth16Prover", "R1CS", "Groth16", "BN254", "Primitives", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "FuzzTargetTests", dependencies: ["FuzzTargets", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["zksettle-admin", "zksettle-server", "zksettle-bench", "zkwallet", "Protocol", "TestSupport"], swiftSettings: swiftSettings),
    ]
)
