import Foundation

/// Where the reference vectors live: `$ZKSETTLE_VECTORS` if set, else `Tests/Vectors` of this
/// repository (Tests/Vectors/README.md says which tools made and checked each file). There is
/// no other fallback: a missing file fails the test that reads it.
public enum SharedVectors {
    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["ZKSETTLE_VECTORS"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repositoryRoot.appendingPathComponent("Tests/Vectors")
    }

    /// The repository root, found from this source file's path.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // TestSupport
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // root
    }

    public static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    /// A JSON document of the vectors as Foundation objects.
    public static func json(_ relative: String) throws -> Any {
        let data = try Data(contentsOf: url(relative))
        return try JSONSerialization.jsonObject(with: data)
    }
}

/// A seeded generator for property tests (SplitMix64). The seed is printed by each test and
/// can be forced with `ZKSETTLE_SEED` to replay a failure.
public struct SeededGenerator: RandomNumberGenerator {
    public private(set) var state: UInt64
    public let seed: UInt64

    public init(label: String) {
        if let s = ProcessInfo.processInfo.environment["ZKSETTLE_SEED"], let v = UInt64(s) {
            seed = v
        } else {
            seed = UInt64.random(in: 1...UInt64.max)
        }
        state = seed
        print("[\(label)] seed \(seed) (set ZKSETTLE_SEED=\(seed) to replay)")
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
