// swift-tools-version:6.1
import PackageDescription

// One list of settings for every Swift target (as Hummingbird does). Release builds of the
// arithmetic skip exclusivity checks: the field code passes pointers to GMP on every operation.
let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

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
    ],
    targets: [
        // System libraries (Debian: libgmp-dev, libssl-dev).
        .systemLibrary(name: "CGMP", path: "Sources/CGMP", providers: [.apt(["libgmp-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),

        // Algebra: BN254 fields, curves, pairing on GMP's mpn layer.
        .target(name: "BN254", dependencies: ["CGMP"], swiftSettings: swiftSettings),
        // Proof system: Groth16 verification (snarkjs JSON), batch verification.
        .target(name: "Groth16", dependencies: ["BN254", "COpenSSL"], swiftSettings: swiftSettings),
        // Protocol v1 shared by server and wallet: notes, nullifiers, external data, the tree.
        .target(name: "Protocol", dependencies: ["BN254", "COpenSSL"], swiftSettings: swiftSettings),
        // Settlement domain: admission, verifier pool, sequencer, the ledger (SQLite).
        // Needs the verifier, never the prover or the circuits.
        .target(name: "Settlement", dependencies: ["BN254", "Groth16", "Protocol", "CSQLite",
                                                   .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "Metrics", package: "swift-metrics")],
                swiftSettings: swiftSettings),
        // HTTP API v1 on Hummingbird 2: routes, JSON, error mapping (DESIGN.md section 6).
        .target(name: "SettlementHTTP", dependencies: ["Settlement", "Protocol", "Groth16", "BN254",
                                                       .product(name: "Hummingbird", package: "hummingbird"),
                                                       .product(name: "HummingbirdCore", package: "hummingbird"),
                                                       .product(name: "NIOCore", package: "swift-nio"),
                                                       .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                       .product(name: "Prometheus", package: "swift-prometheus"),
                                                       .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                resources: [.copy("openapi.yaml")],
                swiftSettings: swiftSettings),
        // Prover side: R1CS, development setup, proving keys, the Groth16 prover (MSM, NTT).
        // The server links Groth16 only; wallets and tools link this.
        .target(name: "Groth16Prover", dependencies: ["BN254", "Groth16", "Protocol"], swiftSettings: swiftSettings),
        // Circuits: R1CS builder, gadgets beside their native twins, the transfer circuit.
        .target(name: "Circuits", dependencies: ["BN254", "Protocol", "Groth16Prover"], path: "circuits", swiftSettings: swiftSettings),

        // Peer side: proving transfers from notes (the wallet grows here).
        .target(name: "Wallet", dependencies: ["BN254", "Groth16", "Groth16Prover", "Circuits", "Protocol", "Settlement", "CSQLite",
                                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                               .product(name: "NIOCore", package: "swift-nio"),
                                               .product(name: "NIOHTTP1", package: "swift-nio"),
                                               .product(name: "NIOSSL", package: "swift-nio-ssl")],
                swiftSettings: swiftSettings),
        // The decoders that face the network, as fuzz targets (Fuzz/ wraps them for libFuzzer).
        .target(name: "FuzzTargets", dependencies: ["BN254", "Groth16", "Protocol", "Settlement"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "zksettle-server",
            dependencies: ["Settlement", "SettlementHTTP", "Protocol", "Groth16", "Groth16Prover", "Circuits",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: swiftSettings),
        // The peer's command-line wallet.
        .executableTarget(
            name: "zkwallet",
            dependencies: ["Wallet", "Protocol", "Groth16", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "zksettle-admin",
            dependencies: ["Groth16", "BN254", "Circuits", "Protocol", "Settlement", "Wallet", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "zksettle-bench",
            dependencies: ["BN254", "Groth16", "Groth16Prover", "Circuits", "Protocol", "Settlement", "Wallet", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),

        // Shared by the test targets: where ../shared/vectors is, a seeded generator.
        .target(name: "TestSupport", dependencies: ["CSQLite"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "BN254Tests", dependencies: ["BN254", "CGMP", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "Groth16Tests", dependencies: ["Groth16", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SettlementTests", dependencies: ["Settlement", "Protocol", "Groth16", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SettlementHTTPTests", dependencies: ["SettlementHTTP", "Settlement", "Protocol", "Groth16", "BN254", "TestSupport",
                                                               "Wallet", "Circuits", "Groth16Prover", "zksettle-server", "zksettle-admin",
                                                               .product(name: "Prometheus", package: "swift-prometheus"),
                                                               .product(name: "HummingbirdCore", package: "hummingbird"),
                                                               .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "ProtocolTests", dependencies: ["Protocol", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "Groth16ProverTests", dependencies: ["Groth16Prover", "Groth16", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "Protocol", "Groth16Prover", "Groth16", "BN254", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "WalletTests", dependencies: ["Wallet", "Protocol", "BN254", "TestSupport", "zkwallet", "zksettle-server", "zksettle-admin",
                                                       "Settlement", "SettlementHTTP", "Groth16", "Groth16Prover", "Circuits",
                                                       .product(name: "Prometheus", package: "swift-prometheus"),
                                                       .product(name: "HummingbirdTesting", package: "hummingbird")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "FuzzTargetTests", dependencies: ["FuzzTargets", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["zksettle-admin", "zksettle-server", "zksettle-bench", "TestSupport"], swiftSettings: swiftSettings),
    ]
)
