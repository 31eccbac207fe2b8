// swift-tools-version:6.1
import PackageDescription

// libFuzzer binaries for the decoders that face the network (issue 7). The targets themselves
// live in the main package (target FuzzTargets), so the ordinary test run replays their seeds
// and every saved finding. Build and run with scripts/fuzz.sh; see README.md here.
let targets = ["proof-json", "vk-json", "transfer-body", "note-ciphertext", "address-string", "server-answer"]

let package = Package(
    name: "ZKSettleFuzz",
    dependencies: [.package(name: "ZKSettle", path: "..")],
    targets: targets.map {
        .executableTarget(name: "fuzz-\($0)", dependencies: [.product(name: "FuzzTargets", package: "ZKSettle")])
    }
)
